"""card_expired — the card or certificate was expired on the service date.

Catches: the linked card's 有効期限 is before the service date (CARD_EXPIRED); an old
健康保険証 on file used after 2026-03-31 (PAPER_CARD_AFTER_GRACE: paper cards expired by
2025-12-01 and were accepted provisionally until 2026-03-31 — DOMAIN §1, §3; within that
period a paper card whose printed 有効期限 is 2025-12-01 or later is not expired); the
receipt's own 資格確認方法 is 健康保険証/保険証 after 2026-03-31 and no other card on file
is in force on the service date (PAPER_CARD_RECORDED — also with no card record at all).
The service date is the receipt's 診療日, else the claim month's last day. 高齢受給者証
usually expire 7/31 (ratio re-decided 8/1).
Fix: ask the patient for the current 資格確認書 / 資格情報のお知らせ or the マイナ保険証,
check the ratio again, and bill with the current eligibility.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.cards import PAPER_CARD_ABOLISHED, PAPER_CARD_LAST_DAY, is_paper
from rules.domain.columns import dates, flags
from rules.domain.context import date_text, text
from rules.findings import concat_findings, make_findings

CATEGORY: Final = "card_expired"
ORDER: Final = 140  # CONTRACT §2
LABEL_JA: Final = "証の有効期限切れ"
SUMMARY_JA: Final = "証の有効期限切れ、2026年3月31日を過ぎた従来の健康保険証"
RULE_IDS: Final = ("CARD_EXPIRED", "PAPER_CARD_AFTER_GRACE", "PAPER_CARD_RECORDED")
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("cards",)
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = ("on_date", "cd_card_valid_until", "cd_doc_type", "confirmation_method")

_RECHECK: Final = "マイナ保険証または資格確認書で資格を確認し直してください。"


def _doc(d: pd.DataFrame) -> pd.Series:
    return text(d["cd_doc_type"]).replace("", "証")


def check(df: pd.DataFrame) -> pd.DataFrame:
    until, day = dates(df, "cd_card_valid_until"), dates(df, "on_date")
    after_grace = ~np.isnat(day) & (day > PAPER_CARD_LAST_DAY.to_datetime64())
    linked = flags(df, "cd_linked")
    paper_card = linked & flags(df, "card_paper")
    # a paper card cut short by the abolition is accepted until the end of the grace
    in_grace = paper_card & (until >= PAPER_CARD_ABOLISHED.to_datetime64()) & ~after_grace
    expired = linked & ~np.isnat(until) & ~np.isnat(day) & (until < day) & ~in_grace
    paper = paper_card & after_grace & ~expired
    recorded = after_grace & ~flags(df, "card_in_force") & ~paper_card & ~expired
    if recorded.any():
        recorded &= is_paper(df["confirmation_method"])
    return concat_findings(
        [
            make_findings(
                df,
                expired,
                reads=_READS,
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
                reads=_READS,
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
                action=_RECHECK,
            ),
            make_findings(
                df,
                recorded,
                reads=_READS,
                category=CATEGORY,
                rule_id="PAPER_CARD_RECORDED",
                severity="warning",
                expected="資格確認書またはマイナ保険証",
                actual=lambda d: "資格確認方法 " + text(d["confirmation_method"]),
                message=lambda d: (
                    "レセプトの資格確認方法が「"
                    + text(d["confirmation_method"])
                    + "」ですが、従来の健康保険証は2026年3月31日までの経過措置で、受診日（"
                    + date_text(d["on_date"])
                    + "）には使えません。受診日に有効な資格確認書などの登録もありません。"
                ),
                action=(
                    "マイナ保険証または資格確認書で資格を確認し直し、確認した証の保険者・記号・番号で請求して、"
                    "資格確認方法も直してください。"
                ),
            ),
        ]
    )
