"""Raw tables built from rows of text, as the reader hands them over (canonical field names)."""

from __future__ import annotations

import pandas as pd

from worker.reading import RawTable, TableKind


def raw_table(
    kind: TableKind, rows: list[dict[str, str]], *, file: str | None = None, sheet: str = "Sheet1"
) -> RawTable:
    """A ``RawTable`` of ``rows`` (text cells; missing keys are empty), data from Excel row 2.

    ``file`` defaults to ``<kind>.xlsx``; each field's header is its own name.
    """
    frame = pd.DataFrame(rows, dtype="object")
    frame.insert(0, "_row", range(2, 2 + len(rows)))
    return RawTable(
        kind=kind, file=file or f"{kind}.xlsx", sheet=sheet, frame=frame, headers={c: c for c in frame.columns}
    )
