"""The workbook's look: sheet names, severity and reclaim colours, the findings sheet's
columns (``LAYOUT``: header, source, kind, width, printed or not) and the cell formats of
every sheet."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import xlsxwriter
from xlsxwriter.format import Format

from rules import SEVERITY_ORDER

__all__ = [
    "CATEGORY_LABEL",
    "DATE_LABEL",
    "FINDINGS_HEADERS",
    "FINDINGS_SHEET",
    "KEY_HEADER",
    "LAST_PRINTED",
    "LAYOUT",
    "ORIGIN_LABEL",
    "RECLAIMS_SHEET",
    "RECLAIM_FILL",
    "SEVERITIES",
    "SEVERITY_FILL",
    "SEVERITY_LABEL",
    "STATUS_HEADER",
    "SUMMARY_SHEET",
    "YEN_FORMAT",
    "Column",
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


@dataclass(frozen=True)
class Column:
    """A column of the findings sheets: its header, the clerk list's column it shows
    (``clerk_list`` plus the derived ``SEVERITY_LABEL``, ``CATEGORY_LABEL``, ``DATE_LABEL``,
    ``ORIGIN_LABEL``), how it is written, its width (``fit``: from the content, between
    the bounds) and where it sits (``part``)."""

    header: str
    source: str
    #: "text" (write_string), "yen" (number shown with 払い過ぎ/払い不足), "int" (number),
    #: "status" (the clerk's 状態: a drop-down, 未対応 at first), "memo" (the clerk's メモ: blank)
    kind: str
    width: float
    fit: tuple[float, float] | None = None
    #: "print" (the clerk's columns, printed; long text wraps and the row grows to fit it),
    #: "screen" (shown, not printed, one line: the whole value in the cell), "developer"
    #: (grouped and folded away at the far right), "key" (hidden: the findings' keys)
    part: str = "print"


SEVERITY_LABEL: Final = "_severity_ja"
CATEGORY_LABEL: Final = "_category_ja"
DATE_LABEL: Final = "_date_ja"
ORIGIN_LABEL: Final = "_origin_ja"
#: The header of the hidden key column (a later step reads the clerk's 状態 back by it).
KEY_HEADER: Final = "キー"
STATUS_HEADER: Final = "状態"

LAYOUT: Final[tuple[Column, ...]] = (
    Column("重要度", SEVERITY_LABEL, "text", 6.5),
    Column("患者ID", "patient_id", "text", 9, fit=(7, 12)),
    Column("氏名", "name", "text", 11, fit=(8, 14)),
    Column("カナ", "kana", "text", 12, fit=(8, 14)),
    Column("診療日", DATE_LABEL, "text", 10.5),
    Column("区分", CATEGORY_LABEL, "text", 16),
    Column("内容", "messages", "text", 42),
    Column("対応", "action", "text", 36),
    Column("窓口負担の差額", "copay_diff_yen", "yen", 15, fit=(15, 24)),
    Column("元データ", ORIGIN_LABEL, "text", 16, fit=(12, 18)),
    Column(STATUS_HEADER, "status", "status", 8.5),
    Column("メモ", "memo", "memo", 14),
    Column("正しい値", "expected", "text", 18, part="screen"),
    Column("現在の値", "actual", "text", 30, part="screen"),
    Column("ファイル", "source_file", "text", 22, part="developer"),
    Column("シート", "sheet", "text", 12, part="developer"),
    Column("行", "row", "int", 6, part="developer"),
    Column("区分コード", "categories", "text", 26, part="developer"),
    Column("ルールID", "rule_ids", "text", 24, part="developer"),
    Column(KEY_HEADER, "keys", "text", 44, part="key"),
)

#: Headers of the findings sheets, in order (exported for callers and tests).
FINDINGS_HEADERS: Final[tuple[str, ...]] = tuple(c.header for c in LAYOUT)
#: The last printed column (0-based): the print area is A to it.
LAST_PRINTED: Final = max(i for i, c in enumerate(LAYOUT) if c.part == "print")

#: The money column's number format: the sign spelled out (positive = the patient paid too much).
YEN_FORMAT: Final = '"払い過ぎ "#,##0"円";"払い不足 "#,##0"円";"0円"'


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
        self.cell = add({"border": 1, "valign": "top"})
        # a long text of the summary (a file's tables or error): wraps, top-aligned
        self.cell_wrap = add({"border": 1, "text_wrap": True, "valign": "top"})
        self.code = add({"border": 1, "font_size": 8, "font_color": "#595959"})
        self.count = add({"border": 1, "num_format": "#,##0"})
        self.total_label = add({"bold": True, "border": 1, "top": 2})
        self.total_count = add({"bold": True, "border": 1, "top": 2, "num_format": "#,##0"})
        self.total_blank = add({"border": 1, "top": 2})
        self.status_error = add({"border": 1, "bold": True, "bg_color": "#FFC7CE"})
        self.note = add({"font_color": "#404040"})
        self.plain_run = add({})  # a run format for rich strings (default font)
        # a finding the clerk marked 対応済 or 対象外 (a conditional format): greyed out
        self.row_done = add({"font_color": "#7F7F7F", "bg_color": "#F2F2F2"})
        sev_fills = {s: SEVERITY_FILL.get(s) for s in (*SEVERITIES, "")}
        self.row_text: dict[str, Format] = {}
        self.row_line: dict[str, Format] = {}
        self.row_yen: dict[str, Format] = {}
        self.row_int: dict[str, Format] = {}
        self.row_status: dict[str, Format] = {}
        self.sev_count: dict[str, Format] = {}
        for s, fill in sev_fills.items():
            base: dict[str, Any] = {"bg_color": fill} if fill else {}
            # list rows: thin grey borders (they print), long text wraps, rows grow to fit
            row: dict[str, Any] = {**base, "border": 1, "border_color": "#A6A6A6", "valign": "top"}
            self.row_text[s] = add({**row, "text_wrap": True})
            self.row_line[s] = add(row)  # one line (columns not printed)
            self.row_yen[s] = add({**row, "num_format": YEN_FORMAT})
            self.row_int[s] = add({**row, "num_format": "0"})
            self.row_status[s] = add({**row, "align": "center"})
            self.sev_count[s] = add({**base, "border": 1, "num_format": "#,##0"})
        # Reclaims rows, by the value of 「再請求」 ("" = no colour).
        self.reclaim_text: dict[str, Format] = {}
        self.reclaim_num: dict[str, Format] = {}
        for key, fill in (("", None), *RECLAIM_FILL.items()):
            base = {"bg_color": fill} if fill else {}
            row = {**base, "border": 1, "border_color": "#A6A6A6", "valign": "top"}
            self.reclaim_text[key] = add({**row, "text_wrap": True})
            self.reclaim_num[key] = add({**row, "num_format": "#,##0"})
