"""The reader's child side: every table of one file written as Arrow IPC files.

``extract_tables(src, out)`` runs in the isolated child process (``worker.reading.isolation``).
It finds every table (one per sheet, header row anywhere in the first rows, kind recognised
from the headers), keeps every cell as TEXT (an insurer number never loses a zero because
we never let a library guess types; numbers Excel stored as numbers come back as their
integer text), and writes ``table<N>.arrow`` per table and ``manifest.json`` into ``out``.
Workbooks are read by fastexcel (``dtypes="string"``), a whole sheet to Arrow at once, and
classified on columns (``_extract_arrow``). CSV: the first lines (title lines may have fewer
fields than the table) by Python's ``csv`` module, the body below the header by pyarrow.csv
(``_extract_csv``); a body pyarrow would not take as it is (a line of another width, a blank
line) is read by Python's module like the head (``_extract_rows``), never dropped.
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

import fastexcel
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from worker.reading.csv_body import CsvLines, csv_body
from worker.reading.discovery import CSV_SUFFIXES
from worker.reading.native import NATIVE_SUFFIXES, extract_native, recognise
from worker.reading.schema import HeaderMatch, classify_header
from worker.reading.skip import SKIP_REASONS, RowFilter
from worker.reading.unread import UnreadSheet

__all__ = ["READER_VERSION", "UnreadableInputError", "extract_tables"]

#: the form of the reader's output (manifest and Arrow files); a read cache of another
#: version is read again. 2: rows that are no data skipped, counts in the manifest;
#: 3: workbooks read by fastexcel (Arrow text columns); 4: the sheets not read listed
#: under "unread" (``worker.reading.unread``)
READER_VERSION: Final = 4
#: rows at the top of a sheet searched for the header row
HEADER_SEARCH_ROWS: Final = 30
#: rows per Arrow record batch
BATCH_ROWS: Final = 50_000
#: the type of the text columns written: pandas holds text as large_string, so the parent
#: maps the file as it is (no copy; pages read when normalised, ``worker.reading.read._load``)
TEXT: Final = pa.large_string()


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
        self.schema = pa.schema([pa.field("_row", pa.int64())] + [pa.field(n, TEXT) for _, n in self.columns])
        self.writer: ipc.RecordBatchFileWriter | None = None
        self.rows = 0
        self.skipped: Counter[str] = Counter()

    def write(self, row_numbers: list[int], rows: list[Sequence[Any]]) -> None:
        """Python rows (CSV): converted cell by cell, one column at a time."""
        if not rows:
            return
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
        self.write_columns(pa.array(row_numbers, type=pa.int64()), cells)

    def write_columns(self, row_numbers: pa.Array, cells: list[pa.Array]) -> None:
        """Text columns (one per column of the header row, null = empty) of the rows
        ``row_numbers``: the rows that are no data dropped, the rest written."""
        if self.writer is None:
            self.writer = ipc.new_file(str(self.path), self.schema)
        keep, skipped = self.filter.classify(cells)
        self.skipped.update(skipped)
        kept = pa.array(keep)
        arrays = [row_numbers.filter(kept)]
        arrays += [cells[i].filter(kept).cast(TEXT) for i, _ in self.columns]
        batch = pa.record_batch(arrays, schema=self.schema)
        if batch.num_rows:
            self.writer.write_batch(batch)
        self.rows += batch.num_rows

    def close(self) -> None:
        if self.writer is None:
            self.writer = ipc.new_file(str(self.path), self.schema)
        self.writer.close()

    def abandon(self) -> None:
        """The table is refused: what was written goes."""
        if self.writer is not None:
            self.writer.close()
        self.path.unlink(missing_ok=True)


def _too_many(sheet: str, max_rows: int) -> UnreadSheet:
    return {"sheet": sheet, "rows": None, "reason": "too_many_rows", "limit": max_rows}


def _blank(row: Sequence[Any]) -> bool:
    return all(c is None or c == "" or (isinstance(c, str) and not c.strip()) for c in row)


def _extract_rows(
    rows: Iterator[Sequence[Any]], sheet: str, out: Path, n: int, unread: list[UnreadSheet], max_rows: int = 0
) -> dict[str, Any] | None:
    """Find the header in ``rows`` and write the table below it; None if no table (a sheet
    with rows but no header recognised is added to ``unread``, and a table of more than
    ``max_rows`` data rows: the reading stops there)."""
    head: list[Sequence[Any]] = []
    for r in rows:
        head.append(r)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    found = _find_header(head)
    if found is None:
        filled = sum(not _blank(r) for r in head) + sum(not _blank(r) for r in rows)
        if filled:
            unread.append({"sheet": sheet, "rows": filled, "reason": "no_header"})
        return None
    at, match = found
    width = max((len(r) for r in head), default=0)
    header = [*head[at], *([None] * (width - len(head[at])))]
    writer = _TableWriter(out / f"table{n}.arrow", match, header, head[:at])
    batch: list[Sequence[Any]] = []
    numbers: list[int] = []
    blank = pending = data = 0

    def data_rows() -> Iterator[tuple[int, Sequence[Any]]]:
        for i, r in enumerate(head[at + 1 :], start=at + 2):
            yield i, r
        for i, r in enumerate(rows, start=len(head) + 1):
            yield i, r

    for excel_row, r in data_rows():
        if _blank(r):
            pending += 1  # counted once a row follows: blank rows below the table are no gap
            continue
        blank, pending, data = blank + pending, 0, data + 1
        if max_rows and data > max_rows:  # refused: the rest is not read
            writer.abandon()
            unread.append(_too_many(sheet, max_rows))
            return None
        batch.append(r)
        numbers.append(excel_row)
        if len(batch) >= BATCH_ROWS:
            writer.write(numbers, batch)
            batch, numbers = [], []
    writer.write(numbers, batch)
    writer.close()
    writer.skipped["blank"] += blank
    return _table_info(writer, match, sheet, n)


def _table_info(writer: _TableWriter, match: HeaderMatch, sheet: str, n: int) -> dict[str, Any]:
    """The manifest's entry of one table."""
    return {
        "file": f"table{n}.arrow",
        "kind": match.kind,
        "sheet": sheet,
        "rows": writer.rows,
        "headers": {f: match.headers[i] for i, f in match.fields.items()},
        "skipped": {r: writer.skipped[r] for r in SKIP_REASONS if writer.skipped[r]},
    }


_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"


def _text_column(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A column as fastexcel gives it (``dtypes="string"``) in the form ``_cell_text`` gives
    a cell: "" as empty, a date cell at midnight as its date alone."""
    col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    col = col.cast(pa.string()) if col.type != pa.string() else col
    if col.null_count == len(col):
        return col
    col = pc.replace_substring_regex(col, pattern=_MIDNIGHT, replacement="\\1")
    return pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)


def _filled(col: pa.Array) -> npt.NDArray[np.bool_]:
    """Per row: the text column holds something other than spaces."""
    return np.asarray(pc.fill_null(pc.invert(pc.utf8_is_space(col)), False).to_numpy(zero_copy_only=False))


def _extract_arrow(
    columns: list[pa.ChunkedArray], sheet: str, out: Path, n: int, unread: list[UnreadSheet], max_rows: int = 0
) -> dict[str, Any] | None:
    """Like ``_extract_rows`` on a whole sheet read to Arrow at once (row i = Excel row i+1):
    the header in the first rows, the data below it classified and written column-wise.
    ``columns`` is emptied as the columns are converted (one sheet's text is held once).
    A table of more than ``max_rows`` data rows is refused (added to ``unread``)."""
    height = len(columns[0]) if columns else 0
    if height == 0:
        return None
    head_cols = [_text_column(c.slice(0, HEADER_SEARCH_ROWS)).to_pylist() for c in columns]
    head = [[col[r] for col in head_cols] for r in range(min(height, HEADER_SEARCH_ROWS))]
    found = _find_header(head)
    if found is None:
        anything = np.zeros(height, dtype=np.bool_)
        for c in columns:
            col = _text_column(c)
            if col.null_count < len(col):
                anything |= _filled(col)
        if anything.any():
            unread.append({"sheet": sheet, "rows": int(anything.sum()), "reason": "no_header"})
        return None
    at, match = found
    writer = _TableWriter(out / f"table{n}.arrow", match, head[at], head[:at])
    start = at + 1
    data: list[pa.Array] = []
    for i in range(len(columns)):
        data.append(_text_column(columns[i].slice(start)))
        columns[i] = None  # the sheet's copy goes now
    if not _write_body(writer, data, start + 1, sheet, unread, max_rows):
        return None
    return _table_info(writer, match, sheet, n)


def _write_body(
    writer: _TableWriter, data: list[pa.Array], first_row: int, sheet: str, unread: list[UnreadSheet], max_rows: int
) -> bool:
    """Write the text columns ``data`` (row 0 = the row numbered ``first_row``) through
    ``writer`` and close it: wholly blank rows dropped, those between data rows counted
    (not those below the table). False (the table abandoned, added to ``unread``) when it
    has more than ``max_rows`` data rows."""
    height = len(data[0]) if data else 0
    filled = np.zeros(height, dtype=np.bool_)
    for col in data:
        if col.null_count < len(col):
            filled |= _filled(col)
    rows = np.flatnonzero(filled)
    if max_rows and rows.size > max_rows:
        writer.abandon()
        unread.append(_too_many(sheet, max_rows))
        return False
    blank = int(rows[-1] + 1 - rows.size) if rows.size else 0
    for lo in range(0, rows.size, BATCH_ROWS):
        take = pa.array(rows[lo : lo + BATCH_ROWS])
        writer.write_columns(pa.array(take.to_numpy() + first_row, type=pa.int64()), [c.take(take) for c in data])
    writer.close()
    writer.skipped["blank"] += blank
    return True


class UnreadableInputError(ValueError):
    """A file our reader refuses, with a message for the clerk (Japanese, no cell value);
    named in ``worker.reading.isolation_outcome.OWN_ERRORS``."""


def _decode_csv(data: bytes) -> str:
    for enc in ("utf-8-sig", "cp932"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise UnreadableInputError("文字コードを判別できません（UTF-8 または Shift_JIS/CP932 で保存してください）")


def _extract_csv(
    text: str, sheet: str, out: Path, n: int, unread: list[UnreadSheet], max_rows: int = 0
) -> dict[str, Any] | None:
    """Like ``_extract_rows`` on the records of a CSV text: the header in the first records
    (Python's module), the body below it by pyarrow.csv (``csv_body``) when it takes it."""
    lines = CsvLines(text)
    head: list[list[str]] = []
    ends: list[int] = []
    for record in csv.reader(lines):
        head.append(record)
        ends.append(lines.taken)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    found = _find_header(head)
    if found is None:  # the Python path says what a file without a header holds
        return _extract_rows(iter(csv.reader(io.StringIO(text, newline=""))), sheet, out, n, unread, max_rows)
    at, match = found
    width = max(len(r) for r in head)
    data = csv_body(text[ends[at] :], width)
    if data is None:
        return _extract_rows(iter(csv.reader(io.StringIO(text, newline=""))), sheet, out, n, unread, max_rows)
    header = [*head[at], *([None] * (width - len(head[at])))]
    writer = _TableWriter(out / f"table{n}.arrow", match, header, head[:at])
    if not _write_body(writer, data, at + 2, sheet, unread, max_rows):
        return None
    return _table_info(writer, match, sheet, n)


def extract_tables(src: str, out: str, max_rows: int = 0) -> None:
    """Child-process entry: write every table of ``src`` into the folder ``out``; a table of
    more than ``max_rows`` data rows (0: no limit) is refused, listed under "unread"."""
    path, dest = Path(src), Path(out)
    dest.mkdir(parents=True, exist_ok=True)
    tables: list[dict[str, Any]] = []
    unread: list[UnreadSheet] = []
    sheets_seen: list[str] = []
    with path.open("rb") as fp:
        head = fp.read(64)
    if path.suffix.lower() in NATIVE_SUFFIXES and recognise(head) is not None:
        # the clinic's systems' own files (UKE/HEN/SAH, result XML, zip of them): issue 15
        tables = extract_native(path.read_bytes(), path.name, dest)
        sheets_seen = [t["sheet"] for t in tables]
        for t in [t for t in tables if max_rows and t["rows"] > max_rows]:
            tables.remove(t)
            (dest / t["file"]).unlink(missing_ok=True)
            unread.append(_too_many(t["sheet"], max_rows))
    elif path.suffix.lower() in CSV_SUFFIXES:
        info = _extract_csv(_decode_csv(path.read_bytes()), "", dest, 0, unread, max_rows)
        sheets_seen.append("")
        if info:
            tables.append(info)
    else:
        reader = fastexcel.read_excel(str(path))
        damaged: fastexcel.FastExcelError | None = None
        # no more rows than a table may hold (and its header rows, and one to tell it is more)
        cap = max_rows + HEADER_SEARCH_ROWS + 1 if max_rows else None
        for n, name in enumerate(reader.sheet_names):
            sheets_seen.append(name)
            # every cell as text (no type guessing), from the sheet's first row (skip_rows=0)
            try:
                sheet = reader.load_sheet(n, header_row=None, skip_rows=0, n_rows=cap, dtypes="string")
            except fastexcel.FastExcelError as exc:  # this sheet alone: the others may read
                damaged = damaged or exc
                unread.append({"sheet": name, "rows": None, "reason": "damaged"})
                continue
            if cap is not None and sheet.height >= cap:  # more rows than the limit allows
                unread.append(_too_many(name, max_rows))
                continue
            columns = pa.table(sheet).columns
            del sheet  # calamine's cells, once in Arrow
            info = _extract_arrow(columns, name, dest, n, unread, max_rows)
            del columns
            if info:
                tables.append(info)
        if damaged is not None and not tables:
            raise damaged  # nothing read: the file is the problem, not one sheet
    manifest = {
        "version": READER_VERSION,
        "max_rows": max_rows,
        "tables": tables,
        "unread": unread,
        "sheets": sheets_seen,
    }
    (dest / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
