"""relation_mismatch — 本人/家族 differs between the receipt, the online result and the card.

Catches: the 種別 (本人 or 家族) of the claim differs from a source. Examiners cannot
correct it, so the claim is returned (DOMAIN §6).
Fix: check the card and bill with the right 本人/家族 (and the matching レセプト種別).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.codes import Relation, labels_ja
from rules.domain.columns import flags, present_differ
from rules.findings import concat_findings, make_findings

CATEGORY: Final = "relation_mismatch"
ORDER: Final = 130  # CONTRACT §2
LABEL_JA: Final = "本人・家族の不一致"
SUMMARY_JA: Final = "本人・家族の区分が食い違う"
RULE_IDS: Final = ("RELATION_ON", "RELATION_CD", "RELATION_ONLINE_CARD")
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("online", "cards")
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = ("relation", "on_relation", "cd_relation")

_LABEL: Final = labels_ja(Relation)


def _label(col: pd.Series) -> pd.Series:
    return col.map(_LABEL).fillna("").astype("object")


def _source_label(d: pd.DataFrame, p: str, label: str) -> pd.Series:
    return label + ": " + _label(d[p + "relation"])


def _message(d: pd.DataFrame, p: str, label: str) -> pd.Series:
    return (
        "本人・家族の区分がレセプト（" + _label(d["relation"]) + "）と" + label + "（" + _label(d[p + "relation"])
        + "）で異なります。"
    )  # fmt: skip


def check(df: pd.DataFrame) -> pd.DataFrame:
    rel = df["relation"]
    parts = []
    seen = np.zeros(len(df), dtype=bool)
    for p, label, usable in (
        ("on_", "オンライン資格確認", flags(df, "online_ok")),
        ("cd_", "券面", flags(df, "cd_linked")),
    ):
        mask = usable & present_differ(rel, df[p + "relation"]) & ~seen
        seen |= mask
        parts.append(
            make_findings(
                df,
                mask,
                reads=_READS,
                category=CATEGORY,
                rule_id="RELATION_" + p.upper().rstrip("_"),
                severity="error",
                expected=partial(_source_label, p=p, label=label),
                actual=lambda d: "レセプト: " + _label(d["relation"]),
                message=partial(_message, p=p, label=label),
                action="証で本人・家族を確認し、正しい区分で請求してください（審査で訂正されず返戻になります）。",
            )
        )
    both = flags(df, "online_ok") & present_differ(df["on_relation"], df["cd_relation"]) & rel.isna().to_numpy()
    parts.append(
        make_findings(
            df,
            both,
            reads=_READS,
            category=CATEGORY,
            rule_id="RELATION_ONLINE_CARD",
            severity="warning",
            expected=lambda d: "券面: " + _label(d["cd_relation"]),
            actual=lambda d: "オン資: " + _label(d["on_relation"]),
            message="本人・家族の区分がオンライン資格確認と券面で異なります。",
            action="証で本人・家族を確認し、保険者に登録内容を確認してください。",
        )
    )
    return concat_findings(parts)
