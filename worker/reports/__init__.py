"""Reports: the clerk's workbook (corrections.xlsx) and the machines' findings.json.

``write_reports`` (``write.py``) writes both atomically; the workbook is assembled in
``workbook.py`` from its sheets (``summary_sheet``, ``findings_sheet`` showing the clerk's
lines of ``clerk_list``, ``reclaims_sheet``) with the formats of ``formats.py``, the print
setup of ``page_setup.py`` (rows sized by ``row_height.py``) and the safety rules of
``excel_safe.py``; the JSON is ``findings_json.py``. Reports use the engine's result types
(``worker.engine.results``, ``finding_context``) and finding keys (``worker.engine.keys``),
nothing else of the engine.
"""

from worker.reports.carry import Statuses
from worker.reports.formats import FINDINGS_HEADERS, FINDINGS_SHEET, RECLAIMS_SHEET, SUMMARY_SHEET
from worker.reports.handed_back import HandedBack, read_handed_back
from worker.reports.marked import MarkedLine, MarkedList, NotMarkedListError, is_marked_list, read_marked
from worker.reports.reclaims import RECLAIM_POINTS_COLUMN, RECLAIM_STATUS_COLUMN
from worker.reports.settlement_marks import SettlementMarks, is_settlement_list, read_settlement_marks
from worker.reports.workbook import MAX_ROWS_PER_SHEET
from worker.reports.write import JSON_NAME, XLSX_NAME, write_reports

__all__ = [
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
