"""The association's report: survey.xlsx (the questionnaire's tables, native charts,
A4 landscape like the clerk's workbook) and summary.json (the same published cells).

Every published cell went through ``suppress``: 「―」 where small. Clinic identifiers
appear only on the optional sheet 「医療機関別（内部資料）」, marked internal on screen
and on every printed page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd
import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from worker.files import atomic_files
from worker.reports.page_setup import PageHeader, period_label, print_setup
from worker.survey.aggregate import ITEMS, Imported, SurveyData, survey_tables
from worker.survey.suppression import HIDDEN, MIN_CLINICS, MIN_EVENTS, suppress

__all__ = ["JSON_NAME", "XLSX_NAME", "write_survey_report"]

XLSX_NAME: Final = "survey.xlsx"
JSON_NAME: Final = "summary.json"
_TITLES: Final = {
    "by_type": "問2・問3 区分別の回答（医療機関数）",
    "items": "問4 トラブルの種類（「あった」医療機関と件数）",
    "ratio_kinds": "負担割合の齟齬（保険の種類別）",
    "full_charge": "問7 「一旦10割負担を患者に請求した」事例",
    "returns": "問8 保険者からの返戻",
    "returns_by_class": "返戻の理由別",
    "by_prefecture": "問1 都道府県別（医療機関数）",
    "monthly": "月別推移（件数）",
}
_NOTE: Final = (
    f"「{HIDDEN}」は、{MIN_EVENTS}件未満または{MIN_CLINICS}医療機関未満の値と、"
    "合計から逆算できてしまう値を伏せたものです。"
)


@dataclass
class _Fmt:
    title: Any
    head: Any
    label: Any
    num: Any
    pct: Any
    note: Any
    internal: Any


def _formats(wb: Workbook) -> _Fmt:
    base = {"font_name": "Meiryo UI", "font_size": 10, "border": 1, "valign": "vcenter"}
    return _Fmt(
        title=wb.add_format({"font_name": "Meiryo UI", "bold": True, "font_size": 13}),
        head=wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "align": "center"}),
        label=wb.add_format({**base, "text_wrap": True}),
        num=wb.add_format({**base, "num_format": "#,##0", "align": "right"}),
        pct=wb.add_format({**base, "num_format": "0.0%", "align": "right"}),
        note=wb.add_format({"font_name": "Meiryo UI", "font_size": 9, "font_color": "#595959", "text_wrap": True}),
        internal=wb.add_format({"font_name": "Meiryo UI", "bold": True, "font_color": "#C00000", "font_size": 12}),
    )


def _table(
    ws: Worksheet,
    f: _Fmt,
    row: int,
    title: str,
    table: pd.DataFrame,
    *,
    label: str = "",
    shares: dict[str, int] | None = None,
    head_height: float = 32,
) -> tuple[int, int]:
    """Write a published table at ``row``; returns (first data row, next free row).
    ``shares``: column -> denominator, adding a 割合 column after it (「―」 stays 「―」)."""
    ws.write(row, 0, title, f.title)
    row += 1
    cols: list[tuple[str, str | None]] = []
    for c in table.columns:
        cols.append((str(c), None))
        if shares and c in shares:
            cols.append((f"割合（n={shares[c]:,}）", str(c)))
    ws.set_row(row, head_height)
    ws.write(row, 0, label, f.head)
    for j, (name, _) in enumerate(cols, start=1):
        ws.write(row, j, name, f.head)
    first = row + 1
    for i, (idx, values) in enumerate(table.iterrows()):
        r = first + i
        ws.write(r, 0, str(idx), f.label)
        for j, (name, of) in enumerate(cols, start=1):
            v = values[of] if of is not None else values[name]
            if v == HIDDEN:
                ws.write_string(r, j, HIDDEN, f.num)
            elif of is not None:
                denom = shares[of] if shares else 0
                ws.write_number(r, j, int(v) / denom if denom else 0, f.pct)
            else:
                ws.write_number(r, j, int(v), f.num)
    return first, first + len(table) + 1


def _bar(wb: Workbook, ws: Worksheet, sheet: str, first: int, n: int, col: int, title: str, anchor: str) -> None:
    chart = wb.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": title,
            "categories": [sheet, first, 0, first + n - 1, 0],
            "values": [sheet, first, col, first + n - 1, col],
            "data_labels": {"value": True, "num_format": "#,##0"},
            "fill": {"color": "#2F75B5"},
        }
    )
    chart.set_title({"name": title, "name_font": {"size": 11, "name": "Meiryo UI"}})
    chart.set_legend({"none": True})
    chart.set_y_axis({"reverse": True, "interval_unit": 1, "num_font": {"name": "Meiryo UI", "size": 9}})
    chart.set_x_axis({"num_font": {"name": "Meiryo UI", "size": 8}, "major_gridlines": {"visible": True}})
    chart.set_size({"width": 680, "height": 30 * n + 90})
    ws.insert_chart(anchor, chart)


def write_survey_report(
    data: SurveyData,
    imported: Imported,
    out_dir: Path,
    *,
    months: Sequence[str] | None = None,
    per_clinic: bool = False,
    now: datetime | None = None,
) -> tuple[Path, Path]:
    """Write ``out_dir``/survey.xlsx and summary.json together (atomically)."""
    grids = survey_tables(data, months)
    published = {k: suppress(g)[0] for k, g in grids.items()}
    period_months = sorted(months) if months else data.months
    period = f"{period_months[0]}〜{period_months[-1]}" if len(period_months) > 1 else "".join(period_months)
    created = (now or datetime.now()).strftime("%Y-%m-%d %H:%M")
    page = PageHeader("henrei 会員医療機関調査", period_label(period), created)
    out_dir.mkdir(parents=True, exist_ok=True)
    xlsx, js = out_dir / XLSX_NAME, out_dir / JSON_NAME
    with atomic_files(xlsx, js) as (xlsx_tmp, js_tmp):
        _workbook(xlsx_tmp, published, data, imported, page, period, per_clinic)
        js_tmp.write_text(
            json.dumps(_summary(published, imported, period_months), ensure_ascii=False, indent=1), encoding="utf-8"
        )
    return xlsx, js


def _summary(published: dict[str, pd.DataFrame], imported: Imported, months: list[str]) -> dict[str, Any]:
    return {
        "schema": "henrei.survey-summary/1",
        "months": months,
        "suppression": {"hidden": HIDDEN, "min_events": MIN_EVENTS, "min_clinics": MIN_CLINICS},
        "import": {
            "submissions": len(imported.submissions),
            "superseded": imported.superseded,
            "rejected": [{"file": r.path, "reason": r.reason} for r in imported.rejected],
        },
        "tables": {
            k: {
                "title": _TITLES[k],
                "rows": [str(i) for i in t.index],
                "columns": [str(c) for c in t.columns],
                "cells": [[v if v == HIDDEN else int(v) for v in row] for row in t.itertuples(index=False)],
            }
            for k, t in published.items()
        },
    }


def _workbook(
    path: Path,
    pub: dict[str, pd.DataFrame],
    data: SurveyData,
    imported: Imported,
    page: PageHeader,
    period: str,
    per_clinic: bool,
) -> None:
    wb = xlsxwriter.Workbook(str(path))
    f = _formats(wb)
    answered: Any = pub["by_type"].at["計", "回答医療機関"]
    trouble: Any = pub["by_type"].at["計", "あった"]
    n_answered = int(answered) if answered != HIDDEN else 0
    n_trouble = int(trouble) if trouble != HIDDEN else 0

    ws = wb.add_worksheet("概要")
    ws.set_column(0, 0, 34)
    ws.set_column(1, 8, 13)
    ws.write(0, 0, "オンライン資格確認・マイナ保険証のトラブル調査（henrei による集計）", f.title)
    lines = [
        ("対象（診療月）", period_label(period)),
        ("回答医療機関", f"{answered:,}" if answered != HIDDEN else HIDDEN),
        ("トラブルが「あった」（問3）", f"{trouble:,}（{n_trouble / n_answered:.1%}）" if n_answered else str(trouble)),
        ("取り込んだ提出ファイル",
         f"{len(imported.submissions):,}（同じ医療機関・月の古い提出 {imported.superseded:,} 件は置き換え）"),
        ("取り込めなかったファイル", f"{len(imported.rejected):,}"),
    ]  # fmt: skip
    for i, (k, v) in enumerate(lines, start=2):
        ws.write(i, 0, k, f.label)
        ws.merge_range(i, 1, i, 6, v, f.label)
    row = len(lines) + 3
    ws.merge_range(
        row,
        0,
        row + 1,
        6,
        _NOTE + " 件数は henrei の指摘（CONTRACT の区分）を問4の項目に数えたもので、患者の情報は含みません。",
        f.note,
    )
    row += 3
    first, row = _table(
        ws, f, row, _TITLES["by_type"], pub["by_type"].iloc[:, :3], label="区分", shares={"あった": n_answered}
    )
    if imported.rejected:
        row += 1
        ws.write(row, 0, "取り込めなかったファイル（理由）", f.title)
        for line, r in enumerate(imported.rejected[:200], start=row + 1):
            ws.write(line, 0, Path(r.path).name, f.label)
            ws.merge_range(line, 1, line, 6, r.reason, f.label)
        row += len(imported.rejected[:200]) + 1
    print_setup(ws, page, row, 6, title_rows=0)

    ws = wb.add_worksheet("問4 トラブルの種類")
    ws.set_column(0, 0, 40)
    ws.set_column(1, 5, 14)
    first, row = _table(ws, f, 0, _TITLES["items"], pub["items"], label="項目", shares={"あった医療機関": n_trouble})
    _bar(wb, ws, "問4 トラブルの種類", first, len(ITEMS), 1, "「あった」医療機関数", f"A{row + 2}")
    chart_rows = (30 * len(ITEMS) + 90) // 20 + 3
    ws.set_h_pagebreaks([row + chart_rows])
    first_k, row_k = _table(ws, f, row + chart_rows, _TITLES["ratio_kinds"], pub["ratio_kinds"], label="保険の種類")
    _bar(wb, ws, "問4 トラブルの種類", first_k, 3, 2, "負担割合の齟齬の件数（国保・社保・後期）", f"A{row_k + 2}")
    print_setup(ws, page, row_k + 14, 5, title_rows=0)

    ws = wb.add_worksheet("問7・問8")
    ws.set_column(0, 0, 34)
    ws.set_column(1, 4, 14)
    _, row = _table(ws, f, 0, _TITLES["full_charge"], pub["full_charge"], label="回答", shares={"医療機関": n_answered})
    _, row = _table(ws, f, row + 1, _TITLES["returns"], pub["returns"], label="回答", shares={"医療機関": n_answered})
    _, row = _table(ws, f, row + 1, _TITLES["returns_by_class"], pub["returns_by_class"], label="理由")
    print_setup(ws, page, row, 4, title_rows=0)

    for key, sheet, label in (("by_type", "区分別", "区分"), ("by_prefecture", "都道府県別", "都道府県")):
        ws = wb.add_worksheet(sheet)
        t = pub[key]
        ws.set_column(0, 0, 12)
        ws.set_column(1, len(t.columns), 10.5)
        _, row = _table(ws, f, 0, _TITLES[key], t, label=label, head_height=62)
        ws.freeze_panes(2, 1)
        print_setup(ws, page, row, len(t.columns), title_rows=2)

    ws = wb.add_worksheet("月別推移")
    t = pub["monthly"]
    ws.set_column(0, 0, 10)
    ws.set_column(1, len(t.columns), 10.5)
    first, row = _table(ws, f, 0, _TITLES["monthly"], t, label="診療月", head_height=62)
    ws.freeze_panes(2, 1)
    n = len(t) - 1  # without 計
    chart = wb.add_chart({"type": "line"})
    for j in range(2, len(t.columns)):
        chart.add_series(
            {
                "name": ["月別推移", 1, j + 1],
                "categories": ["月別推移", first, 0, first + n - 1, 0],
                "values": ["月別推移", first, j + 1, first + n - 1, j + 1],
                "marker": {"type": "circle", "size": 5},
            }
        )
    chart.set_title({"name": "問4 項目別の件数の推移", "name_font": {"size": 11, "name": "Meiryo UI"}})
    chart.set_legend({"position": "right", "font": {"name": "Meiryo UI", "size": 8}})
    chart.set_size({"width": 900, "height": 340})
    ws.insert_chart(row + 1, 0, chart)
    print_setup(ws, page, row + 19, len(t.columns), title_rows=2)

    if per_clinic:
        _internal_sheet(wb, f, data, page)
    wb.close()


def _internal_sheet(wb: Workbook, f: _Fmt, data: SurveyData, page: PageHeader) -> None:
    """Per clinic (association IDs), not suppressed: for the association's own follow-up only."""
    ws = wb.add_worksheet("医療機関別（内部資料）")
    ws.set_tab_color("#C00000")
    cm, ev = data.clinic_months, data.events
    labels = {k: label for k, label, _ in ITEMS}
    ev = ev[ev["item"].ne("")].assign(clinic=cm["clinic"].to_numpy()[ev.loc[ev["item"].ne(""), "sub"].to_numpy()])
    per = ev.pivot_table(index="clinic", columns="item", values="events", aggfunc="sum", fill_value=0)
    head = cm.groupby("clinic").agg(
        都道府県=("prefecture", "last"), 区分=("clinic_type", "last"), 月数=("month", "nunique"),
        レセプト件数=("receipts", "sum"), 一旦10割=("full_cases", "sum"),
    )  # fmt: skip
    table = head.join(per.reindex(columns=list(labels)).rename(columns=labels).fillna(0).astype("int64"), how="left")
    ws.write(
        0, 0, "内部資料：医療機関が特定できます。協会の外に出さないでください（公表しないでください）。", f.internal
    )
    cols = ["医療機関", *[str(c) for c in table.columns]]
    ws.set_row(1, 62)
    for j, c in enumerate(cols):
        ws.write(1, j, c, f.head)
    for i, (clinic, values) in enumerate(table.fillna(0).iterrows(), start=2):
        ws.write_string(i, 0, str(clinic), f.label)
        for j, v in enumerate(values, start=1):
            if isinstance(v, str):
                ws.write_string(i, j, v, f.label)
            else:
                ws.write_number(i, j, int(v), f.num)
    ws.set_column(0, 0, 12)
    ws.set_column(1, len(cols), 10)
    ws.freeze_panes(2, 1)
    internal = PageHeader("【内部資料】" + page.clinic, page.period, page.created)
    print_setup(ws, internal, len(table) + 1, len(cols) - 1, title_rows=2)
