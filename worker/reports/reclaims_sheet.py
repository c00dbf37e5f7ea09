"""The 「返戻再請求」 sheets: the prepared reclaims, all text except 「請求点数」, rows
coloured by 「再請求」, column widths from the content, long text wrapped, printed one
page wide with the header row on every page."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any, Final

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from worker.reports.excel_safe import clean, put_text, text_series
from worker.reports.formats import RECLAIM_FILL, Formats
from worker.reports.page_setup import PageHeader, print_setup
from worker.reports.reclaims import RECLAIM_POINTS_COLUMN, RECLAIM_STATUS_COLUMN
from worker.reports.row_height import row_heights

__all__ = ["write_reclaims_sheets"]

#: Reclaims sheet column widths: (min, max) by content; headers with these words get the wide range.
_RECLAIM_WIDTH: Final = (6.0, 22.0)
_RECLAIM_WIDE_WIDTH: Final = (30.0, 40.0)
_RECLAIM_WIDE_WORDS: Final = ("対応",)
_WIDTH_SAMPLE_ROWS: Final = 500


def write_reclaims_sheets(
    sheets: Sequence[Worksheet], f: Formats, reclaims: pd.DataFrame, per_sheet: int, chunk_rows: int, page: PageHeader
) -> None:
    """``per_sheet`` prepared reclaims on each of ``sheets``, written ``chunk_rows`` at a time."""
    n = len(reclaims)
    step = max(1, chunk_rows)
    widths = _reclaim_widths(reclaims)
    headers = [clean(h) for h in reclaims.columns]
    for k, ws in enumerate(sheets):
        lo = k * per_sheet
        hi = min(n, lo + per_sheet)
        for c, width in enumerate(widths):
            ws.set_column(c, c, width)
        ws.freeze_panes(1, 0)
        if headers:
            ws.autofilter(0, 0, hi - lo, len(headers) - 1)
        ws.set_row(0, 30)
        for c, h in enumerate(headers):
            put_text(ws, 0, c, h, f.header, f.plain_run)
        print_setup(ws, page, hi - lo, max(0, len(headers) - 1))
        for start in range(lo, hi, step):
            chunk = reclaims.iloc[start : min(hi, start + step)]
            _write_reclaim_rows(ws, f, chunk, 1 + start - lo, widths)


def _write_reclaim_rows(
    ws: Worksheet, f: Formats, chunk: pd.DataFrame, first_row: int, widths: Sequence[float]
) -> None:
    """Reclaims rows: text with put_text (never a formula/URL/markup), 「請求点数」 as a number."""
    names = list(chunk.columns)
    if RECLAIM_STATUS_COLUMN in names:
        status = text_series(chunk[RECLAIM_STATUS_COLUMN].astype(object))
        keys: list[str] = status.where(status.isin(list(RECLAIM_FILL)), "").tolist()
    else:
        keys = [""] * len(chunk)
    columns: list[tuple[bool, list[Any]]] = []  # (is the number column, values)
    wrapped: list[tuple[pd.Series, float]] = []
    for i, name in enumerate(names):
        col = chunk.iloc[:, i]
        if name == RECLAIM_POINTS_COLUMN:
            columns.append((True, col.tolist()))
        else:
            text = text_series(col.astype(object))
            columns.append((False, text.tolist()))
            wrapped.append((text, widths[i]))
    heights = row_heights(wrapped, len(chunk))
    plain = f.plain_run
    for i, key in enumerate(keys):
        r = first_row + i
        if heights[i] is not None:
            ws.set_row(r, heights[i])
        ft = f.reclaim_text[key]
        for c, (is_number, values) in enumerate(columns):
            v = values[i]
            if not is_number:
                put_text(ws, r, c, v, ft, plain)
            elif v is None:
                ws.write_blank(r, c, None, f.reclaim_num[key])
            elif isinstance(v, str):
                put_text(ws, r, c, clean(v), ft, plain)
            else:
                ws.write_number(r, c, v, f.reclaim_num[key])


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def _reclaim_widths(reclaims: pd.DataFrame) -> list[float]:
    """Column widths from the header and the first rows, wider for the 対応 column."""
    sample = reclaims.head(_WIDTH_SAMPLE_ROWS)
    widths: list[float] = []
    for i, name in enumerate(reclaims.columns):
        values = text_series(sample.iloc[:, i].astype(object)).tolist()
        longest = max((_display_width(v) for v in values), default=0)
        lo, hi = _RECLAIM_WIDE_WIDTH if any(w in name for w in _RECLAIM_WIDE_WORDS) else _RECLAIM_WIDTH
        widths.append(min(hi, max(lo, float(max(longest, _display_width(name)) + 2))))
    return widths
