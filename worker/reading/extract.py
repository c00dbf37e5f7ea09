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
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from itertools import zip_longest
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.ipc as ipc

from worker.reading.discovery import CSV_SUFFIXES
from worker.reading.native import NATIVE_SUFFIXES, extract_native, recognise
from worker.reading.schema import HeaderMatch, classify_header
from worker.reading.skip import SKIP_REASONS, RowFilter

__all__ = ["READER_VERSION", "extract_tables"]

#: the form of the reader's output (manifest and Arrow files); a read cache of another
#: version is read again. 2: rows that are no data skipped, counts in the manifest
READER_VERSION: Final = 2
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
    """Collects text rows of one table into Arrow record batches written to an IPC file,
    without the rows that are no data (``worker.reading.skip``), counted by reason."""

    def __init__(self, path: Path, match: HeaderMatch, header: Sequence[Any], titles: Sequence[Sequence[Any]]) -> None:
        texts = [_cell_text(h) for h in header]
        self.filter = RowFilter(texts, match.fields, [[_cell_text(c) for c in row] for row in titles])
        #: (column position, name): the recognised fields, then the other headed columns
        self.columns: list[tuple[int, str]] = [(i, match.fields[i]) for i in range(len(texts)) if i in match.fields]
        taken = {n for _, n in self.columns}
        for i, text in enumerate(texts):
            if i in match.fields or text is None:
                continue
            name = f"extra:{text.strip()}"
            if name in taken:
                continue
            taken.add(name)
            self.columns.append((i, name))
        self.path = path
        self.schema = pa.schema([pa.field("_row", pa.int64())] + [pa.field(n, pa.string()) for _, n in self.columns])
        self.writer: ipc.RecordBatchFileWriter | None = None
        self.rows = 0
        self.skipped: Counter[str] = Counter()

    def write(self, row_numbers: list[int], rows: list[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.writer is None:
            self.writer = ipc.new_file(str(self.path), self.schema)
        width = self.filter.width
        written = {i for i, _ in self.columns}
        # every column of the header row is classified; an unheaded one only when not empty.
        # Columns are taken one at a time (a sheet's used range may be far wider than its table).
        by_column = zip_longest(*rows)
        cells: list[pa.Array] = []
        for i in range(width):
            col = next(by_column, ())
            if i in written or len(col) > col.count(None) + col.count(""):
                cells.append(pa.array([_cell_text(c) for c in col] or [None] * len(rows), type=pa.string()))
            else:
                cells.append(pa.nulls(len(rows), pa.string()))
        keep, skipped = self.filter.classify(cells)
        self.skipped.update(skipped)
        kept = pa.array(keep)
        arrays = [pa.array(row_numbers, type=pa.int64()).filter(kept)]
        arrays += [cells[i].filter(kept) for i, _ in self.columns]
        batch = pa.record_batch(arrays, schema=self.schema)
        if batch.num_rows:
            self.writer.write_batch(batch)
        self.rows += batch.num_rows

    def close(self) -> None:
        if self.writer is None:
            self.writer = ipc.new_file(str(self.path), self.schema)
        self.writer.close()


def _blank(row: Sequence[Any]) -> bool:
    return all(c is None or c == "" or (isinstance(c, str) and not c.strip()) for c in row)


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
    header = [*head[at], *([None] * (width - len(head[at])))]
    writer = _TableWriter(out / f"table{n}.arrow", match, header, head[:at])
    batch: list[Sequence[Any]] = []
    numbers: list[int] = []
    blank = pending = 0

    def data_rows() -> Iterator[tuple[int, Sequence[Any]]]:
        for i, r in enumerate(head[at + 1 :], start=at + 2):
            yield i, r
        for i, r in enumerate(rows, start=len(head) + 1):
            yield i, r

    for excel_row, r in data_rows():
        if _blank(r):
            pending += 1  # counted once a row follows: blank rows below the table are no gap
            continue
        blank, pending = blank + pending, 0
        batch.append(r)
        numbers.append(excel_row)
        if len(batch) >= BATCH_ROWS:
            writer.write(numbers, batch)
            batch, numbers = [], []
    writer.write(numbers, batch)
    writer.close()
    writer.skipped["blank"] += blank
    return {
        "file": f"table{n}.arrow",
        "kind": match.kind,
        "sheet": sheet,
        "rows": writer.rows,
        "headers": {f: match.headers[i] for i, f in match.fields.items()},
        "skipped": {r: writer.skipped[r] for r in SKIP_REASONS if writer.skipped[r]},
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
    with path.open("rb") as fp:
        head = fp.read(64)
    if path.suffix.lower() in NATIVE_SUFFIXES and recognise(head) is not None:
        # the clinic's systems' own files (UKE/HEN/SAH, result XML, zip of them): issue 15
        tables = extract_native(path.read_bytes(), path.name, dest)
        sheets_seen = [t["sheet"] for t in tables]
    elif path.suffix.lower() in CSV_SUFFIXES:
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
    manifest = {"version": READER_VERSION, "tables": tables, "sheets": sheets_seen}
    (dest / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
