"""The documents a run adds next to corrections.xlsx when there is something to list:
保険者照会票.xlsx (``inquiry``) and 窓口精算リスト.xlsx (``settlement``).

``plan_documents`` decides which (by the findings) and returns a writer per file name;
``write_reports`` publishes them with corrections.xlsx and findings.json and removes an
earlier run's document that this run has nothing for (so it is never taken for this run's).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Final

import pandas as pd

from worker.engine.results import RunSummary
from worker.reports.carry import Statuses, key_month
from worker.reports.inquiry import INQUIRY_NAME, inquiry_items, write_inquiry
from worker.reports.page_setup import PageHeader, period_label
from worker.reports.settlement import SETTLEMENT_NAME, settlement_rows, write_settlement

__all__ = ["DOCUMENT_NAMES", "plan_documents"]

DOCUMENT_NAMES: Final = (INQUIRY_NAME, SETTLEMENT_NAME)


def plan_documents(
    findings: pd.DataFrame,
    context: pd.DataFrame | None,
    summary: RunSummary,
    clinic: str = "",
    claim_month: str = "",
    settled: Statuses | None = None,
) -> dict[str, Callable[[Path], None]]:
    """File name -> writer of each document this run has something for (possibly none);
    ``settled``: the clerk's 状態 and メモ of the settlement list, by finding key."""
    month = key_month(summary, claim_month)  # the month the findings are keyed by, as the list does
    created = summary.finished_at.strftime("%Y-%m-%d %H:%M")
    page = PageHeader(clinic, period_label(claim_month or summary.period), created)
    out: dict[str, Callable[[Path], None]] = {}
    items = inquiry_items(findings, context)
    if len(items):
        out[INQUIRY_NAME] = lambda p: write_inquiry(p, items, page, clinic)
    rows = settlement_rows(findings, context, clinic, month, settled)
    if len(rows):
        out[SETTLEMENT_NAME] = partial(write_settlement, rows=rows, page=page)
    return out
