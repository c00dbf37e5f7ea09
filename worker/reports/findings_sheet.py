"""The 「指摘一覧」 sheets: the clerk's list (``clerk_list``), one line per problem,
coloured by severity, the clerk's 状態 (a drop-down) and メモ, the developer columns folded
away at the far right and the findings' keys in a hidden column; written a chunk at a time
with one explicitly typed write per cell."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from rules import CATEGORY_LABELS_JA, SEVERITY_LABELS_JA
from worker.engine.keys import CLERK_STATUSES, DEFAULT_CLERK_STATUS
from worker.reports.clerk_list import KEY_SEP
from worker.reports.excel_safe import put_text, text_series
from worker.reports.formats import (
    CATEGORY_LABEL,
    DATE_LABEL,
    FINDINGS_HEADERS,
    LAST_PRINTED,
    LAYOUT,
    ORIGIN_LABEL,
    SEVERITIES,
    SEVERITY_LABEL,
    STATUS_HEADER,
    Formats,
)
from worker.reports.page_setup import PageHeader, print_setup
from worker.reports.row_height import row_heights

__all__ = ["KEY_COLUMN", "STATUS_COLUMN", "column_widths", "write_findings_sheets"]

#: 0-based positions of the clerk's 状態 and of the hidden keys.
STATUS_COLUMN: Final = FINDINGS_HEADERS.index(STATUS_HEADER)
KEY_COLUMN: Final = next(i for i, c in enumerate(LAYOUT) if c.part == "key")
_WIDTH_SAMPLE_ROWS: Final = 2_000


def write_findings_sheets(
    sheets: Sequence[Worksheet], f: Formats, lines: pd.DataFrame, per_sheet: int, chunk_rows: int, page: PageHeader
) -> None:
    """``per_sheet`` lines of the clerk list on each of ``sheets``, prepared ``chunk_rows`` at a time."""
    n = len(lines)
    step = max(1, chunk_rows)
    widths = column_widths(lines)
    for k, ws in enumerate(sheets):
        lo = k * per_sheet
        hi = min(n, lo + per_sheet)
        _setup_findings_sheet(ws, f, hi - lo, widths, page)
        # Prepare (in pandas) and write a chunk at a time: bounds the Python objects alive.
        for start in range(lo, hi, step):
            chunk = lines.iloc[start : min(hi, start + step)]
            _write_rows(ws, f, _Chunk.of(chunk, widths), 1 + start - lo)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def column_widths(lines: pd.DataFrame) -> list[float]:
    """Each column's width: fixed, or (``fit``) the widest of the header and the first
    lines' values plus a margin, within the column's bounds (the money column: its
    largest amount over all lines, which must never show as ####)."""
    sample = lines.head(_WIDTH_SAMPLE_ROWS)
    widths: list[float] = []
    for c in LAYOUT:
        if c.fit is None or sample.empty:
            widths.append(c.width)
            continue
        lo, hi = c.fit
        if c.kind == "yen":  # a number never wraps: as wide as the largest amount shown
            most = pd.to_numeric(lines[c.source], errors="coerce").abs().max()
            shown = f"払い過ぎ {int(most):,}円" if pd.notna(most) else ""
            widths.append(min(hi, max(lo, float(_display_width(shown)) + 2)))
            continue
        src = "source_file" if c.source == ORIGIN_LABEL else c.source
        values = text_series(sample[src].astype(object)).unique().tolist()
        longest = max((_display_width(v) for v in values), default=0)
        widths.append(min(hi, max(lo, float(max(longest, _display_width(c.header)) + 1.5))))
    return widths


@dataclass(frozen=True)
class _Chunk:
    """Lines ready for the write loop: one Python list per sheet column."""

    columns: list[list[Any]]  # in LAYOUT order; text as str, numbers as int/float/None
    keys: list[str]  # severity per row ("" when unknown)
    special_rows: frozenset[int]  # rows holding a value that needs put_text's slow path
    heights: list[float | None]  # row heights that fit the wrapped text (None: one line)

    @classmethod
    def of(cls, chunk: pd.DataFrame, widths: Sequence[float]) -> _Chunk:
        sev = chunk["severity"].astype(object).where(chunk["severity"].notna(), "")
        derived = {
            SEVERITY_LABEL: sev.map(dict(SEVERITY_LABELS_JA)).fillna(sev),
            CATEGORY_LABEL: _category_labels(chunk["categories"]),
            DATE_LABEL: _dates(chunk),
            ORIGIN_LABEL: _origins(chunk),
        }
        columns: list[list[Any]] = []
        shown: list[tuple[pd.Series, float]] = []  # printed text, wrapped: sets the row's height
        special = pd.Series(False, index=chunk.index)
        for c, width in zip(LAYOUT, widths, strict=True):
            if c.kind in ("status", "memo"):  # the clerk's marks carried over (worker.reports.carry)
                default = DEFAULT_CLERK_STATUS if c.kind == "status" else ""
                given = chunk[c.source] if c.source in chunk.columns else pd.Series(default, index=chunk.index)
                marks = text_series(given.astype(object)).replace("", default)
                special |= marks.str.startswith("<r>") & marks.str.endswith("</r>")
                columns.append(marks.tolist())
                if c.kind == "memo":
                    shown.append((marks, width))
                continue
            col = derived[c.source] if c.source in derived else chunk[c.source]
            if c.kind == "text":
                text = text_series(col)
                special |= text.str.startswith("<r>") & text.str.endswith("</r>")
                columns.append(text.tolist())
                if c.part == "print":
                    shown.append((text, width))
            else:
                columns.append(_number_column(col))
        return cls(
            columns=columns,
            keys=sev.where(sev.isin(SEVERITIES), "").tolist(),
            special_rows=frozenset(special.to_numpy().nonzero()[0].tolist()),
            heights=row_heights(shown, len(chunk)),
        )


def _category_labels(codes: pd.Series) -> pd.Series:
    """Each line's categories in Japanese, one per line of the cell."""
    text = text_series(codes.astype(object))
    labels = {u: "\n".join(CATEGORY_LABELS_JA.get(c, c) for c in u.split(KEY_SEP) if c) for u in text.unique()}
    return text.map(labels)


def _dates(chunk: pd.DataFrame) -> pd.Series:
    """The service date (2026/10/09) or, where unknown, the claim month (2026/10)."""
    day = pd.to_datetime(chunk["service_date"]).dt.strftime("%Y/%m/%d").astype(object)
    month = text_series(chunk["claim_month"].astype(object)).str.replace("-", "/", regex=False)
    return day.where(day.notna(), month)


def _origins(chunk: pd.DataFrame) -> pd.Series:
    """Where the finding came from: the file on one line, sheet and row on the next."""
    file = text_series(chunk["source_file"].astype(object))
    sheet = text_series(chunk["sheet"].astype(object))
    row = pd.to_numeric(chunk["row"], errors="coerce")
    at = row.map(lambda r: f"{int(r)}行" if pd.notna(r) and r > 0 else "").astype(object)
    where = (sheet + " " + at).str.strip()
    return (file + "\n" + where).str.strip()


def _setup_findings_sheet(ws: Worksheet, f: Formats, n_rows: int, widths: list[float], page: PageHeader) -> None:
    for i, (c, width) in enumerate(zip(LAYOUT, widths, strict=True)):
        if c.part == "developer":  # grouped and folded away
            ws.set_column(i, i, width, None, {"level": 1, "hidden": True})
        elif c.part == "key":  # hidden; carries the folded group's (+) button
            ws.set_column(i, i, width, None, {"hidden": True, "collapsed": True})
        else:
            ws.set_column(i, i, width)
    ws.freeze_panes(1, 3)
    ws.autofilter(0, 0, n_rows, len(LAYOUT) - 1)
    ws.set_row(0, 30)
    for i, h in enumerate(FINDINGS_HEADERS):
        ws.write_string(0, i, h, f.header)
    print_setup(ws, page, n_rows, LAST_PRINTED)
    if n_rows:
        ws.data_validation(
            1,
            STATUS_COLUMN,
            n_rows,
            STATUS_COLUMN,
            {
                "validate": "list",
                "source": list(CLERK_STATUSES),
                "error_title": "状態",
                "error_message": "「" + "・".join(CLERK_STATUSES) + "」から選んでください。",
            },
        )
        # a line marked 対応済 or 対象外 greys out (our own formula, never input text)
        status = xl_col_to_name(STATUS_COLUMN)
        done = ",".join(f'${status}2="{s}"' for s in CLERK_STATUSES[2:])
        ws.conditional_format(
            1, 0, n_rows, LAST_PRINTED, {"type": "formula", "criteria": f"=OR({done})", "format": f.row_done}
        )


def _write_rows(ws: Worksheet, f: Formats, chunk: _Chunk, first_row: int) -> None:
    """The unavoidable per-cell loop: one explicitly typed write per cell."""
    kinds = [c.kind for c in LAYOUT]
    text_idx = [i for i, k in enumerate(kinds) if k == "text"]
    yen_idx = kinds.index("yen")
    int_idx = kinds.index("int")
    memo_idx = kinds.index("memo")
    wraps = [LAYOUT[i].part == "print" for i in text_idx]  # printed text wraps, the rest is one line
    row_text, row_line, row_yen, row_int, row_status = f.row_text, f.row_line, f.row_yen, f.row_int, f.row_status
    write_string = ws.write_string
    write_number = ws.write_number
    write_blank = ws.write_blank
    plain = f.plain_run
    special = chunk.special_rows
    set_row = ws.set_row
    texts = zip(*(chunk.columns[c] for c in text_idx), strict=True)
    marks = zip(chunk.columns[STATUS_COLUMN], chunk.columns[memo_idx], strict=True)
    rows = zip(chunk.keys, texts, chunk.columns[yen_idx], chunk.columns[int_idx], chunk.heights, marks, strict=True)

    for i, (key, values, yen, line, height, (status, memo)) in enumerate(rows):
        r = first_row + i
        if height is not None:
            set_row(r, height)
        ft = row_text[key]
        fl = row_line[key]
        if i in special:
            for c, v, wrap in zip(text_idx, values, wraps, strict=True):
                put_text(ws, r, c, v, ft if wrap else fl, plain)
        else:
            for c, v, wrap in zip(text_idx, values, wraps, strict=True):
                if v:
                    write_string(r, c, v, ft if wrap else fl)
                else:
                    write_blank(r, c, None, ft if wrap else fl)
        if yen is None:
            write_blank(r, yen_idx, None, row_yen[key])
        else:
            write_number(r, yen_idx, yen, row_yen[key])
        put_text(ws, r, STATUS_COLUMN, status, row_status[key], plain)
        put_text(ws, r, memo_idx, memo, ft, plain)
        if line is None:
            write_blank(r, int_idx, None, row_int[key])
        else:
            write_number(r, int_idx, line, row_int[key])


def _number_column(col: pd.Series) -> list[Any]:
    """A whole column as Python numbers, None where missing or not a number."""
    num = pd.to_numeric(col, errors="coerce")
    out: list[Any] = num.astype(object).where(num.notna(), None).tolist()
    return out
