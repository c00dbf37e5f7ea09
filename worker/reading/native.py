"""Files the clinic's systems write themselves, recognised from their content (issue 15).

* UKE-like record files: RECEIPTC.UKE (claims), RECEIPTC.HEN / RECEIPTC.SAH (returns) —
  ``worker.reading.uke``;
* the online eligibility terminal's result XML, single (``OQSsiquc01res_*``) and bulk
  (``OQSmuquc02res_*``), plain or in a zip — ``worker.reading.onshi_xml``.

Each reader is a pure function from bytes and a display name to :class:`NativeTable` s:
text columns under the canonical field names of ``worker.reading.schema`` (a ratio
"010" stays the text "010"), one row per receipt / return / check, ``rows`` the line of the
file each row comes from, and :class:`LineProblem` s naming the line of what could not be
read. A file that cannot be read at all raises :class:`NativeFormatError` (Japanese, naming
the file and line). :func:`extract_native` is the reader child's hook: it writes the tables
as the Arrow files ``worker.reading.extract`` writes. No pandas here (the reader child).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import pyarrow as pa
import pyarrow.ipc as ipc

from worker.reading.discovery import NATIVE_SUFFIXES, is_request
from worker.reading.schema import TableKind

__all__ = [
    "NATIVE_SUFFIXES",
    "LineProblem",
    "NativeFormatError",
    "NativeTable",
    "extract_native",
    "read_native",
    "recognise",
]


NativeKind = Literal["uke", "xml", "zip"]


class NativeFormatError(ValueError):
    """A whole file that cannot be read; ``str()`` is the clerk's Japanese message."""


@dataclass(frozen=True)
class LineProblem:
    """A line (or element) of a file that could not be read into a row."""

    line: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "value": self.value, "message": self.message}


@dataclass
class NativeTable:
    kind: TableKind
    sheet: str
    #: field -> text values (None = empty), one per row
    columns: dict[str, list[str | None]] | dict[str, pa.Array]
    #: 1-based line (or element line) of each row in the file
    rows: list[int]
    #: field -> how messages name it (e.g. "RE 生年月日")
    headers: dict[str, str] = field(default_factory=dict)
    problems: list[LineProblem] = field(default_factory=list)


def recognise(head: bytes) -> NativeKind | None:
    """The kind of a file from its first bytes, or None (a workbook or CSV)."""
    h = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if h.startswith(b"PK\x03\x04"):
        return "zip"
    if h.startswith((b"<?xml", b"<XmlMsg")):
        return "xml"
    if h[:3] in (b"IR,", b"HI,") or h[:3] == b"RE,":
        return "uke"
    return None


def read_native(data: bytes, name: str) -> list[NativeTable]:
    """Every table of one UKE/HEN/SAH file, result XML or zip of result XMLs."""
    kind = recognise(data[:64])
    if kind == "uke":
        from worker.reading.uke import read_uke

        return read_uke(data, name)
    if kind == "xml":
        from worker.reading.onshi_xml import read_result_xml

        return read_result_xml(data, name)
    if kind == "zip":
        return _read_zip(data, name)
    raise NativeFormatError(f"{name}: レセプト電算処理ファイル（UKE/HEN/SAH）・資格確認結果XMLのどちらでもありません。")


#: entries of a zip read at most (the zip guard has bounded their sizes already)
MAX_ZIP_MEMBERS: Final = 100_000


def _read_zip(data: bytes, name: str) -> list[NativeTable]:
    """The result XMLs inside a zip (request files and other entries ignored), one table."""
    from worker.reading.onshi_xml import read_result_xml

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in zf.infolist() if not i.is_dir()][:MAX_ZIP_MEMBERS]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise NativeFormatError(f"{name}: 圧縮ファイル（zip）の目次が読めません。") from exc
    tables: list[NativeTable] = []
    for info in sorted(infos, key=lambda i: i.filename):
        member = info.filename.rsplit("/", 1)[-1]
        if not member.lower().endswith(".xml") or is_request(info.filename):
            continue
        inner = zf.read(info)
        for t in read_result_xml(inner, f"{name}/{member}"):
            t.sheet = member
            tables.append(t)
    if not tables:
        raise NativeFormatError(f"{name}: 圧縮ファイルの中に資格確認結果のXMLファイルがありません。")
    return tables


def _arrow_columns(t: NativeTable) -> tuple[pa.Schema, list[pa.Array]]:
    names = list(t.columns)
    arrays: list[pa.Array] = [pa.array(t.rows, type=pa.int64())]
    for n in names:
        col = t.columns[n]
        arrays.append((col if isinstance(col, pa.Array) else pa.array(col, type=pa.string())).cast(pa.large_string()))
    # large_string: the form pandas holds text in, so the parent maps the file without a copy
    schema = pa.schema([pa.field("_row", pa.int64())] + [pa.field(n, pa.large_string()) for n in names])
    return schema, arrays


def extract_native(data: bytes, name: str, dest: Path, first: int = 0) -> list[dict[str, Any]]:
    """Child side: the tables of ``data`` written as ``table<N>.arrow`` into ``dest``; their
    manifest entries (with the line problems) returned."""
    entries: list[dict[str, Any]] = []
    for n, t in enumerate(read_native(data, name), start=first):
        schema, arrays = _arrow_columns(t)
        with ipc.new_file(str(dest / f"table{n}.arrow"), schema) as writer:
            writer.write_batch(pa.record_batch(arrays, schema=schema))
        entries.append(
            {
                "file": f"table{n}.arrow",
                "kind": t.kind,
                "sheet": t.sheet,
                "rows": len(t.rows),
                "headers": {f: h for f, h in t.headers.items() if f in t.columns},
                "skipped": {},
                "problems": [p.as_dict() for p in t.problems],
            }
        )
    return entries
