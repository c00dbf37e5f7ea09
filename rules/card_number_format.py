"""card_number_format — 記号・番号・枝番 malformed.

Catches: 枝番 that is not 2 digits; the known export bug that puts the 枝番 at the end of
the 番号 (番号 two digits too long, 枝番 empty — DOMAIN §4, seeds/003), detected against
the online result or the card; a 番号 with characters other than digits, letters, hyphens.
Fix: split the 番号 and 枝番 as on the card (枝番 = the last 2 digits) and re-export.
"""

from __future__ import annotations

import pandas as pd

from rules.findings import concat_findings, make_findings

CATEGORY = "card_number_format"


def check(df: pd.DataFrame) -> pd.DataFrame:
    num = df["card_number"].fillna("").astype(str)
    br = df["card_branch"].fillna("").astype(str)
    bad_branch = br.ne("") & ~br.str.fullmatch(r"\d{2}").fillna(False).astype(bool)
    merged = pd.Series(False, index=df.index)
    right = pd.Series("", index=df.index, dtype="object")
    for p in ("on_", "cd_"):
        rn = df[p + "card_number"].fillna("").astype(str)
        rb = df[p + "card_branch"].fillna("").astype(str)
        m = br.eq("") & rn.ne("") & rb.str.fullmatch(r"\d{2}").fillna(False).astype(bool) & num.eq(rn + rb)
        right = right.where(~m | merged, "番号 " + rn + " 枝番 " + rb)
        merged |= m
    bad_chars = num.ne("") & ~num.str.fullmatch(r"[0-9A-Za-z\-]+").fillna(False).astype(bool) & ~df["is_fusho"]
    action_split = "番号と枝番を分けて入力してください（枝番は番号の末尾2桁）。レセコンの出力設定も確認してください。"
    return concat_findings(
        [
            make_findings(df, merged, category=CATEGORY, rule_id="CARD_BRANCH_IN_NUMBER", severity="error",
                          expected=right, actual="番号 " + num + " 枝番 (空欄)",
                          message="枝番が番号の末尾に入っています（番号「" + num + "」、枝番が空欄）。",
                          action=action_split),
            make_findings(df, bad_branch & ~merged, category=CATEGORY, rule_id="CARD_BRANCH_FORM", severity="error",
                          expected="2桁の数字（例: 00, 01）", actual="枝番 " + br,
                          message="枝番「" + br + "」が2桁の数字ではありません。",
                          action="証に記載の枝番（2桁）を入力してください。"),
            make_findings(df, bad_chars, category=CATEGORY, rule_id="CARD_NUMBER_CHARS", severity="warning",
                          expected="数字・英字", actual="番号 " + num,
                          message="被保険者証の番号「" + num + "」に使えない文字が含まれています。",
                          action="証の番号を確認して入力し直してください。"),
        ]
    )
