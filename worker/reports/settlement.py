"""窓口精算リスト.xlsx: per patient and claim, what to refund or collect at the window.

One row per claim (finding origin) with money: ``full_charge_collected`` (collected minus
the right copay) or else ``ratio_billed_vs_verified`` (copay at the billed ratio minus at
the verified one) — the amount is the finding's ``copay_diff_yen`` exactly (positive: the
patient paid too much, 返金; negative: too little, 徴収). A claim whose ratio only the
insurer can settle (``ratio_online_vs_card``) is listed without an amount, 「保険者の回答待ち」,
with the two possible amounts in its reason. 状態 is a drop-down (未精算/返金済/徴収済), and a
hidden column 「キー」 (sheet-level name ``henrei_settlement_keys``) holds the finding's key
(``worker.engine.keys``): a marked list handed back (``settlement_marks``; ``--previous``,
or uploaded to the worker) gives the next list of the month the same 状態 and メモ.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from rules.domain.context import yen
from worker.engine.finding_context import ORIGIN
from worker.engine.keys import finding_keys
from worker.reports.excel_safe import WORKBOOK_OPTIONS, clean, put_text
from worker.reports.page_setup import PageHeader, print_setup

__all__ = ["KEYS_NAME", "SETTLEMENT_NAME", "SETTLEMENT_STATUSES", "SHEET", "settlement_rows", "write_settlement"]

SETTLEMENT_NAME: Final = "窓口精算リスト.xlsx"
SHEET: Final = "窓口精算"
KEYS_NAME: Final = "henrei_settlement_keys"
SETTLEMENT_STATUSES: Final = ("未精算", "返金済", "徴収済")
COLUMNS: Final = (
    ("患者ID", 10), ("氏名", 14), ("診療日", 11), ("請求した割合", 11), ("正しい割合", 12),
    ("精算", 9), ("差額（円）", 12), ("理由", 52), ("状態", 9), ("メモ", 22), ("キー", 42),
)  # fmt: skip
KEY_COLUMN: Final = len(COLUMNS) - 1
_PRIORITY: Final = {"FULL_CHARGE": 0, "RATIO_BILLED": 1, "RATIO_ONLINE_CARD": 2}


def _t(v: Any) -> str:
    return " ".join(clean(v).split())


def _ratio(v: Any) -> str:
    return "" if pd.isna(v) else f"{int(float(v))}割"


def _yen(v: float) -> str:
    return f"{abs(int(v)):,}円を{'返金' if v > 0 else '徴収'}"


def _pending_reason(r: dict[Any, Any]) -> str:
    """Both possible outcomes of a ratio only the insurer can settle."""
    points, billed = r.get("points"), r.get("billed_ratio")
    parts = []
    for label, col in (("オンライン資格確認", "on_online_ratio"), ("券面", "cd_card_ratio")):
        ratio = r.get(col)
        if pd.isna(points) or pd.isna(billed) or pd.isna(ratio):
            continue
        diff = float(yen(pd.Series([points]), pd.Series([billed]))[0] - yen(pd.Series([points]), pd.Series([ratio]))[0])
        parts.append(f"{label}の{_ratio(ratio)}が正しければ" + ("差額なし" if diff == 0 else _yen(diff)))
    return (
        "負担割合がオンラインと券面で異なります。保険者照会票で確認後に精算してください（" + "、".join(parts) + "）。"
    )


def settlement_rows(
    findings: pd.DataFrame,
    context: pd.DataFrame | None,
    clinic: str = "",
    claim_month: str = "",
    settled: Mapping[str, tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """The list's rows (``COLUMNS`` but the key as ``key``, the amount as a signed float or
    NaN), one per claim, by patient and date, with the 状態 and メモ ``settled`` holds for
    the key (the clerk's marks on the previous list); empty when nothing to settle."""
    if findings.empty:
        return pd.DataFrame()
    f = findings.reset_index(drop=True).copy()
    f["key"] = finding_keys(clinic, claim_month, f)
    f["row"] = pd.to_numeric(f["row"], errors="coerce").fillna(0).round().astype("int64")
    money = f["rule_id"].isin(["FULL_CHARGE", "RATIO_BILLED"]) & f["copay_diff_yen"].notna()
    money &= pd.to_numeric(f["copay_diff_yen"], errors="coerce").ne(0)
    f = f[money | f["rule_id"].eq("RATIO_ONLINE_CARD")].copy()
    if f.empty:
        return pd.DataFrame()
    f["_p"] = f["rule_id"].map(_PRIORITY)
    f = f.sort_values("_p", kind="stable").drop_duplicates(subset=list(ORIGIN)).sort_values(list(ORIGIN))
    if context is not None and not context.empty:
        f = f.merge(context.drop_duplicates(subset=list(ORIGIN)), how="left", on=list(ORIGIN), validate="one_to_one")
    rows = []
    marks = settled or {}
    for r in f.to_dict("records"):
        status, memo = marks.get(r["key"], (SETTLEMENT_STATUSES[0], ""))
        amount = float(r["copay_diff_yen"]) if r["rule_id"] != "RATIO_ONLINE_CARD" else float("nan")
        pending = pd.isna(amount)
        day = r.get("service_date")
        rows.append(
            {
                "患者ID": _t(r["patient_id"]),
                "氏名": _t(r.get("name")),
                "診療日": "" if day is None or pd.isna(day) else pd.Timestamp(day).strftime("%Y-%m-%d"),
                "請求した割合": _ratio(r.get("billed_ratio")) if r["rule_id"] != "FULL_CHARGE" else "10割",
                "正しい割合": "保険者に確認" if pending else _t(r["expected"]),
                "精算": "回答待ち" if pending else ("返金" if amount > 0 else "徴収"),
                "差額（円）": amount,
                "理由": _pending_reason(r) if pending else _t(r["message"]),
                "状態": status,
                "メモ": memo,
                "key": r["key"],
            }
        )
    return pd.DataFrame(rows).sort_values(["患者ID", "診療日"], kind="stable").reset_index(drop=True)


def write_settlement(path: Path, rows: pd.DataFrame, page: PageHeader) -> None:
    """Write ``rows`` (``settlement_rows``) to ``path``: one sheet, A4 landscape, one page wide."""
    wb = xlsxwriter.Workbook(str(path), {**WORKBOOK_OPTIONS, "in_memory": True})
    font = {"font_name": "Meiryo UI", "font_size": 10, "valign": "top", "text_wrap": True, "border": 1}
    head = wb.add_format({**font, "bold": True, "bg_color": "#DDEBF7", "valign": "vcenter"})
    cell = wb.add_format(font)
    money = wb.add_format({**font, "num_format": '"返金 "#,##0"円";"徴収 "#,##0"円";"0円"'})
    done = wb.add_format({"font_color": "#808080", "bg_color": "#EEEEEE"})
    total = wb.add_format({"font_name": "Meiryo UI", "font_size": 10, "bold": True})
    ws = wb.add_worksheet(SHEET)
    for c, (name, width) in enumerate(COLUMNS):
        ws.write_string(0, c, name, head)
        ws.set_column(c, c, width, None, {"hidden": True} if c == KEY_COLUMN else None)
    n = len(rows)
    for i, r in enumerate(rows.to_dict("records"), start=1):
        for c, (name, _w) in enumerate(COLUMNS):
            if name == "差額（円）":
                if pd.isna(r[name]):
                    ws.write_blank(i, c, None, cell)
                else:
                    ws.write_number(i, c, float(r[name]), money)
            else:
                text = clean(r["key" if c == KEY_COLUMN else name])
                put_text(ws, i, c, text, cell, cell)
        lines = max(1, -(-len(clean(r["理由"])) // 28))
        ws.set_row(i, 15 * lines + 3)
    status = COLUMNS.index(("状態", 9))
    if n:
        ws.data_validation(1, status, n, status, {"validate": "list", "source": list(SETTLEMENT_STATUSES)})
        col = xl_col_to_name(status)
        ws.conditional_format(
            1, 0, n, KEY_COLUMN - 1,
            {"type": "formula", "criteria": f'=OR(${col}2="返金済",${col}2="徴収済")', "format": done},
        )  # fmt: skip
        key = xl_col_to_name(KEY_COLUMN)
        wb.define_name(f"'{SHEET}'!{KEYS_NAME}", f"='{SHEET}'!${key}$2:${key}${n + 1}")
    amounts = pd.to_numeric(rows["差額（円）"], errors="coerce") if n else pd.Series(dtype=float)
    refund, collect = amounts[amounts > 0], amounts[amounts < 0]
    put_text(
        ws, n + 2, 1,
        f"返金 計 {int(refund.sum()):,}円（{len(refund)}件）　徴収 計 {int(-collect.sum()):,}円（{len(collect)}件）"
        f"　保険者の回答待ち {int(amounts.isna().sum())}件"
        f"　精算済 {int(rows['状態'].isin(SETTLEMENT_STATUSES[1:]).sum()) if n else 0}件",
        total, total,
    )  # fmt: skip
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(n, 1), KEY_COLUMN - 1)
    print_setup(ws, page, n + 2, KEY_COLUMN - 1)
    wb.close()
