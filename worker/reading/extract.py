"""The reader's child side: every table of one file written as Arrow IPC files.

``extract_tables(src, out)`` runs in the isolated child process (``worker.reading.isolation``).
It finds every table (one per sheet, header row anywhere in the first rows, kind recognised
from the headers), keeps every cell as TEXT (an insurer number never loses a zero because
we never let a library guess types; numbers Excel stored as numbers come back as their
integer text), and writes ``table<N>.arrow`` per table and ``manifest.json`` into ``out``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.ipc as ipc

from worker.reading.discovery import CSV_SUFFIXES
from worker.reading.schema import HeaderMatch, classify_header

__all__ = ["extract_tables"]

#: rows at the top of a sheet searched for the header row
HEADER_SEARCH_ROWS: Final = 30
#: rows per Arrow record batch
BATCH_ROWS: Final = 50_000


def _cell_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.time() != time(0) else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _find_header(rows: Sequence[Sequence[Any]]) -> tuple[int, HeaderMatch] | None:
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        match = classify_header([_cell_text(c) for c in row])
        if match is not None:
            return i, match
    return None


class _TableWriter:
    """Collects text rows of one table into Arrow record batches written to an IPC file."""

    def __init__(self, path: Path, match: HeaderMatch, width: int) -> None:
        self.match = match
        self.columns: list[tuple[int, str]] = []
        used: set[str] = set()
        for i in range(width):
            if i in match.fields:
                name = match.fields[i]
            else:
                continue
            used.add(name)
            self.columns.append((i, name))
        self.extras: list[tuple[int, str]] = []
        self.path = path
        self.schema_fields = [pa.field("_row", pa.int64())] + [pa.field(n, pa.string()) for _, n in self.columns]
        self.writer: ipc.RecordBatchFileWriter | None = None
        self.rows = 0

    def add_extras(self, header: Sequence[Any]) -> None:
        taken = {n for _, n in self.columns}
        for i, h in enumerate(header):
            text = _cell_text(h)
            if i in self.match.fields or text is None:
                continue
            name = f"extra:{text.strip()}"
            if name in taken:
                continue
            taken.add(name)
            self.extras.append((i, name))
            self.schema_fields.append(pa.field(name, pa.string()))

    def write(self, row_numbers: list[int], rows: list[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.writer is None:
            self.writer = ipc.new_file(str(self.path), pa.schema(self.schema_fields))
        arrays = [pa.array(row_numbers, type=pa.int64())]
        for i, _ in self.columns + self.extras:
            arrays.append(pa.array([_cell_text(r[i]) if i < len(r) else None for r in rows], type=pa.string()))
        self.writer.write_batch(pa.record_batch(arrays, schema=pa.schema(self.schema_fields)))
        self.rows += len(rows)

    def close(self) -> None:
        if self.writer is None:
            self.writer = ipc.new_file(str(self.path), pa.schema(self.schema_fields))
        self.writer.close()


def _extract_rows(rows: Iterator[Sequence[Any]], sheet: str, out: Path, n: int) -> dict[str, Any] | None:
    """Find the header in ``rows`` and write the table below it; None if no table."""
    head: list[Sequence[Any]] = []
    for r in rows:
        head.append(r)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    found = _find_header(head)
    if found is None:
        return None
    at, match = found
    width = max((len(r) for r in head), default=0)
    writer = _TableWriter(out / f"table{n}.arrow", match, width)
    writer.add_extras(head[at])
    batch: list[Sequence[Any]] = []
    numbers: list[int] = []

    def data_rows() -> Iterator[tuple[int, Sequence[Any]]]:
        for i, r in enumerate(head[at + 1 :], start=at + 2):
            yield i, r
        for i, r in enumerate(rows, start=len(head) + 1):
            yield i, r

    for excel_row, r in data_rows():
        if all(c is None or c == "" or (isinstance(c, str) and not c.strip()) for c in r):
            continue
        batch.append(r)
        numbers.append(excel_row)
        if len(batch) >= BATCH_ROWS:
            writer.write(numbers, batch)
            batch, numbers = [], []
    writer.write(numbers, batch)
    writer.close()
    return {
        "file": f"table{n}.arrow",
        "kind": match.kind,
        "sheet": sheet,
        "rows": writer.rows,
        "headers": {f: match.headers[i] for i, f in match.fields.items()},
    }


def _decode_csv(data: bytes) -> str:
    for enc in ("utf-8-sig", "cp932"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ValueError("文字コードを判別できません（UTF-8 または Shift_JIS/CP932 で保存してください）")


def extract_tables(src: str, out: str) -> None:
    """Child-process entry: write every table of ``src`` into the folder ``out``."""
    path, dest = Path(src), Path(out)
    dest.mkdir(parents=True, exist_ok=True)
    tables: list[dict[str, Any]] = []
    sheets_seen: list[str] = []
    if path.suffix.lower() in CSV_SUFFIXES:
        text = _decode_csv(path.read_bytes())
        rows = csv.reader(io.StringIO(text, newline=""))
        info = _extract_rows(iter(rows), path.stem, dest, 0)
        sheets_seen.append("")
        if info:
            info["sheet"] = ""
            tables.append(info)
    else:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        for n, name in enumerate(wb.sheet_names):
            sheets_seen.append(name)
            sheet = wb.get_sheet_by_name(name)
            info = _extract_rows(iter(sheet.iter_rows()), name, dest, n)
            if info:
                tables.append(info)
    (dest / "manifest.json").write_text(json.dumps({"tables": tables, "sheets": sheets_seen}, ensure_ascii=False))
