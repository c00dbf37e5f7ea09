"""The body of a CSV below its header, read by pyarrow.csv (every column as text), and the
line counter that tells where the records Python's ``csv`` module read for the header end.
Used by ``worker.reading.extract`` in the reader child (``_extract_csv``)."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = ["CsvLines", "csv_body"]


class CsvLines:
    """The lines of ``text`` for ``csv.reader`` (which takes one at a time, never ahead), and
    how many characters it has taken: where the records read so far end."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text, newline=""))
        self.taken = 0

    def __iter__(self) -> CsvLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.taken += len(line)
        return line


def csv_body(body: str, width: int) -> list[pa.Array] | None:
    """The records of ``body`` as ``width`` text columns (null = empty) read by pyarrow.csv,
    or None when a record has another number of fields (a blank line, a note line below the
    table) or pyarrow cannot parse it: the caller then reads it with Python's module."""
    if not body:
        return [pa.array([], pa.string()) for _ in range(width)]
    names = [str(i) for i in range(width)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(body.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=lambda _row: "error"
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    empty = pa.scalar(None, pa.string())
    out = []
    for column in table.columns:
        col = column.combine_chunks()
        out.append(pc.if_else(pc.equal(col, ""), empty, col))
    return out
