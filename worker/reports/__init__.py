"""Reports: the clerk's workbook (corrections.xlsx) and the machines' findings.json."""

from worker.reports.workbook import (
    FINDINGS_HEADERS,
    FINDINGS_SHEET,
    JSON_NAME,
    RECLAIMS_SHEET,
    SUMMARY_SHEET,
    XLSX_NAME,
    write_reports,
)

__all__ = [
    "FINDINGS_HEADERS",
    "FINDINGS_SHEET",
    "JSON_NAME",
    "RECLAIMS_SHEET",
    "SUMMARY_SHEET",
    "XLSX_NAME",
    "write_reports",
]
