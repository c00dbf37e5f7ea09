"""full_charge_collected — the patient paid 10割 and is owed a refund.

Catches: the receipt's ratio is 10割, or the amount collected at the window is the full
cost (≥ 合計点数 × 10円 − 10円) while the patient has insurance (a verified ratio, a card,
or a valid online result) — e.g. ● in the name or a failed online check made the clinic
charge everything (survey item 一旦10割負担を患者に請求した).
Fix: bill the insurer with the right ratio and refund the difference; the money impact is
what was collected minus the right copay.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rules import _age
from rules._context import online_usable, ratio_text, yen
from rules.findings import make_findings

CATEGORY = "full_charge_collected"
_SINGLE = {_age.BIT[1]: 1.0, _age.BIT[2]: 2.0, _age.BIT[3]: 3.0}


def check(df: pd.DataFrame) -> pd.DataFrame:
    points = df["points"]
    full = yen(points, pd.Series(10.0, index=df.index))
    collected = df["copay_collected"]
    charged_full = df["billed_ratio"].eq(10) | (
        collected.notna() & points.gt(0) & collected.ge(full - 10)
    )
    insured = df["verified_ratio"].notna() | df["cd_linked"] | online_usable(df)
    right = df["verified_ratio"].fillna(df["allowed_billed"].map(_SINGLE))
    right = right.where(right.notna(), df["billed_ratio"].where(df["billed_ratio"].lt(10)))
    paid = collected.fillna(full)
    refund = (paid - yen(points, right)).where(right.notna())
    mask = (charged_full & insured).to_numpy(dtype=bool)
    refund_t = refund.map(lambda x: "" if pd.isna(x) else f"{int(x):,}円").astype("object")
    right_t = ratio_text(right).replace("", "正しい負担割合")
    return make_findings(
        df, mask, category=CATEGORY, rule_id="FULL_CHARGE", severity="error",
        expected=right_t, actual="10割（" + paid.map(lambda x: f"{int(x):,}円" if not np.isnan(x) else "").astype("object") + "）",
        message="窓口で10割を徴収していますが、この患者は保険の資格があります（返金額の目安 " + refund_t + "）。",
        action="保険者に " + right_t + " で請求し、差額を患者に返金してください。",
        copay_diff_yen=refund.round().astype("Int64"),
    )
