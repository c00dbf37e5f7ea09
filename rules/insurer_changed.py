"""insurer_changed — online shows another insurer or number than the newer card.

Catches: (a) the card valid on the service date names another 保険者番号 or 番号 than the
online result (有効): the change of insurer is not reflected online yet; (b) the receipt
is billed to an insurer that neither the online result nor the card (agreeing) shows.
Fix: (a) bill the insurer on the current card and ask that insurer to register the
change; (b) re-bill to the insurer both sources show.
"""

from __future__ import annotations

import pandas as pd

from rules._context import online_usable
from rules.findings import concat_findings, make_findings

CATEGORY = "insurer_changed"


def _ident(df: pd.DataFrame, prefix: str) -> pd.Series:
    return (
        df[prefix + "insurer_no"].fillna("").astype("object") + " "
        + df[prefix + "card_symbol"].fillna("").astype("object") + " "
        + df[prefix + "card_number"].fillna("").astype("object")
    ).str.strip()


def check(df: pd.DataFrame) -> pd.DataFrame:
    ok_online = online_usable(df) & df["on_insurer_no"].fillna("").ne("")
    card_current = (
        df["cd_linked"]
        & df["cd_insurer_no"].fillna("").ne("")
        & (df["cd_card_valid_until"].isna() | (df["cd_card_valid_until"] >= df["on_date"]))
        & (df["cd_effective_from"].isna() | (df["cd_effective_from"] <= df["on_date"]))
    )
    differs = df["on_insurer_no"].ne(df["cd_insurer_no"]) | (
        df["on_card_number"].fillna("").ne("")
        & df["cd_card_number"].fillna("").ne("")
        & df["on_card_number"].ne(df["cd_card_number"])
    )
    on_t, cd_t, bill_t = _ident(df, "on_"), _ident(df, "cd_"), _ident(df, "")
    stale = make_findings(
        df,
        ok_online & card_current & differs,
        category=CATEGORY,
        rule_id="INSURER_ONLINE_STALE",
        severity="warning",
        expected=cd_t,
        actual=on_t,
        message="現在有効な証（" + cd_t + "）とオンライン資格確認（" + on_t
        + "）で保険者または番号が異なります。保険者の変更がオンラインに反映されていない可能性があります。",
        action="患者に新しい証を確認し、正しい保険者で請求してください。オンラインの情報が古い場合は保険者に登録を依頼してください。",
    )
    agreed = ok_online & card_current & ~differs
    billed_other = (
        agreed & df["insurer_no"].fillna("").ne("") & df["insurer_no"].ne(df["on_insurer_no"])
        & ~df["is_fusho"]
    )
    billed = make_findings(
        df,
        billed_other,
        category=CATEGORY,
        rule_id="INSURER_BILLED_OTHER",
        severity="error",
        expected=on_t,
        actual=bill_t,
        message="請求先の保険者（" + bill_t + "）が、オンライン資格確認と証が一致して示す保険者（"
        + on_t + "）と異なります。",
        action="レセプトの保険者番号・記号・番号を " + on_t + " に直して請求してください。",
    )
    return concat_findings([stale, billed])
