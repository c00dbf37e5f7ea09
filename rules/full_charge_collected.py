"""full_charge_collected — the patient paid 10割 and is owed a refund.

Catches: the receipt's ratio is 10割, or the amount collected at the window is the full
cost (≥ 合計点数 × 10円 − 10円) while the patient has insurance (a verified ratio, a card,
or a valid online result) — e.g. ● in the name or a failed online check made the clinic
charge everything (survey item 一旦10割負担を患者に請求した).
Fix: bill the insurer with the right ratio and refund the difference; the money impact is
what was collected minus the right copay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from rules.domain import age as _age
from rules.domain.columns import flags, numbers
from rules.domain.context import ratio_text, yen, yen_text
from rules.findings import make_findings

CATEGORY: Final = "full_charge_collected"
ORDER: Final = 190  # CONTRACT §2
LABEL_JA: Final = "10割徴収（返金が必要）"
SUMMARY_JA: Final = "資格があるのに10割を徴収している（返金額つき）"
RULE_IDS: Final = ("FULL_CHARGE",)
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("online", "cards")
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = ("verified_ratio", "allowed_billed", "billed_ratio", "copay_collected", "points")

_SINGLE = {_age.BIT[1]: 1.0, _age.BIT[2]: 2.0, _age.BIT[3]: 3.0}


def _right_ratio(d: pd.DataFrame) -> pd.Series:
    """The ratio the patient should have paid: verified, else the only one the age allows."""
    right = d["verified_ratio"].fillna(d["allowed_billed"].map(_SINGLE))
    return right.where(right.notna(), d["billed_ratio"].where(d["billed_ratio"].lt(10)))


def _paid(d: pd.DataFrame) -> pd.Series:
    return d["copay_collected"].fillna(yen(d["points"], pd.Series(10.0, index=d.index)))


def _refund(d: pd.DataFrame) -> pd.Series:
    right = _right_ratio(d)
    return (_paid(d) - yen(d["points"], right)).where(right.notna())


def check(df: pd.DataFrame) -> pd.DataFrame:
    points, collected = numbers(df, "points"), numbers(df, "copay_collected")
    charged_full = (numbers(df, "billed_ratio") == 10) | (
        ~np.isnan(collected) & (points > 0) & (collected >= points * 10 - 10)
    )
    insured = ~np.isnan(numbers(df, "verified_ratio")) | flags(df, "cd_linked") | flags(df, "online_ok")

    def right_t(d: pd.DataFrame) -> pd.Series:
        return ratio_text(_right_ratio(d)).replace("", "正しい負担割合")

    return make_findings(
        df,
        charged_full & insured,
        reads=_READS,
        category=CATEGORY,
        rule_id="FULL_CHARGE",
        severity="error",
        expected=right_t,
        actual=lambda d: "10割（" + yen_text(_paid(d)) + "）",
        message=lambda d: (
            "窓口で10割を徴収していますが、この患者は保険の資格があります（返金額の目安 "
            + yen_text(_refund(d))
            + "）。"
        ),
        action=lambda d: "保険者に " + right_t(d) + " で請求し、差額を患者に返金してください。",
        copay_diff_yen=_refund,
    )
