"""limit_category_mismatch — 限度額適用区分 online differs from the certificate.

Catches: the online result's 限度額区分 (A01–B10 / ア–オ, 現役並み, 一般, 低所得) and the
certificate's differ, so the 高額療養費 ceiling applied at the window may be wrong.
Fix: confirm the category with the insurer and apply the right ceiling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pandas as pd

from rules.domain.columns import flags, present_differ
from rules.domain.context import text
from rules.findings import make_findings

CATEGORY: Final = "limit_category_mismatch"
ORDER: Final = 40  # CONTRACT §2
LABEL_JA: Final = "限度額区分の不一致"
SUMMARY_JA: Final = "限度額適用区分がオンラインと証で違う"
RULE_IDS: Final = ("LIMIT_ONLINE_CARD",)
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("online", "cards")
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = ("on_limit_category", "cd_limit_category")


def check(df: pd.DataFrame) -> pd.DataFrame:
    mask = flags(df, "online_ok") & present_differ(df["on_limit_category"], df["cd_limit_category"])
    return make_findings(
        df,
        mask,
        reads=_READS,
        category=CATEGORY,
        rule_id="LIMIT_ONLINE_CARD",
        severity="warning",
        expected="保険者に確認した限度額区分",
        actual=lambda d: "オン資 " + text(d["on_limit_category"]) + " / 券面 " + text(d["cd_limit_category"]),
        message=lambda d: (
            "限度額適用区分がオンライン資格確認（"
            + text(d["on_limit_category"])
            + "）と証（"
            + text(d["cd_limit_category"])
            + "）で異なります。"
        ),
        action="保険者に正しい限度額区分を確認し、窓口での自己負担限度額を確かめてください。",
    )
