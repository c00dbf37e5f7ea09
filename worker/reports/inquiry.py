"""保険者照会票.xlsx: the insurer inquiry sheets — one printable A4 portrait page per insurer
listing the patients whose truth only the insurer can settle.

Which findings: ``ratio_online_vs_card`` (the online and card ratios differ),
``limit_category_mismatch``, ``identity_mismatch`` (birth date or sex), ``eligibility_invalid``
where the linked card was in force on the service date (資格無効 while the patient holds a
valid card) and ``eligibility_not_found``. Findings on the same claim are one patient block
with every question. The insurer asked: the card's, else the billed, else the online one
(a 不詳 number 77777777 names none: such a claim, with no known insurer, is left out, as is
a 該当資格なし claim already filed as 不詳 — the 被保険者資格申立書 route).

What each block carries is what MHLW's procedure has the insurer check (社会保障審議会
医療保険部会 第168回, 2023-09-29, 資料1「オンライン資格確認等について」p.31「負担割合等の相違の
可能性がある場合の被保険者からの相談対応」: 氏名・生年月日・被保険者番号, 受診日, 医療機関等の名称;
the insurer checks the 負担割合等 on the service date and tells the clinic the 本来の負担割合等),
plus the ratios shown online and on the card, and a box for the answer. 資格無効 / 資格情報なし
follow the 事務連絡 of 2025-11-12 (seeds/001). The clinic's name and contact are left as lines
to fill in (or stamp) unless the caller knows the clinic's name.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any, Final

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from rules.domain.cards import card_kind, in_force
from rules.domain.insurer import is_fusho
from worker.engine.finding_context import ORIGIN
from worker.reports.excel_safe import WORKBOOK_OPTIONS, clean, put_text
from worker.reports.page_setup import PageHeader, print_setup

__all__ = ["INQUIRY_CATEGORIES", "INQUIRY_NAME", "SOURCE_JA", "inquiry_items", "write_inquiry"]

INQUIRY_NAME: Final = "保険者照会票.xlsx"
INQUIRY_CATEGORIES: Final = (
    "ratio_online_vs_card",
    "limit_category_mismatch",
    "identity_mismatch",
    "eligibility_invalid",
    "eligibility_not_found",
)
#: The MHLW sources the sheet's wording follows (printed at the foot of every sheet).
SOURCE_JA: Final = (
    "出典：厚生労働省 社会保障審議会医療保険部会（第168回、令和5年9月29日）資料1「オンライン資格確認等について」"
    "「負担割合等の相違の可能性がある場合の被保険者からの相談対応」、"
    "厚生労働省保険局医療介護連携政策課 事務連絡（令和7年11月12日）"
    "「マイナ保険証を基本とする仕組みへの移行について（周知）」"
)
_INTRO: Final = (
    "下記の患者について、オンライン資格確認の結果と患者が提示した資格確認書等の記載が一致しない、"
    "または資格が確認できないため、受診日時点の資格・負担割合等（本来の負担割合等）をご確認のうえ、"
    "回答欄にご記入いただき、当院あてにご返送（FAX可）くださいますようお願いいたします。"
)
_ANSWER: Final = (
    "□ オンライン資格確認の内容が正しい　　□ 資格確認書等（券面）の内容が正しい\n"
    "正しい負担割合：　　割　　限度額適用区分：　　　　　\n"
    "資格：□ 有効（保険者番号・記号・番号・枝番：　　　　　　　　　　　　）\n"
    "　　　□ 喪失（喪失日：　　年　　月　　日）\n"
    "ご回答者（保険者名・担当者・連絡先）："
)
_BAD_SHEET_CHARS: Final = re.compile(r"[\[\]:*?/\\']")
_WIDTHS: Final = (4, 17, 22, 17, 30)


def _t(v: Any) -> str:
    return " ".join(clean(v).split())


def _ratio(v: Any) -> str:
    return "（記載なし）" if pd.isna(v) else f"{int(float(v))}割"


def _date(v: Any) -> str:
    if v is None or pd.isna(v):
        return ""
    d = pd.Timestamp(v)
    return f"{d.year}年{d.month}月{d.day}日"


def _number(r: Mapping[Hashable, Any], p: str) -> str:
    parts = [
        (label, _t(r.get(p + f)))
        for label, f in (("記号", "card_symbol"), ("番号", "card_number"), ("枝番", "card_branch"))
    ]
    return "・".join(f"{label} {v}" for label, v in parts if v) or "（記載なし）"


def _question(f: Mapping[Hashable, Any], r: Mapping[Hashable, Any]) -> str:
    cat, day = str(f["category"]), _date(r.get("service_date")) or "受診日"
    doc = _t(r.get("cd_doc_type")) or "資格確認書等"
    if cat == "ratio_online_vs_card":
        return (
            f"{day}時点の一部負担金の負担割合をご教示ください（オンライン資格確認 {_ratio(r.get('on_online_ratio'))}、"
            f"{doc} {_ratio(r.get('cd_card_ratio'))} と表示が異なります）。"
        )
    if cat == "limit_category_mismatch":
        return (
            f"{day}時点の限度額適用区分をご教示ください（オンライン資格確認「{_t(r.get('on_limit_category'))}」、"
            f"{doc}「{_t(r.get('cd_limit_category'))}」と表示が異なります）。"
        )
    if cat == "identity_mismatch":
        return (
            f"被保険者の生年月日・性別の登録内容をご確認ください（{_t(f['expected'])}／{_t(f['actual'])}）。"
            "別の方の情報が登録されている場合は訂正をお願いします。"
        )
    if cat == "eligibility_invalid":
        return (
            f"オンライン資格確認の結果は「資格無効」ですが、患者は有効期限内の{doc}を提示しています。"
            f"{day}時点の資格の有無と、有効な場合の保険者番号・記号・番号・枝番をご教示ください。"
        )
    return (
        f"オンライン資格確認の結果は「該当資格なし」でした。{day}時点で貴保険者の加入者であるか、"
        "加入者の場合は記号・番号・枝番と負担割合をご教示ください。"
    )


def inquiry_items(findings: pd.DataFrame, context: pd.DataFrame | None) -> pd.DataFrame:
    """One row per claim (origin) to ask about: ``insurer``, the context's columns and
    ``questions`` (one per line), sorted by insurer then patient. Empty when none."""
    if context is None or findings.empty or "cd_doc_type" not in context.columns:
        return pd.DataFrame()
    f = findings[findings["category"].isin(INQUIRY_CATEGORIES)].copy()
    f["row"] = pd.to_numeric(f["row"], errors="coerce").fillna(0).round().astype("int64")
    ctx = context.drop_duplicates(subset=list(ORIGIN))
    df = f.merge(ctx, how="left", on=list(ORIGIN), validate="many_to_one")
    on = df["service_date"].fillna(pd.to_datetime(df["claim_month"] + "-01", errors="coerce") + pd.offsets.MonthEnd(0))
    valid_card = df["cd_doc_type"].notna() & in_force(
        card_kind(df["cd_doc_type"]), df["cd_effective_from"], df["cd_card_valid_until"], on
    )
    df = df[df["category"].ne("eligibility_invalid") | valid_card.to_numpy()]
    if df.empty:
        return pd.DataFrame()
    insurer = pd.Series(pd.NA, index=df.index, dtype=object)
    for col in ("cd_insurer_no", "insurer_no", "on_insurer_no"):  # a 不詳 number names no insurer
        known = df[col].astype(object).where(df[col].notna() & ~is_fusho(df[col].astype(object)))
        insurer = insurer.fillna(known.map(lambda v: _t(v) or pd.NA))
    df = df.assign(insurer=insurer)[insurer.notna() & df["rule_id"].ne("ELIG_NOT_FOUND_FUSHO")]
    if df.empty:
        return pd.DataFrame()
    df["question"] = [_question(f, r) for f, r in zip(df.to_dict("records"), df.to_dict("records"), strict=True)]
    first = df.drop_duplicates(subset=list(ORIGIN)).set_index(list(ORIGIN))
    questions = df.groupby(list(ORIGIN), sort=False)["question"].agg(lambda q: "\n".join(dict.fromkeys(q)))
    first["questions"] = questions
    return first.reset_index().sort_values(["insurer", "patient_id", "service_date"], kind="stable")


def _sheet_name(insurer: str, taken: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", f"保険者 {insurer}")[:28]
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base[:26]}-{n}", n + 1
    taken.add(name.lower())
    return name


def write_inquiry(path: Path, items: pd.DataFrame, page: PageHeader, clinic: str = "") -> None:
    """Write ``items`` (``inquiry_items``) to ``path``: one sheet, one A4 portrait page, per insurer."""
    wb = xlsxwriter.Workbook(str(path), {**WORKBOOK_OPTIONS, "in_memory": True})
    base = {"font_name": "Meiryo UI", "font_size": 10, "valign": "vcenter", "text_wrap": True, "border": 1}
    fmt = {
        "title": wb.add_format({"font_name": "Meiryo UI", "font_size": 16, "bold": True, "align": "center"}),
        "plain": wb.add_format({"font_name": "Meiryo UI", "font_size": 10, "valign": "top", "text_wrap": True}),
        "small": wb.add_format({"font_name": "Meiryo UI", "font_size": 7, "valign": "top", "text_wrap": True}),
        "label": wb.add_format({**base, "bold": True, "bg_color": "#EEEEEE"}),
        "value": wb.add_format(base),
        "no": wb.add_format({**base, "bold": True, "align": "center"}),
        "answer": wb.add_format({**base, "valign": "top"}),
    }
    taken: set[str] = set()
    # the rows as records once (to_dict per insurer's group costs ~10 ms each on this wide
    # table: 100+ insurers in a big month), grouped as groupby(sort=True) does (no NA key)
    groups: dict[Any, list[dict[Hashable, Any]]] = {}
    for record in items.to_dict("records"):
        if not pd.isna(record["insurer"]):
            groups.setdefault(record["insurer"], []).append(record)
    for insurer in sorted(groups):
        group = groups[insurer]
        ws = wb.add_worksheet(_sheet_name(str(insurer), taken))
        for i, w in enumerate(_WIDTHS):
            ws.set_column(i, i, w)
        last = _write_sheet(ws, fmt, str(insurer), group, clinic)
        print_setup(ws, page, last, len(_WIDTHS) - 1, title_rows=0, pages_tall=1)
        ws.set_portrait()
    wb.close()


def _write_sheet(
    ws: Worksheet, f: dict[str, Format], insurer: str, group: list[dict[Hashable, Any]], clinic: str
) -> int:
    ws.merge_range(0, 0, 0, 4, "保険者照会票（資格・負担割合等の確認のお願い）", f["title"])
    ws.merge_range(1, 0, 1, 2, "", f["plain"])
    put_text(ws, 1, 0, f"保険者番号 {insurer}　御中", f["plain"], f["plain"])
    ws.merge_range(1, 3, 1, 4, "照会日：　　　年　　月　　日", f["plain"])
    ws.merge_range(2, 0, 2, 4, "", f["plain"])
    put_text(ws, 2, 0, f"医療機関名：{_t(clinic) or '　' * 20}　　担当者：　　　　　　　　", f["plain"], f["plain"])
    ws.merge_range(3, 0, 3, 4, "連絡先（電話・FAX）：", f["plain"])
    ws.merge_range(4, 0, 4, 4, _INTRO, f["plain"])
    ws.set_row(4, 42)
    row = 6
    for n, r in enumerate(group, start=1):
        row = _write_block(ws, f, row, n, r) + 1
    ws.merge_range(row, 0, row, 4, SOURCE_JA, f["small"])
    ws.set_row(row, 30)
    return row


def _write_block(ws: Worksheet, f: dict[str, Format], row: int, n: int, r: Mapping[Hashable, Any]) -> int:
    lab, val = f["label"], f["value"]
    pairs = (
        ("氏名", _t(r.get("name")), "カナ氏名", _t(r.get("kana"))),
        ("生年月日", _date(r.get("birth_date")), "受診日", _date(r.get("service_date")) or _t(r.get("claim_month"))),
        (
            "保険者番号",
            _t(r.get("insurer")),
            "記号・番号・枝番",
            _number(r, "cd_") if pd.notna(r.get("cd_doc_type")) else _number(r, ""),
        ),
        ("負担割合（オン資）", _ratio(r.get("on_online_ratio")), "負担割合（券面）", _ratio(r.get("cd_card_ratio"))),
    )
    ws.merge_range(row, 0, row + len(pairs) + 1, 0, str(n), f["no"])
    for i, (l1, v1, l2, v2) in enumerate(pairs):
        put_text(ws, row + i, 1, l1, lab, lab)
        put_text(ws, row + i, 2, v1, val, val)
        put_text(ws, row + i, 3, l2, lab, lab)
        put_text(ws, row + i, 4, v2, val, val)
    ws.set_row(row + 2, 30)  # 記号・番号・枝番 may take two lines
    q = row + len(pairs)
    questions = clean(r.get("questions"))
    put_text(ws, q, 1, "照会事項", lab, lab)
    ws.merge_range(q, 2, q, 4, "", val)
    put_text(ws, q, 2, questions, val, val)
    ws.set_row(q, 15 + 28 * (questions.count("\n") + 1))
    put_text(ws, q + 1, 1, "回答欄", lab, lab)
    ws.merge_range(q + 1, 2, q + 1, 4, _ANSWER, f["answer"])
    ws.set_row(q + 1, 110)
    return q + 2
