"""masked_characters — ● in a name or address (information only, never an error).

Catches: the online system shows ● for characters it cannot display (髙, 﨑, 邊 …).
MHLW: a claim with ● in the name or address is accepted as is and needs no insurer
check; never demand 10割 for it (DOMAIN §4).
Fix: none needed; keep the correct characters in the レセコン.
"""

from __future__ import annotations

import pandas as pd

from rules._names import has_mask
from rules.findings import make_findings

CATEGORY = "masked_characters"

_COLUMNS = ("name", "on_name", "cd_name", "address", "on_address", "cd_address")


def check(df: pd.DataFrame) -> pd.DataFrame:
    masked = pd.Series(False, index=df.index)
    where = pd.Series("", index=df.index, dtype="object")
    labels = {"name": "レセプトの氏名", "on_name": "オンライン資格確認の氏名", "cd_name": "券面の氏名",
              "address": "レセプトの住所", "on_address": "オンライン資格確認の住所", "cd_address": "券面の住所"}  # fmt: skip
    for c in _COLUMNS:
        if c not in df:
            continue
        m = has_mask(df[c])
        where = where.where(~m | masked, labels[c] + "「" + df[c].fillna("").astype("object") + "」")
        masked |= m
    return make_findings(
        df,
        masked,
        category=CATEGORY,
        rule_id="MASKED_CHAR",
        severity="info",
        expected="",
        actual=where,
        message=where + "に●が含まれています（システムで表示できない文字）。",
        action="対応は不要です。●があってもそのまま請求でき、10割負担を求める必要はありません。",
    )
