"""fusho_followup_required — a 不詳 claim that needs a follow-up before it goes out.

Catches (DOMAIN §6):
- 実日数 ≥ 2: the clinic had more chances to confirm eligibility — confirm it with the
  patient and bill the identified insurer;
- no patient-contact date in the 摘要, or a contact date before the visit — the clinic
  must contact the patient after the visit and record the date;
- a newborn (under 28 days on the service date) — ask for a 資格確認書.
Fix: the action of each finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.context import date_text
from rules.domain.tekiyo import parse_tekiyo
from rules.findings import columns_of, concat_findings, empty_findings, make_findings

CATEGORY: Final = "fusho_followup_required"
ORDER: Final = 180  # CONTRACT §2
LABEL_JA: Final = "不詳レセプトの要確認"
SUMMARY_JA: Final = "不詳レセプトの要確認（下記）"
RULE_IDS: Final = ("FUSHO_MANY_DAYS", "FUSHO_NO_CONTACT_DATE", "FUSHO_CONTACT_BEFORE_VISIT", "FUSHO_NEWBORN")
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ()

#: the columns read on the 不詳 rows
_READS: Final = ("is_fusho_claim", "days", "service_date", "birth", "tekiyo", "claim_month")

NEWBORN_DAYS = 28


def contact_dates(df: pd.DataFrame) -> pd.Series:
    """The patient-contact date written in the 摘要 of each 不詳 claim (NaT if none)."""
    out = np.full(len(df), np.datetime64("NaT"), dtype="datetime64[ns]")
    rows = np.flatnonzero(df["is_fusho_claim"].to_numpy(dtype=bool))
    sub = df.iloc[rows]
    months = sub["claim_month"].to_numpy(dtype="datetime64[D]")
    for k, (text, month) in enumerate(zip(sub["tekiyo"].tolist(), months.tolist(), strict=True)):
        found: date | None = parse_tekiyo(str(text or ""), claim_month=month).contact_date
        if found is not None:
            out[rows[k]] = np.datetime64(found, "ns")
    return pd.Series(out, index=df.index)


def check(df: pd.DataFrame) -> pd.DataFrame:
    if not df["is_fusho_claim"].any():
        return empty_findings()
    df = columns_of(df, np.flatnonzero(df["is_fusho_claim"].to_numpy(dtype=bool)), _READS)
    fusho = df["is_fusho_claim"]
    many_days = fusho & df["days"].ge(2)
    contact = contact_dates(df)
    visit = df["service_date"]
    no_contact = fusho & contact.isna()
    too_early = fusho & contact.notna() & visit.notna() & (contact < visit)
    age_days = (visit - df["birth"]).dt.days
    newborn = fusho & age_days.notna() & age_days.between(0, NEWBORN_DAYS - 1)
    d2 = df.assign(_contact=contact)
    return concat_findings(
        [
            make_findings(
                df,
                many_days,
                category=CATEGORY,
                rule_id="FUSHO_MANY_DAYS",
                severity="warning",
                expected="実日数1日",
                actual=lambda d: "実日数 " + d["days"].map(lambda x: f"{x:g}").astype("object") + "日",
                message="実日数が2日以上の不詳レセプトです。受診のたびに資格を確認できた可能性があります。",
                action="患者に保険者を確認し、判明した資格で請求してください（不詳は最後の手段です）。",
            ),
            make_findings(
                df,
                no_contact,
                category=CATEGORY,
                rule_id="FUSHO_NO_CONTACT_DATE",
                severity="warning",
                expected="患者への連絡を行った日",
                actual="記載なし",
                message="患者に連絡した日が摘要欄にありません。",
                action="受診後に患者へ連絡して保険者を確認し、連絡した日を摘要欄に記載してください。",
            ),
            make_findings(
                d2,
                too_early,
                category=CATEGORY,
                rule_id="FUSHO_CONTACT_BEFORE_VISIT",
                severity="warning",
                expected=lambda d: "受診日 " + date_text(d["service_date"]) + " 以降",
                actual=lambda d: "連絡日 " + date_text(d["_contact"]),
                message=lambda d: (
                    "摘要欄の患者連絡日（"
                    + date_text(d["_contact"])
                    + "）が受診日（"
                    + date_text(d["service_date"])
                    + "）より前です。"
                ),
                action="受診後にあらためて患者へ連絡し、その日付を摘要欄に記載してください。",
            ),
            make_findings(
                df,
                newborn,
                category=CATEGORY,
                rule_id="FUSHO_NEWBORN",
                severity="warning",
                expected="資格確認書",
                actual=lambda d: "生後" + (d["service_date"] - d["birth"]).dt.days.astype("object").map(str) + "日",
                message="生後28日未満の新生児の不詳レセプトです。",
                action="マイナ保険証の登録前の新生児は資格確認書で受診します。保護者に資格確認書（または加入手続きの状況）を確認してください。",
            ),
        ]
    )
