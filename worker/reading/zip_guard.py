"""The ``.xlsx``/``.xlsm`` checks: the zip directory, every entry inflated through a bounded
stream, every worksheet scanned for its used range (``worker.reading.sheet_range``).

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
* every worksheet (``xl/worksheets/*.xml``) is scanned while it is inflated.
"""

from __future__ import annotations

import functools
import html
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Generator
from dataclasses import dataclass
from typing import BinaryIO, Final, NoReturn

from worker.reading.sheet_range import scan_worksheet
from worker.reading.unsafe import (
    MSG_NOT_EXCEL,
    OLE_MAGIC,
    ZIP_LOCAL_MAGIC,
    KiB,
    Limits,
    MiB,
    SheetExtent,
    UnsafeFileError,
    bomb,
    corrupt,
    size_text,
)

__all__ = ["check_xlsx"]

#: signature of the end-of-central-directory record
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
#: workbook.xml / workbook.xml.rels are read whole only below this size (for sheet names)
MAX_NAMES_PART_BYTES: Final = 16 * MiB


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
        raise corrupt("ファイルが途中で切れています")
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
        raise corrupt("分割された圧縮ファイルには対応していません")
    return _EndRecord(entries, directory)


def check_xlsx(fp: BinaryIO, head: bytes, size: int, limits: Limits, *, workbook: bool = True) -> list[SheetExtent]:
    """Check the workbook open as ``fp`` (``size`` bytes, first bytes ``head``); return the
    extent of every worksheet, or raise :class:`UnsafeFileError`. ``workbook=False``: any zip
    (the eligibility terminal's zipped results) gets the same checks of every entry."""
    if head.startswith(OLE_MAGIC):
        raise UnsafeFileError(
            "Excelファイルとして開けません（パスワードで保護されているか、古い形式 (.xls) の"
            "ファイルの拡張子を .xlsx に変えたものです）。パスワードを解除し、"
            "「Excel ブック (*.xlsx)」形式で保存し直してください。",
            "encrypted",
        )
    if not head.startswith(ZIP_LOCAL_MAGIC):
        raise UnsafeFileError(MSG_NOT_EXCEL, "not_excel")

    end = _read_end_record(fp, size)
    if end.entries > MAX_ZIP_ENTRIES or end.cd_size > MAX_CENTRAL_DIRECTORY_BYTES:
        raise bomb(f"内部のファイル数が異常です: {end.entries}件")
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
        raise corrupt("圧縮ファイルの目次が読めません") from exc
    if len(infos) > MAX_ZIP_ENTRIES:
        raise bomb(f"内部のファイル数が異常です: {len(infos)}件")

    names_lower = {i.filename.lower() for i in infos}
    if workbook and (
        "[content_types].xml" not in names_lower or not any(n.endswith("workbook.xml") for n in names_lower)
    ):
        raise UnsafeFileError(MSG_NOT_EXCEL, "not_excel")

    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnsafeFileError(
                "Excelファイルが暗号化されているため開けません。パスワードを解除して保存し直してください。",
                "encrypted",
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise corrupt("対応していない圧縮方式が使われています")
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise corrupt("圧縮ファイルの目次とデータの大きさが一致しません")
        total += info.file_size
        if info.file_size > RATIO_EXEMPT_BYTES and (
            info.file_size > limits.max_entry_ratio * max(info.compress_size, 1)
        ):
            ratio = info.file_size / max(info.compress_size, 1)
            raise bomb(f"圧縮率 {ratio:,.0f} 倍")
    if total > limits.max_uncompressed_bytes:
        raise bomb(f"展開後 {size_text(total, up=True)}、上限 {size_text(limits.max_uncompressed_bytes, up=False)}")

    # Where each entry's data lies; refuse entries that overlap or leave the file.
    spans: dict[int, tuple[int, int]] = {}
    ordered = sorted(range(len(infos)), key=lambda k: infos[k].header_offset)
    for pos, k in enumerate(ordered):
        info = infos[k]
        start = _data_start(fp, info, size)
        stop = start + info.compress_size
        nxt = infos[ordered[pos + 1]].header_offset if pos + 1 < len(ordered) else size
        if stop > size:
            raise corrupt("ファイルが途中で切れています")
        if stop > nxt:
            raise bomb("圧縮ファイル内のデータが重なり合っています")
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
            inflate = functools.partial(_inflate, fp, info, spans[k][0])
            extents.append(scan_worksheet(inflate, info.filename, *names[k], limits))
        else:
            for _ in _inflate(fp, info, spans[k][0]):
                pass
    extents.sort(key=lambda e: _natural_key(e.part))
    return extents


def _data_start(fp: BinaryIO, info: zipfile.ZipInfo, size: int) -> int:
    if info.header_offset < 0 or info.header_offset + 30 > size:
        raise corrupt("ファイルが途中で切れています")
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) != 30 or header[:4] != ZIP_LOCAL_MAGIC:
        raise corrupt("圧縮ファイルの内部構造が壊れています")
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
                raise corrupt("ファイルが途中で切れています")
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
                    raise corrupt("圧縮データが途中で終わっています")
                pending = fp.read(min(READ_CHUNK, left))
                if not pending:
                    raise corrupt("ファイルが途中で切れています")
                left -= len(pending)
            try:
                out = inflater.decompress(pending, INFLATE_STEP)
            except zlib.error as exc:
                raise corrupt("圧縮データが壊れています") from exc
            pending = inflater.unconsumed_tail
            if out:
                produced += len(out)
                if produced > declared:
                    _classify_overrun(fp, inflater, pending, left, declared)
                crc = zlib.crc32(out, crc)
                yield out
    if produced != declared:
        raise corrupt("データの大きさが目次と一致しません")
    if crc != info.CRC:
        raise corrupt("データの検査値 (CRC) が一致しません")


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
        raise corrupt("圧縮データが壊れています") from exc
    if extra <= grace:
        raise corrupt("圧縮データが壊れています")
    raise bomb(f"申告された大きさ {size_text(declared, up=False)} を超えて展開されます")


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
