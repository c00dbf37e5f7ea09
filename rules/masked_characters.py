"""masked_characters — ● in a name or address (information only, never an error).

Catches: the online system shows ● for characters it cannot display (髙, 﨑, 邊 …).
MHLW: a claim with ● in the name or address is accepted as is and needs no insurer
check; never demand 10割 for it (DOMAIN §4).
Fix: none needed; keep the correct characters in the レセコン.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.columns import contains
from rules.domain.context import text
from rules.domain.names import MASK_CHAR, has_mask
from rules.findings import make_findings

CATEGORY: Final = "masked_characters"
ORDER: Final = 100  # CONTRACT §2
LABEL_JA: Final = "氏名・住所の●表示"
SUMMARY_JA: Final = "氏名・住所の●（参考のみ。そのまま請求できます）"
RULE_IDS: Final = ("MASKED_CHAR",)
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("online", "cards")
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = ("name", "on_name", "cd_name", "address", "on_address", "cd_address")

_LABELS = {
    "name": "レセプトの氏名", "on_name": "オンライン資格確認の氏名", "cd_name": "券面の氏名",
    "address": "レセプトの住所", "on_address": "オンライン資格確認の住所", "cd_address": "券面の住所",
}  # fmt: skip


def _where(d: pd.DataFrame) -> pd.Series:
    """The first source column holding a ●, as '<label>「value」'."""
    out = pd.Series("", index=d.index, dtype="object")
    for c, label in _LABELS.items():
        m = has_mask(d[c]) & out.eq("")
        out = out.where(~m, label + "「" + text(d[c]) + "」")
    return out


def check(df: pd.DataFrame) -> pd.DataFrame:
    masked = np.zeros(len(df), dtype=bool)
    for c in _LABELS:
        masked |= contains(df[c], MASK_CHAR)
    return make_findings(
        df,
        masked,
        reads=_READS,
        category=CATEGORY,
        rule_id="MASKED_CHAR",
        severity="info",
        expected="",
        actual=_where,
        message=lambda d: _where(d) + "に●が含まれています（システムで表示できない文字）。",
        action="対応は不要です。●があってもそのまま請求でき、10割負担を求める必要はありません。",
    )
