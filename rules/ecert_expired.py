"""ecert_expired — the マイナンバーカード e-certificate expired over 3 months before the check.

Catches: 電子証明書有効期限 more than 3 months before the online check date. Online checks
still work for 3 months after expiry (DOMAIN §5), so a recent expiry is no finding.
Fix: tell the patient to renew the e-certificate at the municipal office; meanwhile
confirm eligibility with 資格情報のお知らせ / 資格確認書 (or as 資格情報なし, DOMAIN §5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.columns import dates
from rules.domain.context import date_text
from rules.findings import make_findings

CATEGORY: Final = "ecert_expired"
ORDER: Final = 150  # CONTRACT §2
LABEL_JA: Final = "電子証明書の期限切れ"
SUMMARY_JA: Final = "マイナンバーカードの電子証明書が期限から3か月を過ぎている"
RULE_IDS: Final = ("ECERT_EXPIRED",)
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("online",)
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = ("on_ecert_expiry", "on_checked_on", "on_date")


def check(df: pd.DataFrame) -> pd.DataFrame:
    exp = df["on_ecert_expiry"]
    checked = dates(df, "on_checked_on")
    when = np.where(np.isnat(checked), dates(df, "on_date"), checked)
    codes, uniques = pd.factorize(exp, use_na_sentinel=True)  # a few hundred distinct dates
    grace = (pd.DatetimeIndex(uniques) + pd.DateOffset(months=3)).to_numpy(dtype="datetime64[ns]")
    limit = np.append(grace, np.datetime64("NaT", "ns"))[codes]
    mask = ~np.isnat(limit) & ~np.isnat(when) & (when > limit)
    return make_findings(
        df,
        mask,
        reads=_READS,
        category=CATEGORY,
        rule_id="ECERT_EXPIRED",
        severity="warning",
        expected="有効な電子証明書（期限後3か月以内）",
        actual=lambda d: "有効期限 " + date_text(d["on_ecert_expiry"]),
        message=lambda d: (
            "マイナンバーカードの電子証明書の有効期限（"
            + date_text(d["on_ecert_expiry"])
            + "）から3か月を過ぎています（照会日 "
            + date_text(d["on_checked_on"].fillna(d["on_date"]))
            + "）。"
        ),
        action="患者に市区町村窓口での電子証明書の更新を案内し、資格情報のお知らせや資格確認書で資格を確認してください。",
    )
