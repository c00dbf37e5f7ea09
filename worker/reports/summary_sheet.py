"""The 「概要」 sheet: first, in red, the checks a run could not do for want of a table
(``RunSummary.warnings``); then period, counts per category and severity, money impact,
the input files, the returns block and how to read the workbook."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

import pandas as pd
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from rules import CATEGORY_LABELS_JA, SEVERITY_LABELS_JA
from worker.engine.results import RunSummary
from worker.reports.carry import Carried
from worker.reports.excel_safe import clean, put_text
from worker.reports.formats import SEVERITIES, Formats
from worker.reports.resolved_block import write_resolved
from worker.reports.row_height import row_heights
from worker.reports.stats import Stats
from worker.reports.text_lines import fit_lines, phrases

__all__ = ["write_summary_sheet"]

_STATUS_LABELS_JA: Final[Mapping[str, str]] = {"ok": "読込済", "partial": "一部読込", "error": "読込エラー"}

_SEVERITY_NOTES_JA: Final[Mapping[str, str]] = {
    "error": "修正しないと返戻・誤請求になります。",
    "warning": "誤りの可能性が高いため、確認してください。",
    "info": "参考情報です。対応は不要です。",
}

#: short names of the table kinds for the rows read per month (fit columns B–F)
_KINDS_JA: Final[Mapping[str, str]] = {"receipts": "レセプト", "online": "オン資", "cards": "券面", "returns": "返戻"}

#: columns of a warning line at the top (A–F merged, about 116 character widths)
_WARNING_WIDTH: Final = 90


def write_summary_sheet(
    ws: Worksheet,
    f: Formats,
    summary: RunSummary,
    stats: Stats,
    sheet_names: Sequence[str],
    reclaim_sheet_names: Sequence[str] = (),
    carried: Carried | None = None,
) -> None:
    """Fill the summary sheet; ``sheet_names``/``reclaim_sheet_names`` are the list sheets;
    ``carried`` (a previous list handed back) adds the block 「解消した指摘」."""
    # Columns: A label / file / category, B value / status / code, C..F counts (a file's
    # tables span C..F). A..F print one A4 landscape page wide (workbook.py's print setup).
    ws.set_column(0, 0, 44)
    ws.set_column(1, 1, 20)
    ws.set_column(2, 5, 14)
    ws.hide_gridlines(2)
    p = f.plain_run
    r = 0

    def text(col: int, value: object, fmt: Format) -> None:
        put_text(ws, r, col, clean(value), fmt, p)

    r = _write_warnings(ws, f, summary)
    text(0, "レセプト点検結果（修正リスト）", f.title)
    ws.set_row(r, 24)
    r += 2
    pairs: list[tuple[str, object]] = [
        ("対象期間", summary.period),
        ("作成日時", _format_dt(summary.finished_at)),
        ("点検したレセプト数", summary.receipts),
        ("指摘の件数", stats.total),
        ("指摘一覧のシート", "、".join(sheet_names)),
    ]
    if reclaim_sheet_names:
        pairs.append(("返戻再請求のシート", "、".join(reclaim_sheet_names)))
    pairs += [(f"読み込んだ表（{m.month or '診療年月なし'}）", _read_ja(m.rows)) for m in summary.read]
    for label, value in pairs:
        text(0, label, f.label)
        if isinstance(value, int):
            ws.write_number(r, 1, value, f.value_int)
        else:
            text(1, value, f.value)
        r += 1
    if stats.total == 0:
        text(0, _no_findings_ja(summary), f.note)
        r += 1

    # Input files
    r += 1
    text(0, "読み込んだファイル", f.section)
    r += 1
    ws.merge_range(r, 2, r, 5, "", f.header)  # then the header text, written into it
    for c, h in enumerate(("ファイル", "状態", "読み込んだ表・エラーの内容")):
        text(c, h, f.header)
    r += 1
    if not summary.files:
        text(0, "（なし）", f.cell)
        r += 1
    for fs in summary.files:
        is_error = fs.status == "error" or fs.half_read
        parts = (fs.message, fs.tables) if fs.status == "error" else (fs.tables, fs.message)
        detail = " ／ ".join(part for part in parts if part)
        _fit_row(ws, r, ((fs.path, 44), (detail, 56)))
        text(0, fs.path, f.cell_wrap)
        text(1, _STATUS_LABELS_JA.get(fs.status, fs.status), f.status_error if is_error else f.cell)
        ws.merge_range(r, 2, r, 5, "", f.cell_wrap)  # then the text, written safely into it
        text(2, detail, f.cell_wrap)
        r += 1

    # Counts per category x severity
    r += 1
    text(0, "区分別の指摘件数", f.section)
    r += 1
    headers = ("区分", "区分コード", *(SEVERITY_LABELS_JA[s] for s in SEVERITIES), "合計")
    for c, h in enumerate(headers):
        text(c, h, f.header)
    r += 1
    for cat, counts in stats.by_category.items():
        text(0, CATEGORY_LABELS_JA.get(cat, cat or "（区分なし）"), f.cell)
        text(1, cat, f.code)
        for i, s in enumerate(SEVERITIES):
            ws.write_number(r, 2 + i, counts[s], f.sev_count[s] if counts[s] else f.count)
        ws.write_number(r, 2 + len(SEVERITIES), counts["total"], f.count)
        r += 1
    text(0, "合計", f.total_label)
    ws.write_blank(r, 1, None, f.total_blank)
    for i, s in enumerate(SEVERITIES):
        ws.write_number(r, 2 + i, stats.by_severity[s], f.total_count)
    ws.write_number(r, 2 + len(SEVERITIES), stats.total, f.total_count)
    r += 1

    # Money impact
    r += 1
    text(0, "窓口負担の差額（計算できた指摘の合計）", f.section)
    r += 1
    for c, h in enumerate(("項目", "金額（円）", "件数")):
        text(c, h, f.header)
    r += 1
    money = (
        ("患者の払い過ぎ（返金が必要）", stats.overpaid_yen, stats.overpaid_count),
        ("患者の払い不足（追加徴収が必要）", stats.underpaid_yen, stats.underpaid_count),
    )
    for label, yen, count in money:
        text(0, label, f.cell)
        ws.write_number(r, 1, yen, f.count)
        ws.write_number(r, 2, count, f.count)
        r += 1

    # Returns (返戻)
    if summary.returns is not None:
        ret = summary.returns
        r += 1
        text(0, "返戻", f.section)
        r += 1
        for label, n in (
            ("返戻の件数", ret.total),
            ("元のレセプトと照合できた件数", ret.matched),
            ("照合できなかった件数", ret.unmatched),
        ):
            text(0, label, f.label)
            ws.write_number(r, 1, int(n), f.value_int)
            r += 1
        text(0, "事前チェックで指摘済みだった割合", f.label)
        share = ret.predicted_share
        if share is None:
            text(1, "—", f.value)
        else:
            ws.write_number(r, 1, share, f.value_pct)
            text(2, f"（照合できた{int(ret.matched):,}件中{int(ret.predicted):,}件）", f.note)
        r += 1
        r += 1
        for c, h in enumerate(("返戻の分類", "件数")):
            text(c, h, f.header)
        r += 1
        for label, n in ret.by_class.items():
            text(0, label, f.cell)
            ws.write_number(r, 1, int(n), f.count)
            r += 1

    # The previous list's findings that are gone (解消)
    r = write_resolved(ws, f, r, carried)

    # How to read
    r += 1
    text(0, "見方", f.section)
    r += 1
    for s in SEVERITIES:
        text(0, SEVERITY_LABELS_JA[s], f.sev_count[s])
        text(1, _SEVERITY_NOTES_JA[s], f.note)
        r += 1
    text(0, "窓口負担の差額：プラスは患者の払い過ぎ（返金）、マイナスは払い不足です。", f.note)
    r += 1
    text(0, "「元データ」の行は元のファイルでの行番号（Excelの行番号）です。", f.note)
    r += 1
    text(0, "2つの点検が同じ誤りを指摘したときは、指摘一覧では1行にまとめています（区分に両方を表示）。", f.note)
    r += 1
    text(0, "指摘一覧の「状態」は一覧から選べます（未対応・対応中・対応済・対象外）。", f.note)
    if reclaim_sheet_names:
        r += 1
        text(0, "「返戻再請求」：緑は再請求できる返戻、黄色は確認待ちの返戻です。", f.note)


def _write_warnings(ws: Worksheet, f: Formats, summary: RunSummary) -> int:
    """The run's warnings, red, in rows of their own above everything else (merged A–F,
    broken only between phrases so that they print whole); the next free row."""
    if not summary.warnings:
        return 0
    head = "注意：点検できなかった項目があります" if summary.checked else "注意：レセプトの点検はできませんでした"
    lines = [head] + [line for w in summary.warnings for line in fit_lines(phrases(w.message), _WARNING_WIDTH)]
    for r, line in enumerate(lines):
        ws.merge_range(r, 0, r, 5, "", f.status_error)
        put_text(ws, r, 0, clean(line), f.status_error, f.plain_run)
    return len(lines) + 1


def _read_ja(rows: Mapping[str, int]) -> str:
    """「レセプト 327件、オン資 325件、券面 312件」 (返戻 only when there are some)."""
    return "、".join(f"{ja} {rows.get(k, 0):,}件" for k, ja in _KINDS_JA.items() if k != "returns" or rows.get(k))


def _no_findings_ja(summary: RunSummary) -> str:
    """What an empty list means: nothing found, or nothing (or not everything) checked."""
    if not summary.checked:
        return "レセプト一覧がないため、点検できませんでした。"
    if summary.warnings:
        return "指摘はありませんでした（上の「注意」の点検はできていません）。"
    return "指摘はありませんでした。"


def _fit_row(ws: Worksheet, r: int, cells: Sequence[tuple[str, float]]) -> None:
    """Row ``r`` as tall as its wrapped ``cells`` (text, width) need."""
    (height,) = row_heights([(pd.Series([clean(t)]), w) for t, w in cells], 1)
    if height is not None:
        ws.set_row(r, height)


def _format_dt(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M")
