"""Builders for hostile and broken input files used by the tests.

Every builder takes a directory (and sometimes a good file to damage) and returns the path
of the file it wrote. The hand-written workbooks are minimal but valid OOXML packages:
``[Content_Types].xml``, the package and workbook relationships, ``xl/workbook.xml`` and
one ``xl/worksheets/sheet1.xml``; no styles and no shared strings.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)

SHEET_ENTRY = "xl/worksheets/sheet1.xml"


def _workbook_xml(sheet_name: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        f'<sheets><sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )


def sheet_xml(rows: Iterable[str], dimension: str | None) -> bytes:
    """A worksheet part whose ``<sheetData>`` holds the given pre-rendered ``<row>`` elements."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">{dim}<sheetData>' + "".join(rows) + "</sheetData></worksheet>"
    ).encode()


def write_workbook(
    path: Path,
    sheet: bytes,
    *,
    sheet_name: str = "Sheet1",
    compresslevel: int = 6,
    extra: dict[str, bytes] | None = None,
) -> Path:
    """Write a minimal one-sheet workbook with ``sheet`` as ``xl/worksheets/sheet1.xml``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", ROOT_RELS)
        zf.writestr("xl/workbook.xml", _workbook_xml(sheet_name))
        zf.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        zf.writestr(SHEET_ENTRY, sheet)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


# --------------------------------------------------------------------------- good files


def good_xlsx(directory: Path, name: str = "good.xlsx", rows: int = 300) -> Path:
    """A small, valid workbook written by openpyxl (header row + ``rows`` data rows)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "レセプト一覧"
    ws.append(["患者ID", "氏名", "診療年月", "合計点数", "摘要"])
    for i in range(rows):
        ws.append([f"P{i:06d}", f"患者{i}", "202404", 100 + i * 7, "特記なし" * (i % 4)])
    path = directory / name
    wb.save(path)
    return path


def wide_sheet_xml(n_rows: int, n_cols: int) -> bytes:
    """Worksheet XML in the shape openpyxl writes: ``<c r="A1" t="n"><v>..</v></c>``."""
    cols = [column_letters(i) for i in range(1, n_cols + 1)]
    rows = []
    for r in range(1, n_rows + 1):
        cells = "".join(f'<c r="{c}{r}" t="n"><v>{r * 31 + j}</v></c>' for j, c in enumerate(cols))
        rows.append(f'<row r="{r}">{cells}</row>')
    return sheet_xml(rows, f"A1:{cols[-1]}{n_rows}")


def large_xlsx(directory: Path, n_rows: int = 100_000, n_cols: int = 20) -> Path:
    """A big but legitimate sheet (100k x 20 by default), written quickly by hand."""
    return write_workbook(directory / f"large_{n_rows}x{n_cols}.xlsx", wide_sheet_xml(n_rows, n_cols), compresslevel=1)


def column_letters(col: int) -> str:
    """1 -> A, 27 -> AA, 16384 -> XFD."""
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


# --------------------------------------------------------------------------- hostile files


def huge_dimension_xlsx(directory: Path, name: str = "huge_dimension.xlsx") -> Path:
    """Cells at A1 and XFD1048576: a ~1 KB file whose used range is 17 billion cells.

    Every calamine-based reader allocates the full grid for this and aborts the process.
    """
    rows = [
        '<row r="1"><c r="A1" t="inlineStr"><is><t>患者ID</t></is></c></row>',
        '<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row>',
    ]
    return write_workbook(directory / name, sheet_xml(rows, "A1:XFD1048576"))


def far_cell_xlsx(directory: Path, ref: str, *, dimension: str | None = None, name: str | None = None) -> Path:
    """A small table plus one stray cell at ``ref`` (e.g. ``ALL60001``)."""
    letters = ref.rstrip("0123456789")
    row = int(ref[len(letters) :])
    rows = [f'<row r="{r}"><c r="A{r}" t="n"><v>{r}</v></c></row>' for r in range(1, 4)]
    rows.append(f'<row r="{row}"><c r="{ref}" t="n"><v>9</v></c></row>')
    return write_workbook(directory / (name or f"far_{ref}.xlsx"), sheet_xml(rows, dimension))


def lying_dimension_xlsx(directory: Path, name: str = "lying_dimension.xlsx") -> Path:
    """Valid workbook whose ``<dimension>`` says A1:B2 while 500 rows x 2 columns exist.

    openpyxl's read-only mode trusts the header and silently returns 2 rows. The guard must
    accept this file; it exists to test that readers tell the truth.
    """
    rows = [
        f'<row r="{r}"><c r="A{r}" t="n"><v>{r}</v></c><c r="B{r}" t="n"><v>{r * 2}</v></c></row>'
        for r in range(1, 501)
    ]
    return write_workbook(directory / name, sheet_xml(rows, "A1:B2"))


def _local_header_offsets(data: bytes) -> dict[str, tuple[int, int]]:
    """Entry name -> (local header offset, central directory record offset)."""
    out: dict[str, tuple[int, int]] = {}
    eocd = data.rfind(b"PK\x05\x06")
    (cd_size, cd_offset) = struct.unpack_from("<LL", data, eocd + 12)
    pos = cd_offset
    while pos < cd_offset + cd_size:
        if data[pos : pos + 4] != b"PK\x01\x02":
            raise ValueError("unexpected central directory record")
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        (local_offset,) = struct.unpack_from("<L", data, pos + 42)
        name = data[pos + 46 : pos + 46 + name_len].decode("utf-8")
        out[name] = (local_offset, pos)
        pos += 46 + name_len + extra_len + comment_len
    return out


def zip_bomb_xlsx(
    directory: Path,
    name: str = "zip_bomb.xlsx",
    *,
    entry: str = SHEET_ENTRY,
    inflated_mib: int = 320,
    declared_bytes: int = 4096,
) -> Path:
    """A workbook whose ``entry`` inflates to ``inflated_mib`` MiB but declares 4 KiB.

    The entry is a real worksheet (so the inflated data is well-formed XML: a short header,
    hundreds of MB of spaces, then the closing tags). Both the local header and the central
    directory under-declare the uncompressed size, and the CRC is the CRC of the first
    ``declared_bytes`` bytes, so ``zipfile.testzip()`` (which stops at the declared size)
    reports the archive as healthy. Built cheaply: one 1 MiB block is compressed after a
    full flush and the identical compressed block is repeated.
    """
    head = sheet_xml([], "A1")
    split = head.index(b"</sheetData>")
    prefix, suffix = head[:split], head[split:]
    block = b" " * (1 << 20)

    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(prefix) + comp.flush(zlib.Z_FULL_FLUSH)
    one = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    if one != again:  # pragma: no cover - zlib always resets state on a full flush
        raise RuntimeError("deflate blocks are not reproducible")
    last = comp.compress(suffix) + comp.flush()
    stream = first + one * inflated_mib + last
    plain_head = (prefix + block)[:declared_bytes]
    crc = zlib.crc32(plain_head)

    # Write a placeholder entry, then swap in the bomb and patch both headers.
    path = directory / name
    extra = {} if entry == SHEET_ENTRY else {entry: b"x"}
    write_workbook(path, b"x" if entry == SHEET_ENTRY else sheet_xml([], "A1"), extra=extra)
    data = path.read_bytes()
    local, _ = _local_header_offsets(data)[entry]
    name_len, extra_len = struct.unpack_from("<HH", data, local + 26)
    (old_csize,) = struct.unpack_from("<L", data, local + 18)
    body_start = local + 30 + name_len + extra_len
    new = bytearray(data[:body_start] + stream + data[body_start + old_csize :])
    delta = len(stream) - old_csize
    struct.pack_into("<LLL", new, local + 14, crc, len(stream), declared_bytes)
    # Every record after the entry moved by ``delta``.
    eocd = new.rfind(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack_from("<LL", new, eocd + 12)
    cd_offset += delta
    struct.pack_into("<L", new, eocd + 16, cd_offset)
    pos = cd_offset
    while pos < cd_offset + cd_size:
        n_len, e_len, c_len = struct.unpack_from("<HHH", new, pos + 28)
        (lho,) = struct.unpack_from("<L", new, pos + 42)
        if lho > local:
            struct.pack_into("<L", new, pos + 42, lho + delta)
        if lho == local:
            struct.pack_into("<LLL", new, pos + 16, crc, len(stream), declared_bytes)
        pos += 46 + n_len + e_len + c_len
    path.write_bytes(bytes(new))
    return path


def ratio_bomb_xlsx(directory: Path, name: str = "ratio_bomb.xlsx", *, mib: int = 64) -> Path:
    """An honest archive (sizes declared correctly) whose sheet compresses ~1000:1."""
    body = b"<!--" + b" " * (mib << 20) + b"-->"
    sheet = sheet_xml([], "A1")
    return write_workbook(directory / name, sheet.replace(b"<sheetData>", body + b"<sheetData>"))


def overlapping_entries_xlsx(directory: Path, name: str = "overlapping.xlsx") -> Path:
    """Two central-directory records point at the same local data (the construction of
    "better" zip bombs: many entries sharing one compressed kernel)."""
    path = write_workbook(directory / name, sheet_xml([], "A1"))
    data = bytearray(path.read_bytes())
    offsets = _local_header_offsets(bytes(data))
    sheet_local, _ = offsets[SHEET_ENTRY]
    _, rels_central = offsets["xl/_rels/workbook.xml.rels"]
    struct.pack_into("<L", data, rels_central + 42, sheet_local)
    path.write_bytes(bytes(data))
    return path


def rowless_wide_xlsx(directory: Path, name: str = "rowless_wide.xlsx", cells: int = 1500) -> Path:
    """Cells without ``r`` attributes: positions are implicit (calamine counts them), so a
    row of 1500 ``<c>`` elements spans 1500 columns although no reference says so."""
    wide = "<row>" + "<c><v>1</v></c>" * cells + "</row>"
    return write_workbook(directory / name, sheet_xml(["<row><c><v>0</v></c></row>", wide], None))


def prefixed_xlsx(directory: Path, name: str = "prefixed.xlsx", rows: int = 50) -> Path:
    """A valid sheet written with a namespace prefix (``<x:c r="A1">``), as the OpenXML SDK
    does."""
    body = "".join(
        f'<x:row r="{r}"><x:c r="A{r}" t="n"><x:v>{r}</x:v></x:c><x:c r="C{r}" t="n"><x:v>{r}</x:v></x:c></x:row>'
        for r in range(1, rows + 1)
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<x:worksheet xmlns:x="{MAIN_NS}"><x:dimension ref="A1:C{rows}"/>'
        f"<x:sheetData>{body}</x:sheetData></x:worksheet>"
    ).encode()
    return write_workbook(directory / name, xml)


def truncated_xlsx(good_path: Path, directory: Path | None = None) -> Path:
    """The first half of a good file (an interrupted upload or copy)."""
    out = (directory or good_path.parent) / f"truncated_{good_path.name}"
    data = good_path.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    return out


def bitflipped_xlsx(good_path: Path, directory: Path | None = None) -> Path:
    """A good file with 16 bytes inverted in the middle of its largest compressed entry
    (the central directory is intact, so only inflating or the CRC can tell)."""
    out = (directory or good_path.parent) / f"bitflipped_{good_path.name}"
    data = bytearray(good_path.read_bytes())
    with zipfile.ZipFile(good_path) as zf:
        info = max(zf.infolist(), key=lambda i: i.compress_size)
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    middle = start + info.compress_size // 2
    for i in range(middle, middle + 16):
        data[i] ^= 0xFF
    out.write_bytes(bytes(data))
    return out


def not_excel_xlsx(directory: Path, name: str = "not_excel.xlsx") -> Path:
    """A CSV export that someone renamed to .xlsx."""
    path = directory / name
    path.write_text("患者ID,氏名\nP000001,山田太郎\n", encoding="utf-8")
    return path


def ole_disguised_xlsx(directory: Path, name: str = "protected.xlsx") -> Path:
    """OLE2 compound file named .xlsx (what password-protected workbooks look like)."""
    path = directory / name
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4088)
    return path


def fake_xls(directory: Path, name: str = "fake.xls") -> Path:
    """A text file named .xls."""
    path = directory / name
    path.write_text("<html><body>not a workbook</body></html>", encoding="utf-8")
    return path


def ole_xls(directory: Path, name: str = "legacy.xls") -> Path:
    """Something with a valid OLE2 header, enough for the .xls pre-check."""
    path = directory / name
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4088)
    return path


def empty_file(directory: Path, name: str = "empty.xlsx") -> Path:
    path = directory / name
    path.write_bytes(b"")
    return path


def binary_csv(directory: Path, name: str = "binary.csv") -> Path:
    """A .csv that is really binary (NUL bytes near the start)."""
    path = directory / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    return path


def utf16_csv(directory: Path, name: str = "unicode.csv") -> Path:
    """What Excel's 「Unicode テキスト」 export produces: UTF-16 with a BOM."""
    path = directory / name
    path.write_bytes("患者ID\t氏名\r\nP000001\t山田太郎\r\n".encode("utf-16"))
    return path


def good_csv(directory: Path, name: str = "good.csv") -> Path:
    path = directory / name
    path.write_bytes("患者ID,氏名\r\nP000001,山田太郎\r\n".encode("cp932"))
    return path
