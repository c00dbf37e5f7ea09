"""corrections.xlsx: the workbook created safely and its sheets in order (概要, 指摘一覧,
返戻再請求), each list split over several sheets when it exceeds Excel's rows, every sheet
set up to print (``page_setup``)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Final

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from worker.engine.results import RunSummary
from worker.reports.carry import Carried, key_month, line_marks
from worker.reports.clerk_list import clerk_list
from worker.reports.excel_safe import IN_MEMORY_ROWS, WORKBOOK_OPTIONS
from worker.reports.findings_sheet import KEY_COLUMN, write_findings_sheets
from worker.reports.formats import FINDINGS_SHEET, RECLAIMS_SHEET, SUMMARY_SHEET, Formats
from worker.reports.page_setup import PageHeader, period_label, print_setup
from worker.reports.reclaims_sheet import write_reclaims_sheets
from worker.reports.stats import Stats
from worker.reports.summary_sheet import write_summary_sheet

__all__ = ["KEYS_NAME", "MAX_ROWS_PER_SHEET", "PREP_CHUNK_ROWS", "write_xlsx"]

#: Data rows per findings sheet: Excel's 1,048,576 rows minus the header row.
MAX_ROWS_PER_SHEET: int = 1_048_575

#: Rows prepared at a time for the findings and reclaims sheets (bounds the Python objects alive).
PREP_CHUNK_ROWS: int = 10_000

#: The sheet-level defined name of each findings sheet's key cells (it follows the column
#: wherever the clerk moves it).
KEYS_NAME: Final = "henrei_keys"
#: The 概要 sheet prints columns A to F on at most two pages.
_SUMMARY_LAST_COL: Final = 5
_SUMMARY_PAGES: Final = 2


def write_xlsx(
    findings: pd.DataFrame,
    summary: RunSummary,
    stats: Stats,
    path: Path,
    work_dir: Path,
    reclaims: pd.DataFrame | None = None,
    *,
    context: pd.DataFrame | None = None,
    clinic: str = "",
    claim_month: str = "",
    carried: Carried | None = None,
) -> None:
    """Write the workbook to ``path`` (XlsxWriter's row files go to ``work_dir``, which the
    caller removes); ``reclaims`` (prepared, see ``prepare_reclaims``) adds its sheets.

    ``context`` (the engine's finding context) gives the lines their names and dates;
    ``clinic`` and ``claim_month`` (a job's; "" for the CLI) head every page and key the
    findings as the findings store does (a run of one month keys by that month);
    ``carried`` gives the lines the clerk's marks and 「概要」 the findings gone (解消)."""
    lines = clerk_list(findings, context, clinic, key_month(summary, claim_month))
    if carried is not None:
        lines["status"], lines["memo"] = line_marks(lines["keys"], carried.statuses)
    page = PageHeader(clinic, period_label(claim_month or summary.period), _format_dt(summary))
    rows = len(lines) + (len(reclaims) if reclaims is not None else 0)
    streamed = {"constant_memory": True, "tmpdir": str(work_dir)}
    wb = xlsxwriter.Workbook(
        str(path), {**WORKBOOK_OPTIONS, **({"in_memory": True} if rows <= IN_MEMORY_ROWS else streamed)}
    )
    closed = False
    try:
        fmts = Formats(wb)
        per_sheet = max(1, MAX_ROWS_PER_SHEET)
        names = _sheet_names(FINDINGS_SHEET, len(lines), per_sheet)
        reclaim_names = [] if reclaims is None else _sheet_names(RECLAIMS_SHEET, len(reclaims), per_sheet)
        summary_ws = wb.add_worksheet(SUMMARY_SHEET)
        sheets = [wb.add_worksheet(n) for n in names]
        reclaim_sheets = [wb.add_worksheet(n) for n in reclaim_names]
        write_summary_sheet(summary_ws, fmts, summary, stats, names, reclaim_names, carried)
        last_row = summary_ws.dim_rowmax or 0
        print_setup(summary_ws, page, last_row, _SUMMARY_LAST_COL, title_rows=0, pages_tall=_SUMMARY_PAGES)
        write_findings_sheets(sheets, fmts, lines, per_sheet, PREP_CHUNK_ROWS, page)
        for k, name in enumerate(names):
            n = min(per_sheet, len(lines) - k * per_sheet)
            if n > 0:
                key_col = xl_col_to_name(KEY_COLUMN)
                wb.define_name(f"'{name}'!{KEYS_NAME}", f"='{name}'!${key_col}$2:${key_col}${n + 1}")
        if reclaims is not None:
            write_reclaims_sheets(reclaim_sheets, fmts, reclaims, per_sheet, PREP_CHUNK_ROWS, page)
        summary_ws.activate()
        wb.close()
        closed = True
    finally:
        if not closed:
            # Release XlsxWriter's row-data temp files; work_dir is removed by the caller.
            for ws in wb.worksheets():
                fh = getattr(ws, "row_data_fh", None)
                if fh is not None:
                    with contextlib.suppress(Exception):
                        fh.close()


def _format_dt(summary: RunSummary) -> str:
    return summary.finished_at.strftime("%Y-%m-%d %H:%M")


def _sheet_names(base: str, n_rows: int, per_sheet: int) -> list[str]:
    """``base``, ``base(2)``, ... : as many sheets as ``n_rows`` need (at least one)."""
    n_sheets = max(1, -(-n_rows // per_sheet))
    return [base if i == 0 else f"{base}({i + 1})" for i in range(n_sheets)]
