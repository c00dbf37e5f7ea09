"""insurer_changed — online shows another insurer or number than the newer card.

Catches: (a) the card valid on the service date names another 保険者番号 or 番号 than the
online result (有効): the change of insurer is not reflected online yet; (b) the receipt
is billed to an insurer that neither the online result nor the card (agreeing) shows.
Fix: (a) bill the insurer on the current card and ask that insurer to register the
change; (b) re-bill to the insurer both sources show.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pandas as pd

from rules.domain.context import eligibility_text
from rules.findings import concat_findings, make_findings

CATEGORY: Final = "insurer_changed"
ORDER: Final = 70  # CONTRACT §2
LABEL_JA: Final = "保険者の変更が未反映"
SUMMARY_JA: Final = "新しい証の保険者がオンラインに反映されていない／請求先の保険者が違う"
RULE_IDS: Final = ("INSURER_ONLINE_STALE", "INSURER_BILLED_OTHER")
ALIASES: Final[Mapping[str, str]] = {}


def check(df: pd.DataFrame) -> pd.DataFrame:
    ok_online = df["online_ok"] & df["on_insurer_no"].fillna("").ne("")
    card_current = (
        df["cd_linked"]
        & df["cd_insurer_no"].fillna("").ne("")
        & (df["cd_card_valid_until"].isna() | (df["cd_card_valid_until"] >= df["on_date"]))
        & (df["cd_effective_from"].isna() | (df["cd_effective_from"] <= df["on_date"]))
    )
    on_num, cd_num = df["on_card_number"].fillna(""), df["cd_card_number"].fillna("")
    differs = df["on_insurer_no"].ne(df["cd_insurer_no"]) | (on_num.ne("") & cd_num.ne("") & on_num.ne(cd_num))
    stale = make_findings(
        df,
        ok_online & card_current & differs,
        category=CATEGORY,
        rule_id="INSURER_ONLINE_STALE",
        severity="warning",
        expected=lambda d: eligibility_text(d, "cd_"),
        actual=lambda d: eligibility_text(d, "on_"),
        message=lambda d: (
            "現在有効な証（"
            + eligibility_text(d, "cd_")
            + "）とオンライン資格確認（"
            + eligibility_text(d, "on_")
            + "）で保険者または番号が異なります。保険者の変更がオンラインに反映されていない可能性があります。"
        ),
        action="患者に新しい証を確認し、正しい保険者で請求してください。オンラインの情報が古い場合は保険者に登録を依頼してください。",
    )
    agreed = ok_online & card_current & ~differs
    billed_other = agreed & df["insurer_no"].ne("") & df["insurer_no"].ne(df["on_insurer_no"]) & ~df["is_fusho"]
    billed = make_findings(
        df,
        billed_other,
        category=CATEGORY,
        rule_id="INSURER_BILLED_OTHER",
        severity="error",
        expected=lambda d: eligibility_text(d, "on_"),
        actual=lambda d: eligibility_text(d, ""),
        message=lambda d: (
            "請求先の保険者（"
            + eligibility_text(d, "")
            + "）が、オンライン資格確認と証が一致して示す保険者（"
            + eligibility_text(d, "on_")
            + "）と異なります。"
        ),
        action=lambda d: (
            "レセプトの保険者番号・記号・番号を " + eligibility_text(d, "on_") + " に直して請求してください。"
        ),
    )
    return concat_findings([stale, billed])
