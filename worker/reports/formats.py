"""The workbook's look: sheet names, severity and reclaim colours, the findings sheet's
columns (header, source column, kind, width) and the cell formats of every sheet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import xlsxwriter
from xlsxwriter.format import Format

from rules import SEVERITY_ORDER

__all__ = [
    "CATEGORY_LABEL",
    "FINDINGS_HEADERS",
    "FINDINGS_SHEET",
    "LAYOUT",
    "RECLAIMS_SHEET",
    "RECLAIM_FILL",
    "SEVERITIES",
    "SEVERITY_FILL",
    "SEVERITY_LABEL",
    "SUMMARY_SHEET",
    "Formats",
]

SUMMARY_SHEET: Final = "概要"
FINDINGS_SHEET: Final = "指摘一覧"
RECLAIMS_SHEET: Final = "返戻再請求"

#: Severities, most severe first.
SEVERITIES: Final[tuple[str, ...]] = tuple(sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.__getitem__))

#: Row colour of the findings sheets by severity.
SEVERITY_FILL: Final[Mapping[str, str]] = {
    "error": "#FFC7CE",  # light red
    "warning": "#FFEB9C",  # light yellow
    "info": "#DDEBF7",  # light blue
}

#: Row colour of the reclaims sheet by the value of its 「再請求」 column.
RECLAIM_FILL: Final[Mapping[str, str]] = {
    "可": "#C6EFCE",  # light green: can be reclaimed
    "確認待ち": "#FFEB9C",  # light yellow: waiting for a check
}


# Findings sheet layout: (header, source column, kind, width).
# kind: "text" (write_string), "yen" (number, #,##0, blank where NA), "int" (number).
SEVERITY_LABEL: Final = "_severity_ja"
CATEGORY_LABEL: Final = "_category_ja"

LAYOUT: Final[tuple[tuple[str, str, str, float], ...]] = (
    ("重要度", SEVERITY_LABEL, "text", 8),
    ("区分", CATEGORY_LABEL, "text", 34),
    ("患者ID", "patient_id", "text", 12),
    ("診療年月", "claim_month", "text", 10),
    ("内容", "message", "text", 70),
    ("対応", "action", "text", 60),
    ("正しい値", "expected", "text", 18),
    ("現在の値", "actual", "text", 18),
    ("窓口負担の差額(円)", "copay_diff_yen", "yen", 13),
    ("ファイル", "source_file", "text", 28),
    ("シート", "sheet", "text", 16),
    ("行", "row", "int", 8),
    ("区分コード", "category", "text", 26),
    ("ルールID", "rule_id", "text", 16),
)

#: Headers of the findings sheets, in order (exported for callers and tests).
FINDINGS_HEADERS: Final[tuple[str, ...]] = tuple(h for h, _, _, _ in LAYOUT)


class Formats:
    """Every cell format of the workbook, added once to ``wb``."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        add = wb.add_format
        self.title = add({"bold": True, "font_size": 16})
        self.section = add({"bold": True, "font_size": 12, "bottom": 2})
        self.label = add({"bold": True, "bg_color": "#F2F2F2", "border": 1})
        self.value = add({"border": 1})
        self.value_int = add({"border": 1, "num_format": "#,##0"})
        self.value_pct = add({"border": 1, "num_format": "0.0%"})
        self.header = add(
            {
                "bold": True,
                "bg_color": "#D9D9D9",
                "border": 1,
                "valign": "vcenter",
                "text_wrap": True,
            }
        )
        self.cell = add({"border": 1})
        self.code = add({"border": 1, "font_size": 8, "font_color": "#595959"})
        self.count = add({"border": 1, "num_format": "#,##0"})
        self.total_label = add({"bold": True, "border": 1, "top": 2})
        self.total_count = add({"bold": True, "border": 1, "top": 2, "num_format": "#,##0"})
        self.total_blank = add({"border": 1, "top": 2})
        self.status_error = add({"border": 1, "bold": True, "bg_color": "#FFC7CE"})
        self.note = add({"font_color": "#404040"})
        self.plain_run = add({})  # a run format for rich strings (default font)
        sev_fills = {s: SEVERITY_FILL.get(s) for s in (*SEVERITIES, "")}
        self.row_text: dict[str, Format] = {}
        self.row_yen: dict[str, Format] = {}
        self.row_int: dict[str, Format] = {}
        self.sev_count: dict[str, Format] = {}
        for s, fill in sev_fills.items():
            base: dict[str, Any] = {"bg_color": fill} if fill else {}
            self.row_text[s] = add(base)
            self.row_yen[s] = add({**base, "num_format": "#,##0"})
            self.row_int[s] = add({**base, "num_format": "0"})
            self.sev_count[s] = add({**base, "border": 1, "num_format": "#,##0"})
        # Reclaims rows, by the value of 「再請求」 ("" = no colour).
        self.reclaim_text: dict[str, Format] = {}
        self.reclaim_num: dict[str, Format] = {}
        for key, fill in (("", None), *RECLAIM_FILL.items()):
            base = {"bg_color": fill} if fill else {}
            self.reclaim_text[key] = add(base)
            self.reclaim_num[key] = add({**base, "num_format": "#,##0"})
