"""corrections.xlsx: the workbook created safely and its sheets in order (概要, 指摘一覧,
返戻再請求), each list split over several sheets when it exceeds Excel's rows."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pandas as pd
import xlsxwriter

from worker.engine.results import RunSummary
from worker.reports.excel_safe import WORKBOOK_OPTIONS
from worker.reports.findings_sheet import write_findings_sheets
from worker.reports.formats import FINDINGS_SHEET, RECLAIMS_SHEET, SUMMARY_SHEET, Formats
from worker.reports.reclaims_sheet import write_reclaims_sheets
from worker.reports.stats import Stats
from worker.reports.summary_sheet import write_summary_sheet

__all__ = ["MAX_ROWS_PER_SHEET", "PREP_CHUNK_ROWS", "write_xlsx"]

#: Data rows per findings sheet: Excel's 1,048,576 rows minus the header row.
MAX_ROWS_PER_SHEET: int = 1_048_575

#: Rows prepared at a time for the findings and reclaims sheets (bounds the Python objects alive).
PREP_CHUNK_ROWS: int = 10_000


def write_xlsx(
    findings: pd.DataFrame,
    summary: RunSummary,
    stats: Stats,
    path: Path,
    work_dir: Path,
    reclaims: pd.DataFrame | None = None,
) -> None:
    """Write the workbook to ``path`` (XlsxWriter's row files go to ``work_dir``, which the
    caller removes); ``reclaims`` (prepared, see ``prepare_reclaims``) adds its sheets."""
    wb = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, **WORKBOOK_OPTIONS, "tmpdir": str(work_dir)},
    )
    closed = False
    try:
        fmts = Formats(wb)
        per_sheet = max(1, MAX_ROWS_PER_SHEET)
        names = _sheet_names(FINDINGS_SHEET, len(findings), per_sheet)
        reclaim_names = [] if reclaims is None else _sheet_names(RECLAIMS_SHEET, len(reclaims), per_sheet)
        summary_ws = wb.add_worksheet(SUMMARY_SHEET)
        sheets = [wb.add_worksheet(n) for n in names]
        reclaim_sheets = [wb.add_worksheet(n) for n in reclaim_names]
        write_summary_sheet(summary_ws, fmts, summary, stats, names, reclaim_names)
        write_findings_sheets(sheets, fmts, findings, per_sheet, PREP_CHUNK_ROWS)
        if reclaims is not None:
            write_reclaims_sheets(reclaim_sheets, fmts, reclaims, per_sheet, PREP_CHUNK_ROWS)
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


def _sheet_names(base: str, n_rows: int, per_sheet: int) -> list[str]:
    """``base``, ``base(2)``, ... : as many sheets as ``n_rows`` need (at least one)."""
    n_sheets = max(1, -(-n_rows // per_sheet))
    return [base if i == 0 else f"{base}({i + 1})" for i in range(n_sheets)]
