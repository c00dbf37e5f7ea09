"""Pre-parse safety checks for uploaded files (pure standard library, fast).

``check_file`` looks at a file *before* any spreadsheet library touches it and raises
:class:`UnsafeFileError` (with a Japanese message a clerk can act on) when the file is empty,
too large, not what its extension says, damaged, a decompression bomb, or a workbook whose
used range would make a reader allocate an absurd grid.

What is checked, per type:

``.xlsx`` / ``.xlsm``
    * it is a zip archive (an OLE2 file here means a password-protected or renamed ``.xls``);
    * end-of-central-directory record: entry count and directory size are sane;
    * declared sizes: their sum (``max_uncompressed_bytes``) and, for entries above 1 MiB,
      the per-entry ratio (``max_entry_ratio``); encrypted entries and compression methods
      other than stored/deflate are refused;
    * local headers: present, inside the file, not overlapping each other (overlapping
      entries are the "better zip bomb" construction);
    * **every** entry is inflated through a bounded stream that never trusts the declared
      size: it fails as soon as the real output exceeds it, and checks the length and the
      CRC at the end (a truncated or bit-flipped file is reported as damaged here, before
      any library raises its own exception type);
    * every worksheet (``xl/worksheets/*.xml``) is scanned while it is inflated for the
      largest row and column that actually hold a cell; more than ``max_columns`` columns,
      more than ``max_rows`` rows or a ``rows x cols`` grid above ``max_cells`` is refused.

``.xls``
    size and the OLE2 signature (text/HTML "Excel" exports and renamed ``.xlsx`` files get a
    specific message).

``.csv`` (also ``.tsv``/``.txt``)
    size, and no NUL byte in the first 64 KiB (UTF-16 text and renamed workbooks get a
    specific message).

The sheet scan and the ``<dimension>`` header
---------------------------------------------
The used range is the bounding box (from A1) of the cells present in ``<sheetData>``, the
grid a reader allocates. The ``<dimension ref>`` header is read and reported by
:func:`sheet_extents`, but it is not a reason to refuse a file: calamine ignores it (measured:
a sheet with two cells and ``<dimension ref="A1:XFD1048576"/>`` reads fine) and it lies in
both directions in real files. Self-closing cells (``<c r="XFD1" s="3"/>``: formatted, no
value) are ignored as calamine ignores them; every other ``<c>`` counts.

The scan has two modes. The fast mode handles the form every mainstream writer produces
(``<c r="A1" ...>``, ``r`` first, optionally with a namespace prefix): per 1 MiB chunk it
runs a handful of C-level regex searches that look only for cells *beyond* the extent seen
so far, so an ordinary sheet costs a few passes of the regex engine and no per-cell Python
work. Any cell without ``r`` (or with ``r`` not first, odd quoting, another prefix) switches
the sheet to the exact mode, which replays calamine's position logic tag by tag (cells
without ``r`` continue from the previous cell; rows without ``r`` follow the previous row).
"""

from __future__ import annotations

import html
import math
import posixpath
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, NoReturn

__all__ = [
    "Limits",
    "SheetExtent",
    "UnsafeFileError",
    "check_file",
    "column_letters",
    "sheet_extents",
]

KiB: Final = 1024
MiB: Final = 1024 * 1024

XLSX_SUFFIXES: Final = frozenset({".xlsx", ".xlsm"})
XLS_SUFFIXES: Final = frozenset({".xls"})
TEXT_SUFFIXES: Final = frozenset({".csv", ".tsv", ".txt"})

OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_LOCAL_MAGIC: Final = b"PK\x03\x04"
ZIP_EMPTY_MAGIC: Final = b"PK\x05\x06"

#: a real workbook has tens of parts; a few hundred with many sheets and images
MAX_ZIP_ENTRIES: Final = 10_000
#: bytes of central directory we are willing to let ``zipfile`` parse
MAX_CENTRAL_DIRECTORY_BYTES: Final = 64 * MiB
#: entries smaller than this are exempt from the compression-ratio check
RATIO_EXEMPT_BYTES: Final = 1 * MiB
#: compressed bytes read per step / inflated bytes produced per step
READ_CHUNK: Final = 512 * KiB
INFLATE_STEP: Final = 4 * MiB
#: a single ``<c>``/``<row>`` start tag longer than this is not a spreadsheet
MAX_TAG_BYTES: Final = 64 * KiB
#: workbook.xml / workbook.xml.rels are read whole only below this size (for sheet names)
MAX_NAMES_PART_BYTES: Final = 16 * MiB
#: bytes at the start of a text file inspected for NUL bytes
TEXT_SNIFF_BYTES: Final = 64 * KiB

EXCEL_MAX_COLUMNS: Final = 16_384


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 200 * 1024**2
    max_uncompressed_bytes: int = 2 * 1024**3  # sum over zip entries
    max_entry_ratio: float = 200.0  # uncompressed/compressed per entry (entries > 1 MiB only)
    max_columns: int = 1000
    max_cells: int = 60_000_000  # rows*cols of a sheet's used range
    max_rows: int = 1_048_576


class UnsafeFileError(Exception):
    """Raised with a Japanese, clerk-readable message (str(exc)) naming the problem.

    ``kind`` says which check refused the file, for logs and tests: ``"empty"``,
    ``"too_large"``, ``"not_excel"``, ``"encrypted"``, ``"corrupt"``, ``"bomb"``,
    ``"sheet_range"``, ``"not_text"``.
    """

    def __init__(self, message: str, kind: str = "unsafe") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class SheetExtent:
    """What the scan found in one worksheet part."""

    part: str  # zip entry name, e.g. "xl/worksheets/sheet1.xml"
    name: str  # sheet name from workbook.xml, or "シートN" (N-th worksheet part) when unknown
    max_row: int  # 1-based; 0 when the sheet holds no cell
    max_col: int  # 1-based; 0 when the sheet holds no cell
    dimension: str | None  # the <dimension ref> header as written, if any

    @property
    def corner(self) -> str:
        """Bottom-right cell of the used range, e.g. ``XFD1048576``."""
        if not self.max_row or not self.max_col:
            return ""
        return f"{column_letters(self.max_col)}{self.max_row}"


# ----------------------------------------------------------------------------- public API


def check_file(path: Path, limits: Limits = Limits()) -> None:
    """Raise :class:`UnsafeFileError` when ``path`` must not be handed to a reader.

    ``OSError`` (missing file, permission denied, I/O error) propagates unchanged.
    """
    path = Path(path)
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeFileError("通常のファイルではないため読み込めません。", "not_excel")
    size = st.st_size
    if size == 0:
        raise UnsafeFileError("ファイルが空です（0バイト）。保存し直したファイルを選び直してください。", "empty")
    if size > limits.max_file_bytes:
        raise UnsafeFileError(
            f"ファイルが大きすぎます（{_size_text(size, up=True)}、"
            f"上限{_size_text(limits.max_file_bytes, up=False)}）。"
            "不要なシートや行を削除するか、ファイルを分割してください。",
            "too_large",
        )
    suffix = path.suffix.lower()
    with path.open("rb") as fp:
        head = fp.read(8)
        if suffix in XLSX_SUFFIXES:
            _check_xlsx(fp, head, size, limits)
        elif suffix in XLS_SUFFIXES:
            _check_xls(head)
        elif suffix in TEXT_SUFFIXES:
            fp.seek(0)
            _check_text(fp.read(TEXT_SNIFF_BYTES), suffix)


def sheet_extents(path: Path, limits: Limits = Limits()) -> list[SheetExtent]:
    """Run the ``.xlsx`` checks and return what the sheet scan found for every worksheet.

    Raises :class:`UnsafeFileError` exactly as :func:`check_file` does. Useful to compare a
    reader's output with the truth (a ``<dimension>`` smaller than the extent means
    openpyxl's read-only mode would truncate the sheet).
    """
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as fp:
        head = fp.read(8)
        return _check_xlsx(fp, head, size, limits)


def column_letters(col: int) -> str:
    """1 -> ``A``, 27 -> ``AA``, 16384 -> ``XFD``."""
    out = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


# ----------------------------------------------------------------------------- messages


def _size_text(n: int, *, up: bool) -> str:
    """Human size; rounded up for the file's size and down for the limit, so that a file
    over the limit never reads as equal to it."""
    rnd = math.ceil if up else math.floor
    for unit, factor in (("GB", 1024**3), ("MB", MiB), ("KB", KiB)):
        if n >= factor:
            value = n / factor
            if value < 10 and not float(value).is_integer():
                return f"{rnd(value * 10) / 10:g}{unit}"
            return f"{rnd(value)}{unit}"
    return f"{n}バイト"


_MSG_NOT_EXCEL: Final = (
    "Excelファイルとして開けません（壊れているか、別の形式です）。"
    "Excelで開いて「Excel ブック (*.xlsx)」形式で保存し直してください。"
)


def _corrupt(detail: str) -> UnsafeFileError:
    return UnsafeFileError(
        f"Excelファイルが壊れているため開けません（{detail}）。"
        "元のファイルをもう一度保存するか、コピーし直してください。",
        "corrupt",
    )


def _bomb(detail: str) -> UnsafeFileError:
    return UnsafeFileError(
        "圧縮されたデータが異常に大きく展開されるため読み込みを中止しました"
        f"（{detail}）。正しいExcelファイルか確認してください。",
        "bomb",
    )


def _range_error(sheet: str, max_row: int, max_col: int) -> UnsafeFileError:
    corner = f"{column_letters(max_col)}{max_row}"
    return UnsafeFileError(
        f"シートの範囲が異常に広いため読み込みを中止しました（{sheet}: {corner} まで）。"
        "不要なセルを削除して保存し直してください。",
        "sheet_range",
    )


# ----------------------------------------------------------------------------- .xls / text


def _check_xls(head: bytes) -> None:
    if head.startswith(OLE_MAGIC):
        return
    if head.startswith(ZIP_LOCAL_MAGIC):
        raise UnsafeFileError(
            "拡張子は .xls ですが、中身は新しい形式（.xlsx）のExcelファイルです。"
            "拡張子を .xlsx に変えてから選び直してください。",
            "not_excel",
        )
    if _looks_textual(head):
        raise UnsafeFileError(
            "拡張子は .xls ですが、Excelファイルではありません（テキストまたはHTML形式の"
            "可能性があります）。Excelで開いて「Excel ブック (*.xlsx)」形式で保存し直して"
            "ください。",
            "not_excel",
        )
    raise UnsafeFileError(_MSG_NOT_EXCEL, "not_excel")


def _looks_textual(head: bytes) -> bool:
    return bool(head) and all(b >= 0x20 or b in b"\t\r\n" for b in head)


def _check_text(head: bytes, suffix: str) -> None:
    label = suffix.lstrip(".").upper()
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnsafeFileError(
            f"{label}ファイルがUTF-16形式で保存されています。"
            "「CSV UTF-8 (コンマ区切り)」または「CSV (コンマ区切り)」で保存し直してください。",
            "not_text",
        )
    if head.startswith(ZIP_LOCAL_MAGIC):
        raise UnsafeFileError(
            f"拡張子は {suffix} ですが、中身はExcelファイル（.xlsx）です。"
            "拡張子を .xlsx に変えてから選び直してください。",
            "not_text",
        )
    if head.startswith(OLE_MAGIC):
        raise UnsafeFileError(
            f"拡張子は {suffix} ですが、中身はExcelファイル（.xls）です。"
            "拡張子を .xls に変えてから選び直してください。",
            "not_text",
        )
    if b"\x00" in head:
        raise UnsafeFileError(
            f"{label}ファイルとして読めません（文字ではないデータが含まれています）。"
            f"{label}形式で保存し直してください。",
            "not_text",
        )


# ----------------------------------------------------------------------------- .xlsx


@dataclass(frozen=True)
class _EndRecord:
    entries: int
    cd_size: int


def _read_end_record(fp: BinaryIO, size: int) -> _EndRecord:
    tail_len = min(size, 22 + 65_535)
    fp.seek(size - tail_len)
    tail = fp.read(tail_len)
    i = tail.rfind(ZIP_EMPTY_MAGIC)
    if i < 0 or i + 22 > len(tail):
        raise _corrupt("ファイルが途中で切れています")
    (_, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, _) = struct.unpack_from("<4s4H2LH", tail, i)
    entries, directory = n_total, cd_size
    if n_total == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        loc = i - 20
        if loc >= 0 and tail[loc : loc + 4] == b"PK\x06\x07":
            (z64_offset,) = struct.unpack_from("<Q", tail, loc + 8)
            if z64_offset + 56 <= size:
                fp.seek(z64_offset)
                rec = fp.read(56)
                if rec[:4] == b"PK\x06\x06":
                    (entries, directory) = struct.unpack_from("<QQ", rec, 32)
    if disk != 0 or cd_disk != 0 or n_disk != n_total:
        raise _corrupt("分割された圧縮ファイルには対応していません")
    return _EndRecord(entries, directory)


def _check_xlsx(fp: BinaryIO, head: bytes, size: int, limits: Limits) -> list[SheetExtent]:
    if head.startswith(OLE_MAGIC):
        raise UnsafeFileError(
            "Excelファイルとして開けません（パスワードで保護されているか、古い形式 (.xls) の"
            "ファイルの拡張子を .xlsx に変えたものです）。パスワードを解除し、"
            "「Excel ブック (*.xlsx)」形式で保存し直してください。",
            "encrypted",
        )
    if not head.startswith(ZIP_LOCAL_MAGIC):
        raise UnsafeFileError(_MSG_NOT_EXCEL, "not_excel")

    end = _read_end_record(fp, size)
    if end.entries > MAX_ZIP_ENTRIES or end.cd_size > MAX_CENTRAL_DIRECTORY_BYTES:
        raise _bomb(f"内部のファイル数が異常です: {end.entries}件")
    try:
        fp.seek(0)
        zf = zipfile.ZipFile(fp)
        infos = zf.infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        ValueError,
        OSError,
        struct.error,
        NotImplementedError,
        UnicodeDecodeError,
    ) as exc:
        raise _corrupt("圧縮ファイルの目次が読めません") from exc
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _bomb(f"内部のファイル数が異常です: {len(infos)}件")

    names_lower = {i.filename.lower() for i in infos}
    if "[content_types].xml" not in names_lower or not any(n.endswith("workbook.xml") for n in names_lower):
        raise UnsafeFileError(_MSG_NOT_EXCEL, "not_excel")

    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnsafeFileError(
                "Excelファイルが暗号化されているため開けません。パスワードを解除して保存し直してください。",
                "encrypted",
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _corrupt("対応していない圧縮方式が使われています")
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise _corrupt("圧縮ファイルの目次とデータの大きさが一致しません")
        total += info.file_size
        if info.file_size > RATIO_EXEMPT_BYTES and (
            info.file_size > limits.max_entry_ratio * max(info.compress_size, 1)
        ):
            ratio = info.file_size / max(info.compress_size, 1)
            raise _bomb(f"圧縮率 {ratio:,.0f} 倍")
    if total > limits.max_uncompressed_bytes:
        raise _bomb(f"展開後 {_size_text(total, up=True)}、上限 {_size_text(limits.max_uncompressed_bytes, up=False)}")

    # Where each entry's data lies; refuse entries that overlap or leave the file.
    spans: dict[int, tuple[int, int]] = {}
    ordered = sorted(range(len(infos)), key=lambda k: infos[k].header_offset)
    for pos, k in enumerate(ordered):
        info = infos[k]
        start = _data_start(fp, info, size)
        stop = start + info.compress_size
        nxt = infos[ordered[pos + 1]].header_offset if pos + 1 < len(ordered) else size
        if stop > size:
            raise _corrupt("ファイルが途中で切れています")
        if stop > nxt:
            raise _bomb("圧縮ファイル内のデータが重なり合っています")
        spans[k] = (start, stop)

    sheet_names = _sheet_names(fp, infos, spans)
    worksheet_parts = sorted(
        (k for k, i in enumerate(infos) if _is_worksheet_part(i.filename)),
        key=lambda k: _natural_key(infos[k].filename),
    )
    names: dict[int, tuple[str, str]] = {}  # part -> (sheet name, how messages call it)
    for n, k in enumerate(worksheet_parts, start=1):
        known = sheet_names.get(infos[k].filename.lower())
        label = f"シート「{known}」" if known is not None else f"シート{n}"
        names[k] = (known if known is not None else label, label)

    extents: list[SheetExtent] = []
    for k in ordered:
        info = infos[k]
        if k in names:
            extents.append(_scan_worksheet(fp, info, spans[k][0], *names[k], limits))
        else:
            for _ in _inflate(fp, info, spans[k][0]):
                pass
    extents.sort(key=lambda e: _natural_key(e.part))
    return extents


def _data_start(fp: BinaryIO, info: zipfile.ZipInfo, size: int) -> int:
    if info.header_offset < 0 or info.header_offset + 30 > size:
        raise _corrupt("ファイルが途中で切れています")
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) != 30 or header[:4] != ZIP_LOCAL_MAGIC:
        raise _corrupt("圧縮ファイルの内部構造が壊れています")
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    start: int = info.header_offset + 30 + name_len + extra_len
    return start


def _inflate(fp: BinaryIO, info: zipfile.ZipInfo, start: int) -> Generator[bytes, None, None]:
    """Yield the entry's content, never producing more than its declared size.

    Raises UnsafeFileError("bomb") as soon as the real output exceeds the declared size,
    and UnsafeFileError("corrupt") for damaged deflate data, a short entry or a bad CRC.
    """
    declared = info.file_size
    left = info.compress_size
    produced = 0
    crc = 0
    fp.seek(start)
    if info.compress_type == zipfile.ZIP_STORED:
        while left > 0:
            raw = fp.read(min(READ_CHUNK, left))
            if not raw:
                raise _corrupt("ファイルが途中で切れています")
            left -= len(raw)
            produced += len(raw)
            crc = zlib.crc32(raw, crc)
            yield raw
    else:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        pending = b""
        while not inflater.eof:
            if not pending:
                if left <= 0:
                    raise _corrupt("圧縮データが途中で終わっています")
                pending = fp.read(min(READ_CHUNK, left))
                if not pending:
                    raise _corrupt("ファイルが途中で切れています")
                left -= len(pending)
            try:
                out = inflater.decompress(pending, INFLATE_STEP)
            except zlib.error as exc:
                raise _corrupt("圧縮データが壊れています") from exc
            pending = inflater.unconsumed_tail
            if out:
                produced += len(out)
                if produced > declared:
                    _classify_overrun(fp, inflater, pending, left, declared)
                crc = zlib.crc32(out, crc)
                yield out
    if produced != declared:
        raise _corrupt("データの大きさが目次と一致しません")
    if crc != info.CRC:
        raise _corrupt("データの検査値 (CRC) が一致しません")


def _classify_overrun(fp: BinaryIO, inflater: zlib._Decompress, pending: bytes, left: int, declared: int) -> NoReturn:
    """The entry inflates past its declared size: a bomb, or damaged data?

    A bit flip in deflate data often produces some garbage and then fails or ends. Inflate a
    small, bounded grace amount further: an error or the end of the stream within it means
    damage; still producing after it means a bomb. Never reads more than the grace.
    """
    grace = min(max(MiB, declared // 4), 32 * MiB)
    extra = 0
    try:
        while not inflater.eof and extra <= grace:
            if not pending:
                if left <= 0:
                    break
                pending = fp.read(min(READ_CHUNK, left))
                if not pending:
                    break
                left -= len(pending)
            extra += len(inflater.decompress(pending, INFLATE_STEP))
            pending = inflater.unconsumed_tail
    except zlib.error as exc:
        raise _corrupt("圧縮データが壊れています") from exc
    if extra <= grace:
        raise _corrupt("圧縮データが壊れています")
    raise _bomb(f"申告された大きさ {_size_text(declared, up=False)} を超えて展開されます")


def _read_part(fp: BinaryIO, info: zipfile.ZipInfo, start: int) -> bytes:
    return b"".join(_inflate(fp, info, start))


_WORKSHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml", re.IGNORECASE)


def _is_worksheet_part(name: str) -> bool:
    return _WORKSHEET_PART.fullmatch(name) is not None


def _natural_key(name: str) -> list[int | str]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name.lower())]


_SHEET_TAG = re.compile(rb"<(?:[\w.\-]+:)?sheet\b([^>]*)>")
_REL_TAG = re.compile(rb"<(?:[\w.\-]+:)?Relationship\b([^>]*)>")


def _attr(attrs: bytes, name: bytes) -> str | None:
    m = re.search(rb"(?:^|\s)" + name + rb"\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", attrs)
    if m is None:
        return None
    raw = m.group(1) if m.group(1) is not None else m.group(2)
    return html.unescape(raw.decode("utf-8", "replace"))


def _sheet_names(fp: BinaryIO, infos: list[zipfile.ZipInfo], spans: dict[int, tuple[int, int]]) -> dict[str, str]:
    """Worksheet part (lower-case) -> sheet name, from workbook.xml and its rels; best effort."""
    index = {i.filename.lower(): k for k, i in enumerate(infos)}
    wb_k, rels_k = index.get("xl/workbook.xml"), index.get("xl/_rels/workbook.xml.rels")
    if wb_k is None or rels_k is None:
        return {}
    if max(infos[wb_k].file_size, infos[rels_k].file_size) > MAX_NAMES_PART_BYTES:
        return {}
    workbook = _read_part(fp, infos[wb_k], spans[wb_k][0])
    rels = _read_part(fp, infos[rels_k], spans[rels_k][0])
    targets: dict[str, str] = {}
    for m in _REL_TAG.finditer(rels):
        rid, target = _attr(m.group(1), rb"Id"), _attr(m.group(1), rb"Target")
        if rid and target:
            if target.startswith("/"):
                path = target.lstrip("/")
            elif target.lower().startswith("xl/"):
                path = target
            else:
                path = "xl/" + target
            targets[rid] = posixpath.normpath(path).lower()
    names: dict[str, str] = {}
    for m in _SHEET_TAG.finditer(workbook):
        name = _attr(m.group(1), rb"name")
        rid = _attr(m.group(1), rb"[\w.\-]+:id")
        if name is not None and rid in targets:
            names[targets[rid]] = name
    return names


# ----------------------------------------------------------------------------- sheet scan

#: references longer than this are clamped (a 9-letter column or a 13-digit row is already
#: far beyond any limit; clamping keeps the arithmetic cheap on garbage input)
_MAX_LETTERS: Final = 8
_MAX_DIGITS: Final = 12


def _ref_position(letters: bytes, digits: bytes) -> tuple[int, int]:
    """(row, column), both 1-based, of a cell reference; clamped for absurd references."""
    if len(letters) > _MAX_LETTERS:
        col = 26**_MAX_LETTERS
    else:
        col = 0
        for ch in letters.upper():
            col = col * 26 + (ch - 64)
    digits = digits.lstrip(b"0") or b"0"
    row = 10**_MAX_DIGITS if len(digits) > _MAX_DIGITS else int(digits)
    return row, col


def _alt(options: list[str]) -> str:
    return "(?:" + "|".join(options) + ")"


def _letters_greater_same_length(col: int) -> str:
    """Regex (either case) for column letters as long as ``col``'s that name a greater column."""
    ref = column_letters(col)
    k = len(ref)
    opts = []
    for i, ch in enumerate(ref):
        if ch < "Z":
            nxt = chr(ord(ch) + 1)
            prefix = "".join(f"[{c}{c.lower()}]" for c in ref[:i])
            rest = f"[A-Za-z]{{{k - i - 1}}}" if k - i - 1 else ""
            opts.append(f"{prefix}[{nxt}-Z{nxt.lower()}-z]{rest}")
    return _alt(opts) if opts else "(?!)"


def _number_greater(value: int) -> str:
    """Regex matching a prefix that proves a number (no leading zero) is > ``value`` >= 1.

    Written as a trie over ``value``'s digits so that a smaller number fails after reading
    its own digits once (this pattern runs on every cell of a sheet)."""
    ref = str(value)
    k = len(ref)

    def level(i: int) -> str:
        if i == k:
            return "\\d"  # same digits so far and one more digit: longer, so greater
        c = int(ref[i])
        opts = []
        if c < 9:
            opts.append(f"[{c + 1}-9]" + (f"\\d{{{k - i - 1}}}" if k - i - 1 else ""))
        opts.append(f"{c}{level(i + 1)}")
        low = 1 if i == 0 else 0
        if c > low:
            opts.append(f"[{low}-{c - 1}]\\d{{{k - i}}}")  # smaller digit, but longer
        return _alt(opts)

    return level(0)


class _NeedExactScan(Exception):
    """The sheet is not (only) in the standard ``<c r="A1"`` form; rescan it exactly."""


class _RangeCheck:
    """Running extent of one sheet; raises as soon as it leaves the limits."""

    def __init__(self, label: str, limits: Limits) -> None:
        self.label = label
        self.limits = limits
        self.max_row = 0
        self.max_col = 0

    def add(self, row: int, col: int) -> None:
        if row > self.max_row or col > self.max_col:
            self.max_row = max(self.max_row, row)
            self.max_col = max(self.max_col, col)
            lim = self.limits
            if (
                self.max_col > lim.max_columns
                or self.max_row > lim.max_rows
                or self.max_row * self.max_col > lim.max_cells
            ):
                raise _range_error(self.label, self.max_row, self.max_col)


_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.\-]*):)?worksheet[\s>/]")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?dimension\s+ref\s*=\s*[\"']([^\"']*)[\"']")


class _FastScanner:
    """Standard-form scan. Per chunk it runs a few C-level searches:

    * is there a ``<c`` tag not spelled ``<c r="`` (no r, r not first, another prefix)?
      then the whole sheet is rescanned exactly (:class:`_NeedExactScan`);
    * the chunk's last valued cell, and the last valued cell of its last complete row,
      raise the running extent (for the usual ordered sheet: the chunk's largest row and
      its widest row);
    * is there a valued cell beyond the running extent (greater column or row)? only then
      are all cells of the chunk parsed in Python.

    "Valued" means not self-closing: ``<c r="U7" s="3"/>`` (formatting only) is not in
    calamine's range, and a sheet with a formatted area right of its data must not send
    every chunk down the slow path.
    """

    def __init__(self, check: _RangeCheck, prefix: bytes) -> None:
        self.check = check
        qualified = prefix + b":" if prefix else b""
        tag = b"<" + qualified + b"c"
        self.open = re.escape(tag + b' r="')
        self.row_end = b"</" + qualified + b"row>"
        self.overlap = 64 + len(prefix)  # longer than any match that proves something
        self.context = len(prefix) + 2  # what the look-behind needs before ":c"
        self.skip = 0
        self.nonstandard = [re.compile(re.escape(tag) + rb'(?! r=")[\s>/]')]
        if prefix:
            own = re.escape(prefix)
            self.nonstandard.append(re.compile(rb"<c[\s>/]"))
            self.nonstandard.append(re.compile(b"(?<!<" + own + b")(?<!/" + own + rb"):c[\s>/]"))
        else:
            self.nonstandard.append(re.compile(rb":c[\s>/]"))
        self.ref = re.compile(self.open + rb"([A-Za-z]+)(\d+)")
        self.valued = re.compile(self.open + rb'([A-Za-z]+)(\d+)"[^>]*(?<!/)>')
        self.carry = b""
        self._beyond_key = (-1, -1)
        self._beyond = self.ref

    def _beyond_pattern(self) -> re.Pattern[bytes]:
        key = (self.check.max_row, self.check.max_col)
        if key != self._beyond_key:
            row, col = key
            if row and col:
                # a same-length greater column | more letters | a leading zero | greater row,
                # then the rest of a tag that is not self-closing (or the end of the buffer)
                k = len(column_letters(col))
                greater = (
                    f"(?:{_letters_greater_same_length(col)}|[A-Za-z]{{1,{k}}}(?:[A-Za-z]|0|{_number_greater(row)}))"
                ).encode()
                rest = rb'[A-Za-z\d]*(?:"(?:[^>]*(?<!/)>|[^>]*\Z)|\Z)'
                self._beyond = re.compile(self.open + greater + rest)
            else:
                self._beyond = self.ref
            self._beyond_key = key
        return self._beyond

    def feed(self, data: bytes, final: bool = False) -> None:
        """Examine every match that *starts* in ``[skip, limit)`` of carry + data.

        The last ``overlap`` bytes are carried to the next call (every pattern match that
        proves something is shorter), together with ``context`` bytes already examined
        so that look-behinds see what precedes the first new byte.
        """
        buf = self.carry + data if self.carry else data
        skip = self.skip
        limit = len(buf) if final else len(buf) - self.overlap
        if limit <= skip:
            self.carry = buf
            return
        keep = max(0, limit - self.context)
        self.carry = buf[keep:]
        self.skip = limit - keep
        for rx in self.nonstandard:
            m = rx.search(buf, skip)
            if m is not None and m.start() < limit:
                raise _NeedExactScan
        self._tail(buf, skip, limit)
        m = self._beyond_pattern().search(buf, skip)
        if m is not None and m.start() < limit:
            self._all_cells(buf, m.start(), limit, final)

    def _tail(self, buf: bytes, skip: int, limit: int) -> None:
        row_end = buf.rfind(self.row_end, skip, limit)
        for end in (limit, row_end):
            if end > skip:
                m = self._last_valued(buf, skip, end)
                if m is not None:
                    self.check.add(*_ref_position(m.group(1), m.group(2)))

    def _last_valued(self, buf: bytes, skip: int, end: int) -> re.Match[bytes] | None:
        """The last valued cell starting in ``[skip, end)``, searching backwards in windows."""
        window = 4 * KiB
        while True:
            start = max(skip, end - window)
            last = None
            for m in self.valued.finditer(buf, start):
                if m.start() >= end:
                    break
                last = m
            if last is not None or start == skip:
                return last
            window *= 8

    def _all_cells(self, buf: bytes, start: int, limit: int, final: bool) -> None:
        for m in self.ref.finditer(buf, start):
            if m.start() >= limit:
                break
            if m.end() == len(buf) and not final:  # a 50+ character reference
                raise _corrupt("シートのデータ構造が異常です")
            close = buf.find(b">", m.end())
            if close > 0 and buf[close - 1] == 0x2F:  # "/>": no value, not in the range
                continue
            self.check.add(*_ref_position(m.group(1), m.group(2)))


_NAME = rb"[A-Za-z_][\w.\-]*"
_ATTRS = rb"(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*"
_TAG = re.compile(rb"<(?:/(?:" + _NAME + rb":)?(row)\s*>|(?:" + _NAME + rb":)?(c|row)(" + _ATTRS + rb")\s*(/?)>)")
_TAG_START = re.compile(rb"<(?:" + _NAME + rb":)?(?:c|row)[\s/>]")
_R_ATTR = re.compile(rb"\sr\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_REF = re.compile(rb"\s*([A-Za-z]+)(\d+)\s*")
_ROW_NUMBER = re.compile(rb"\s*(\d+)\s*")


class _ExactScanner:
    """Replays calamine's cell positioning tag by tag (slow path, any spelling).

    A cell with ``r`` sits where it says and moves the "next column" after it; a cell
    without ``r`` takes the next column of the current row. ``<row r>`` sets the row,
    ``</row>`` moves to the next row and column A. A self-closing ``<c/>`` moves the column
    but holds no value (calamine leaves it out of the range); a self-closing ``<row/>`` is
    its own end tag. (All measured against python-calamine 0.9.1.)
    """

    def __init__(self, check: _RangeCheck) -> None:
        self.check = check
        self.carry = b""
        self.row = 0  # 0-based row of the next cell without r
        self.col = 0  # 0-based column of the next cell without r

    def feed(self, data: bytes, final: bool = False) -> None:
        buf = self.carry + data if self.carry else data
        limit = len(buf) if final else buf.rfind(b"<")
        if limit < 0:
            limit = len(buf)
        self.carry = buf[limit:]
        if len(self.carry) > MAX_TAG_BYTES:
            if _TAG_START.match(self.carry):
                raise _corrupt("シートのデータ構造が異常です")
            self.carry = b""  # long text, comment or CDATA: no tag to complete
        row, col, check = self.row, self.col, self.check
        for end_row, name, attrs, empty in _TAG.findall(buf, 0, limit):
            if end_row:  # </row>
                row, col = row + 1, 0
                continue
            ref = None
            if b"r" in attrs:
                r = _R_ATTR.search(attrs)
                if r is not None:
                    ref = r.group(1) if r.group(1) is not None else r.group(2)
            if name == b"row":
                number = _ROW_NUMBER.fullmatch(ref) if ref is not None else None
                if number is not None:
                    row = max(_ref_position(b"A", number.group(1))[0] - 1, 0)
                if empty:  # an empty row element is its own end tag
                    row, col = row + 1, 0
                continue
            if ref is None:
                cell_row, cell_col = row + 1, col + 1
            else:
                parsed = _REF.fullmatch(ref)
                if parsed is None:
                    continue  # calamine refuses such a reference itself
                cell_row, cell_col = _ref_position(parsed.group(1), parsed.group(2))
            # a valueless <c/> moves the column but is not in the range
            if not empty and (cell_row > check.max_row or cell_col > check.max_col):
                check.add(cell_row, cell_col)
            col = cell_col
        self.row, self.col = row, col


def _scan_worksheet(
    fp: BinaryIO, info: zipfile.ZipInfo, start: int, name: str, label: str, limits: Limits
) -> SheetExtent:
    stream = _inflate(fp, info, start)
    head = b""
    for chunk in stream:
        head += chunk
        if len(head) >= 64 * KiB or b"<sheetData" in head:
            break
    root = _ROOT.search(head)
    prefix = (root.group(1) or b"") if root else b""
    dim = _DIMENSION.search(head)
    dimension = dim.group(1).decode("ascii", "replace") if dim else None

    check = _RangeCheck(label, limits)
    try:
        fast = _FastScanner(check, prefix)
        fast.feed(head)
        for chunk in stream:
            fast.feed(chunk)
        fast.feed(b"", final=True)
    except _NeedExactScan:
        stream.close()
        check = _RangeCheck(label, limits)
        exact = _ExactScanner(check)
        for chunk in _inflate(fp, info, start):
            exact.feed(chunk)
        exact.feed(b"", final=True)
    return SheetExtent(
        part=info.filename,
        name=name,
        max_row=check.max_row,
        max_col=check.max_col,
        dimension=dimension,
    )
