"""card_expired — the card or certificate was expired on the service date.

Catches: the linked card's 有効期限 is before the service date; or the card is an old
健康保険証 used after 2026-03-31 (paper cards expired 2025-12-01, accepted provisionally
until 2026-03-31 — DOMAIN §1). 高齢受給者証 usually expire 7/31 (ratio re-decided 8/1).
Fix: ask the patient for the current 資格確認書 / 資格情報のお知らせ or the マイナ保険証,
check the ratio again, and bill with the current eligibility.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

import pandas as pd

from rules.domain.context import date_text, text
from rules.domain.insurer import per_distinct
from rules.findings import concat_findings, make_findings

CATEGORY: Final = "card_expired"
ORDER: Final = 140  # CONTRACT §2
LABEL_JA: Final = "証の有効期限切れ"
SUMMARY_JA: Final = "証の有効期限切れ、2026年3月31日を過ぎた従来の健康保険証"
RULE_IDS: Final = ("CARD_EXPIRED", "PAPER_CARD_AFTER_GRACE")
ALIASES: Final[Mapping[str, str]] = {}

PAPER_CARD_LAST_DAY: Final = pd.Timestamp("2026-03-31")
_PAPER = r"^(?:健康保険証|保険証|被保険者証|健康保険被保険者証|国民健康保険被保険者証)$"


def _doc(d: pd.DataFrame) -> pd.Series:
    return text(d["cd_doc_type"]).replace("", "証")


def check(df: pd.DataFrame) -> pd.DataFrame:
    until = df["cd_card_valid_until"]
    day = df["on_date"]
    expired = df["cd_linked"] & until.notna() & day.notna() & (until < day)
    paper = (
        df["cd_linked"]
        & per_distinct(df["cd_doc_type"].fillna(""), lambda t: re.match(_PAPER, t) is not None)
        & day.notna()
        & (day > PAPER_CARD_LAST_DAY)
        & ~expired
    )
    return concat_findings(
        [
            make_findings(
                df,
                expired,
                category=CATEGORY,
                rule_id="CARD_EXPIRED",
                severity="warning",
                expected=lambda d: "受診日 " + date_text(d["on_date"]) + " に有効な証",
                actual=lambda d: _doc(d) + " 有効期限 " + date_text(d["cd_card_valid_until"]),
                message=lambda d: (
                    _doc(d)
                    + "の有効期限（"
                    + date_text(d["cd_card_valid_until"])
                    + "）が受診日（"
                    + date_text(d["on_date"])
                    + "）より前です。"
                ),
                action="最新の資格確認書・資格情報のお知らせ（またはマイナ保険証）で資格と負担割合を確認し、現在の資格で請求してください。",
            ),
            make_findings(
                df,
                paper,
                category=CATEGORY,
                rule_id="PAPER_CARD_AFTER_GRACE",
                severity="warning",
                expected="資格確認書またはマイナ保険証",
                actual=_doc,
                message=lambda d: (
                    "従来の健康保険証は2026年3月31日までの経過措置で、受診日（"
                    + date_text(d["on_date"])
                    + "）には使えません。"
                ),
                action="マイナ保険証または資格確認書で資格を確認し直してください。",
            ),
        ]
    )
