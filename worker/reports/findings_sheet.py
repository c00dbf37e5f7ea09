"""The 「指摘一覧」 sheets: one row per finding, coloured by severity, written a chunk at a
time with one explicitly typed write per cell."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from rules import CATEGORY_LABELS_JA, SEVERITY_LABELS_JA
from worker.reports.excel_safe import put_text, text_series
from worker.reports.formats import CATEGORY_LABEL, FINDINGS_HEADERS, LAYOUT, SEVERITIES, SEVERITY_LABEL, Formats

__all__ = ["write_findings_sheets"]


def write_findings_sheets(
    sheets: Sequence[Worksheet], f: Formats, findings: pd.DataFrame, per_sheet: int, chunk_rows: int
) -> None:
    """``per_sheet`` findings on each of ``sheets``, prepared ``chunk_rows`` at a time."""
    n = len(findings)
    step = max(1, chunk_rows)
    for k, ws in enumerate(sheets):
        lo = k * per_sheet
        hi = min(n, lo + per_sheet)
        _setup_findings_sheet(ws, f, hi - lo)
        # Prepare (in pandas) and write a chunk at a time: bounds the Python objects alive.
        for start in range(lo, hi, step):
            chunk = findings.iloc[start : min(hi, start + step)]
            _write_rows(ws, f, _Chunk.of(chunk), 1 + start - lo)


@dataclass(frozen=True)
class _Chunk:
    """Findings rows ready for the write loop: one Python list per sheet column."""

    columns: list[list[Any]]  # in LAYOUT order; text as str, numbers as int/float/None
    keys: list[str]  # severity per row ("" when unknown)
    special_rows: frozenset[int]  # rows holding a value that needs put_text's slow path

    @classmethod
    def of(cls, chunk: pd.DataFrame) -> _Chunk:
        sev = chunk["severity"].astype(object).where(chunk["severity"].notna(), "")
        cat = chunk["category"].astype(object).where(chunk["category"].notna(), "")
        labels = {
            SEVERITY_LABEL: sev.map(dict(SEVERITY_LABELS_JA)).fillna(sev),
            CATEGORY_LABEL: cat.map(dict(CATEGORY_LABELS_JA)).fillna(cat),
        }
        columns: list[list[Any]] = []
        special = pd.Series(False, index=chunk.index)
        for _, src, kind, _ in LAYOUT:
            col = labels[src] if src in labels else chunk[src]
            if kind == "text":
                text = text_series(col)
                special |= text.str.startswith("<r>") & text.str.endswith("</r>")
                columns.append(text.tolist())
            else:
                columns.append(_number_column(col))
        return cls(
            columns=columns,
            keys=sev.where(sev.isin(SEVERITIES), "").tolist(),
            special_rows=frozenset(special.to_numpy().nonzero()[0].tolist()),
        )


def _setup_findings_sheet(ws: Worksheet, f: Formats, n_rows: int) -> None:
    for c, (_, _, _, width) in enumerate(LAYOUT):
        ws.set_column(c, c, width)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, n_rows, len(LAYOUT) - 1)
    ws.set_row(0, 30)
    for c, h in enumerate(FINDINGS_HEADERS):
        ws.write_string(0, c, h, f.header)


def _write_rows(ws: Worksheet, f: Formats, chunk: _Chunk, first_row: int) -> None:
    """The unavoidable per-cell loop: one explicitly typed write per cell."""
    kinds = [kind for _, _, kind, _ in LAYOUT]
    text_idx = [i for i, k in enumerate(kinds) if k == "text"]
    yen_idx = kinds.index("yen")
    int_idx = kinds.index("int")
    row_text, row_yen, row_int = f.row_text, f.row_yen, f.row_int
    write_string = ws.write_string
    write_number = ws.write_number
    write_blank = ws.write_blank
    plain = f.plain_run
    special = chunk.special_rows
    texts = zip(*(chunk.columns[c] for c in text_idx), strict=True)
    rows = zip(chunk.keys, texts, chunk.columns[yen_idx], chunk.columns[int_idx], strict=True)

    for i, (key, values, yen, line) in enumerate(rows):
        r = first_row + i
        ft = row_text[key]
        if i in special:
            for c, v in zip(text_idx, values, strict=True):
                put_text(ws, r, c, v, ft, plain)
        else:
            for c, v in zip(text_idx, values, strict=True):
                if v:
                    write_string(r, c, v, ft)
                else:
                    write_blank(r, c, None, ft)
        if yen is None:
            write_blank(r, yen_idx, None, row_yen[key])
        else:
            write_number(r, yen_idx, yen, row_yen[key])
        if line is None:
            write_blank(r, int_idx, None, row_int[key])
        else:
            write_number(r, int_idx, line, row_int[key])


def _number_column(col: pd.Series) -> list[Any]:
    """A whole column as Python numbers, None where missing or not a number."""
    num = pd.to_numeric(col, errors="coerce")
    out: list[Any] = num.astype(object).where(num.notna(), None).tolist()
    return out
