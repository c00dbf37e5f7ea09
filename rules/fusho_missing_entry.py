"""fusho_missing_entry — a 不詳レセプト whose 摘要 lacks items the examiners need.

Catches: a 不詳 claim (``is_fusho_claim``: 保険者番号 77777777/77777779, 番号 777777777, or
摘要 starting 「不詳」) whose 摘要 does not record every item of the MHLW checklist
(DOMAIN §6, seeds/001): 「不詳」 first, カナ氏名, 保険種別, 保険者等名称, 事業所名 (only for
社保 — 協会けんぽ, 組合, 共済, 船員 — 国保組合, その他, わからない, read from the 摘要's own
保険種別), 住所, 連絡先, 患者への連絡を行った日, and 本人・家族. One finding per claim names all
missing items; 連絡先 is the item most often missing and the first cause of returns.
本人・家族 counts as present when the 摘要 says it OR the receipt's 本人家族 column is filled
(1/2): the examiners read the claim's 種別. Dates without a year (10/20) take the year from
the claim month. How the free text is read: ``rules.domain.tekiyo``.
Fix: copy the missing items from the patient's 被保険者資格申立書 into the 摘要; contact the
patient after the visit and record the date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.codes import Relation
from rules.domain.tekiyo import ITEM_LABELS_JA, Tekiyo, missing_items, parse_tekiyo
from rules.findings import columns_of, empty_findings, make_findings

CATEGORY: Final = "fusho_missing_entry"
ORDER: Final = 160  # CONTRACT §2
LABEL_JA: Final = "不詳レセプトの摘要記載漏れ"
SUMMARY_JA: Final = "不詳レセプトの摘要欄の記載漏れ（下記）"
RULE_IDS: Final = ("FUSHO_MISSING",)
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ()

#: the columns read on the 不詳 rows
_READS: Final = ("is_fusho_claim", "tekiyo", "claim_month", "relation")
_ACTUAL_MAX = 80
_RELATIONS: Final[frozenset[str]] = frozenset(str(r) for r in Relation)


def _message(missing: str) -> str:
    return f"不詳レセプトの摘要欄に {missing} の記載がありません（このままでは返戻されます）。"


def _action(missing: str) -> str:
    out = f"被保険者資格申立書をもとに、摘要欄に {missing} を追記してください。"
    if ITEM_LABELS_JA["phone"] in missing.split("、"):
        out += "連絡先（電話番号）の漏れが返戻理由で最も多い項目です。"
    if ITEM_LABELS_JA["contact_date"] in missing.split("、"):
        out += "受診日以降に患者へ資格情報を確認し、その日付を記載してください。"
    if ITEM_LABELS_JA["relation"] in missing.split("、"):
        out += "本人・家族（種別）は審査支払機関で補正できないため、患者に確実に確認して記載してください。"
    return out


def _actual(tekiyo: str) -> str:
    t = " ".join(tekiyo.split())
    if not t:
        return "（摘要欄が空欄）"
    return t if len(t) <= _ACTUAL_MAX else t[: _ACTUAL_MAX - 1] + "…"


def _missing(df: pd.DataFrame) -> pd.Series:
    """Per row: the missing items joined by 「、」; '' when complete or not a 不詳 claim.

    Each distinct (摘要, claim month) of the 不詳 rows is parsed once.
    """
    out = np.full(len(df), "", dtype=object)
    rows = np.flatnonzero(df["is_fusho_claim"].fillna(False).to_numpy(dtype=bool))
    if len(rows):
        sub = df.iloc[rows]
        parsed: dict[tuple[str, date | None], Tekiyo] = {}
        for k, (text, month, rel) in enumerate(
            zip(sub["tekiyo"].fillna("").astype(str), sub["claim_month"], sub["relation"], strict=True)
        ):
            key = (text, None if pd.isna(month) else pd.Timestamp(month).date())
            if key not in parsed:
                parsed[key] = parse_tekiyo(key[0], claim_month=key[1])
            items = missing_items(parsed[key], relation_known=isinstance(rel, str) and rel in _RELATIONS)
            out[rows[k]] = "、".join(ITEM_LABELS_JA[i] for i in items)
    return pd.Series(out, index=df.index, dtype="object")


def check(df: pd.DataFrame) -> pd.DataFrame:
    fusho = np.flatnonzero(df["is_fusho_claim"].fillna(False).to_numpy(dtype=bool))
    if not len(fusho):
        return empty_findings()
    df = columns_of(df, fusho, _READS)  # the findings are these rows' (in the same order)
    missing = _missing(df)
    return make_findings(
        df,
        missing.ne(""),
        category=CATEGORY,
        rule_id="FUSHO_MISSING",
        severity="error",
        expected=missing,
        actual=lambda d: d["tekiyo"].fillna("").astype(str).map(_actual),
        message=lambda d: missing.reindex(d.index).map(_message),
        action=lambda d: missing.reindex(d.index).map(_action),
    )
