"""ratio_online_vs_card — the online result's 負担割合 differs from the card's.

Catches: オンライン資格確認 (有効) gives one burden ratio and the certificate the patient
holds (資格確認書, 高齢受給者証, 後期の証) another — the survey's most common trouble for
patients over 70 (DOMAIN §1).
Fix: the clerk cannot know which is right: ask the insurer (保険者) which ratio holds and
bill with it; report the wrong one. The engine never guesses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.columns import numbers
from rules.domain.context import ratio_text, text
from rules.findings import make_findings

CATEGORY: Final = "ratio_online_vs_card"
ORDER: Final = 10  # CONTRACT §2
LABEL_JA: Final = "負担割合の不一致（オン資と券面）"
SUMMARY_JA: Final = "オンライン資格確認と券面で負担割合が違う（どちらが正しいか保険者に確認）"
RULE_IDS: Final = ("RATIO_ONLINE_CARD",)
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("online", "cards")
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = ("usable_online_ratio", "cd_card_ratio", "cd_doc_type")


def check(df: pd.DataFrame) -> pd.DataFrame:
    on, cd = numbers(df, "usable_online_ratio"), numbers(df, "cd_card_ratio")
    mask = ~np.isnan(on) & ~np.isnan(cd) & (on != cd)

    def doc(d: pd.DataFrame) -> pd.Series:
        return text(d["cd_doc_type"]).replace("", "券面")

    return make_findings(
        df,
        mask,
        reads=_READS,
        category=CATEGORY,
        rule_id="RATIO_ONLINE_CARD",
        severity="warning",
        expected="保険者に確認した負担割合",
        actual=lambda d: (
            "オン資 " + ratio_text(d["usable_online_ratio"]) + " / " + doc(d) + " " + ratio_text(d["cd_card_ratio"])
        ),
        message=lambda d: (
            "オンライン資格確認の負担割合（"
            + ratio_text(d["usable_online_ratio"])
            + "）と"
            + doc(d)
            + "の負担割合（"
            + ratio_text(d["cd_card_ratio"])
            + "）が異なります。"
        ),
        action="どちらが正しいか保険者に問い合わせ、正しい負担割合で請求・窓口徴収してください。"
        "誤っている側の情報の訂正を保険者に依頼してください。",
    )
