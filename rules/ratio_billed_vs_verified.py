"""ratio_billed_vs_verified — the billed 負担割合 is not the ratio that holds.

Catches: the receipt's 負担割合 (or 給付割合 converted to 負担) differs from the verified
ratio: the one online and card agree on, or the single plausible source (DOMAIN §3).
The money impact is 合計点数 × 10円 × Δratio, each side rounded to 10円 (DOMAIN §2);
positive = the patient paid too much.
Fix: correct the ratio on the receipt and settle the difference with the patient.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.columns import numbers
from rules.domain.context import ratio_text, text, yen
from rules.findings import make_findings

CATEGORY: Final = "ratio_billed_vs_verified"
ORDER: Final = 20  # CONTRACT §2
LABEL_JA: Final = "請求した負担割合の誤り"
SUMMARY_JA: Final = "請求した負担割合が、確認できた割合と違う（差額つき）"
RULE_IDS: Final = ("RATIO_BILLED",)
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("online", "cards")
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = ("points", "billed_ratio", "verified_ratio", "verified_source")


def check(df: pd.DataFrame) -> pd.DataFrame:
    billed, ver = numbers(df, "billed_ratio"), numbers(df, "verified_ratio")
    mask = ~np.isnan(billed) & ~np.isnan(ver) & (billed != ver) & (billed != 10)

    def diff(d: pd.DataFrame) -> pd.Series:
        return yen(d["points"], d["billed_ratio"]) - yen(d["points"], d["verified_ratio"])

    def message(d: pd.DataFrame) -> pd.Series:
        direction = diff(d).map(lambda x: "" if pd.isna(x) else ("患者の払い過ぎ" if x > 0 else "患者の払い不足"))
        return (
            "請求した負担割合 "
            + ratio_text(d["billed_ratio"])
            + " が、"
            + text(d["verified_source"])
            + "で確認できた "
            + ratio_text(d["verified_ratio"])
            + " と異なります（"
            + direction
            + "）。"
        )

    return make_findings(
        df,
        mask,
        reads=_READS,
        category=CATEGORY,
        rule_id="RATIO_BILLED",
        severity="error",
        expected=lambda d: ratio_text(d["verified_ratio"]),
        actual=lambda d: ratio_text(d["billed_ratio"]),
        message=message,
        action=lambda d: (
            "レセプトの負担割合を "
            + ratio_text(d["verified_ratio"])
            + " に直して請求し、窓口負担の差額を患者と精算してください。"
        ),
        copay_diff_yen=diff,
    )
