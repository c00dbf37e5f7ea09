"""fusho_not_allowed — a claim filed as 不詳 where that route is not allowed (DOMAIN §5–6).

Catches, each with its own rule and the reason in the message:
- no マイナ保険証 presented (確認方法 is anything else) — 不詳 needs the マイナ保険証;
- 再診: the patient has an earlier claim with known eligibility in the uploaded months
  (or the 初再診 column says 再診) — bill with the old eligibility, named from that claim;
- the online result was 無効 or 無効（新しい資格あり） — bill the lost qualification shown
  online (MHLW 2025-11-12: never 不詳 for 資格無効).
Fix: re-bill to the insurer named in the message instead of 77777777.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.codes import OnlineValidity
from rules.domain.columns import isin, ne_text
from rules.domain.context import date_text, eligibility_text, text
from rules.findings import columns_of, concat_findings, empty_findings, make_findings

CATEGORY: Final = "fusho_not_allowed"
ORDER: Final = 170  # CONTRACT §2
LABEL_JA: Final = "不詳レセプトにできない請求"
SUMMARY_JA: Final = "不詳レセプトにできない請求（下記）"
RULE_IDS: Final = ("FUSHO_NO_MYNA", "FUSHO_REVISIT", "FUSHO_ONLINE_INVALID")
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("online",)


#: the columns read on the 不詳 rows (besides the earlier claims joined to them)
_READS: Final = (
    "is_fusho_claim", "confirmation_method", "visit_type", "on_validity", "on_insurer_no", "on_card_symbol",
    "on_card_number",
)  # fmt: skip


def earlier_claims(df: pd.DataFrame) -> pd.DataFrame:
    """For each 不詳 claim, the patient's latest earlier claim month with a known insurer
    (``prev_month``, ``prev_insurer_no``, ``prev_card_symbol``, ``prev_card_number``)."""
    cols = ["prev_month", "prev_insurer_no", "prev_card_symbol", "prev_card_number"]
    at = df.index[df["is_fusho_claim"]]
    out = pd.DataFrame(index=at, columns=cols, dtype="object")
    out["prev_month"] = pd.Series(pd.NaT, index=at, dtype="datetime64[ns]")
    is_fusho = df["is_fusho_claim"].to_numpy(dtype=bool)
    has_month = df["claim_month"].notna().to_numpy()
    fusho = df[["patient_id", "claim_month"]].iloc[np.flatnonzero(is_fusho & has_month)]
    ids = [str(p) for p in fusho["patient_id"].dropna().unique()]  # rows are taken by position
    same_patient = isin(df["patient_id"], ids)
    if fusho["patient_id"].isna().any():  # as Series.isin: a missing ID matches the missing IDs
        same_patient |= df["patient_id"].isna().to_numpy()
    candidates = same_patient & ~is_fusho & ne_text(df["insurer_no"], "") & has_month
    known = df[["patient_id", "claim_month", "insurer_no", "card_symbol", "card_number"]].iloc[
        np.flatnonzero(candidates)
    ]
    if fusho.empty or known.empty:
        return out
    left = fusho.assign(_i=fusho.index).sort_values("claim_month", kind="stable")
    # stable: of two claims in the same earlier month, the later row wins, whatever the split
    right = known.rename(columns={"claim_month": "prev_month"}).sort_values("prev_month", kind="stable")
    right = right.assign(_month=right["prev_month"])
    m = pd.merge_asof(
        left,
        right,
        left_on="claim_month",
        right_on="_month",
        by="patient_id",
        direction="backward",
        allow_exact_matches=False,
    )
    m = m[m["prev_month"].notna()]
    for c, src in zip(cols, ["prev_month", "insurer_no", "card_symbol", "card_number"], strict=True):
        out.loc[m["_i"].to_numpy(), c] = m[src].to_numpy()
    return out


def check(df: pd.DataFrame) -> pd.DataFrame:
    if not df["is_fusho_claim"].any():
        return empty_findings()
    prev = earlier_claims(df)
    df = columns_of(df, np.flatnonzero(df["is_fusho_claim"].to_numpy(dtype=bool)), _READS).join(prev)
    fusho = df["is_fusho_claim"]
    method = df["confirmation_method"].fillna("")
    not_myna = fusho & method.ne("") & ~method.str.contains("マイナ", regex=False).fillna(False).astype(bool)
    has_prev = fusho & df["prev_month"].notna()
    revisit = fusho & (has_prev | df["visit_type"].fillna("").str.contains("再診", regex=False))
    invalid = fusho & df["on_validity"].isin([OnlineValidity.INVALID, OnlineValidity.INVALID_NEW])

    def prev_text(d: pd.DataFrame) -> pd.Series:
        return date_text(d["prev_month"]).str[:7] + " の請求（" + eligibility_text(d, "prev_") + "）"

    def old_online(d: pd.DataFrame) -> pd.Series:
        return eligibility_text(d, "on_")

    return concat_findings(
        [
            make_findings(
                df,
                not_myna,
                category=CATEGORY,
                rule_id="FUSHO_NO_MYNA",
                severity="error",
                expected="マイナ保険証の提示",
                actual=lambda d: "確認方法: " + text(d["confirmation_method"]),
                message=lambda d: (
                    "不詳レセプトはマイナ保険証を提示した場合に限られますが、確認方法が「"
                    + text(d["confirmation_method"])
                    + "」です。"
                ),
                action="提示された証（資格確認書・資格情報のお知らせなど）の保険者で請求してください。",
            ),
            make_findings(
                df,
                revisit,
                category=CATEGORY,
                rule_id="FUSHO_REVISIT",
                severity="error",
                expected=lambda d: prev_text(d).where(d["prev_month"].notna(), "過去の受診時の資格"),
                actual="不詳（再診）",
                message=lambda d: (
                    "再診の患者は過去の受診で資格が分かっているため不詳にできません"
                    + prev_text(d).where(d["prev_month"].notna(), "").map(lambda t: f"（{t}）" if t else "")
                    + "。"
                ),
                action=lambda d: (
                    "旧資格情報（"
                    + prev_text(d).where(d["prev_month"].notna(), "過去の受診時の資格")
                    + "）で請求してください。"
                ),
            ),
            make_findings(
                df,
                invalid,
                category=CATEGORY,
                rule_id="FUSHO_ONLINE_INVALID",
                severity="error",
                expected=old_online,
                actual="不詳",
                message=lambda d: (
                    "オンライン資格確認の結果が資格無効（喪失した資格: "
                    + old_online(d)
                    + "）のため、不詳ではなく喪失した資格で請求します。"
                ),
                action=lambda d: (
                    "喪失した資格（"
                    + old_online(d)
                    + "）で請求してください（一度返戻されても、新しい資格の登録後に再請求で支払われます）。"
                ),
            ),
        ]
    )
