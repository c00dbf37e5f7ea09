"""Reports: the clerk's workbook (corrections.xlsx) and the machines' findings.json.

``write_reports`` (``write.py``) writes both atomically; the workbook is assembled in
``workbook.py`` from its sheets (``summary_sheet``, ``findings_sheet`` showing the clerk's
lines of ``clerk_list``, ``reclaims_sheet``) with the formats of ``formats.py``, the print
setup of ``page_setup.py`` (rows sized by ``row_height.py``) and the safety rules of
``excel_safe.py``; the JSON is ``findings_json.py``. Reports use the engine's result types
(``worker.engine.results``, ``finding_context``) and finding keys (``worker.engine.keys``),
nothing else of the engine.

Names are loaded on first use (PEP 562): the CLI imports ``worker.reports.text_lines``
(standard library only) before it starts the reader, and must not pay for pandas and
XlsxWriter through this package's ``__init__``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from worker.reports.carry import Statuses
    from worker.reports.documents import DOCUMENT_NAMES
    from worker.reports.formats import FINDINGS_HEADERS, FINDINGS_SHEET, RECLAIMS_SHEET, SUMMARY_SHEET
    from worker.reports.handed_back import HandedBack, read_handed_back
    from worker.reports.marked import MarkedLine, MarkedList, NotMarkedListError, is_marked_list, read_marked
    from worker.reports.reclaims import RECLAIM_POINTS_COLUMN, RECLAIM_STATUS_COLUMN
    from worker.reports.settlement_marks import SettlementMarks, is_settlement_list, read_settlement_marks
    from worker.reports.workbook import MAX_ROWS_PER_SHEET
    from worker.reports.write import JSON_NAME, XLSX_NAME, write_reports

_WHERE = {
    "Statuses": "carry",
    "DOCUMENT_NAMES": "documents",
    "FINDINGS_HEADERS": "formats",
    "FINDINGS_SHEET": "formats",
    "RECLAIMS_SHEET": "formats",
    "SUMMARY_SHEET": "formats",
    "HandedBack": "handed_back",
    "read_handed_back": "handed_back",
    "MarkedLine": "marked",
    "MarkedList": "marked",
    "NotMarkedListError": "marked",
    "is_marked_list": "marked",
    "read_marked": "marked",
    "RECLAIM_POINTS_COLUMN": "reclaims",
    "RECLAIM_STATUS_COLUMN": "reclaims",
    "SettlementMarks": "settlement_marks",
    "is_settlement_list": "settlement_marks",
    "read_settlement_marks": "settlement_marks",
    "MAX_ROWS_PER_SHEET": "workbook",
    "JSON_NAME": "write",
    "XLSX_NAME": "write",
    "write_reports": "write",
}

__all__ = [
    "DOCUMENT_NAMES",
    "FINDINGS_HEADERS",
    "FINDINGS_SHEET",
    "JSON_NAME",
    "MAX_ROWS_PER_SHEET",
    "RECLAIMS_SHEET",
    "RECLAIM_POINTS_COLUMN",
    "RECLAIM_STATUS_COLUMN",
    "SUMMARY_SHEET",
    "XLSX_NAME",
    "HandedBack",
    "MarkedLine",
    "MarkedList",
    "NotMarkedListError",
    "SettlementMarks",
    "Statuses",
    "is_marked_list",
    "is_settlement_list",
    "read_handed_back",
    "read_marked",
    "read_settlement_marks",
    "write_reports",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'worker.reports' has no attribute {name!r}")
    return getattr(importlib.import_module(f"worker.reports.{_WHERE[name]}"), name)
