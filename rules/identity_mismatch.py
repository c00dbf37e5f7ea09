"""identity_mismatch — birth date or sex differs between sources (possibly another person).

Catches: 生年月日 or 性別 of the receipt, the online result and the card do not agree — the
surveys report other people's records linked to a patient's マイナ保険証.
Fix: check the patient's identity document; if the online record belongs to another
person, stop using it and report it to the insurer; correct the レセコン if it is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.codes import Sex, labels_ja
from rules.domain.columns import dates, present_differ
from rules.domain.context import SOURCE_PAIRS, date_text, labelled, pair_rule_id
from rules.findings import concat_findings, make_findings

CATEGORY: Final = "identity_mismatch"
ORDER: Final = 80  # CONTRACT §2
LABEL_JA: Final = "生年月日・性別の不一致（別人の可能性）"
SUMMARY_JA: Final = "生年月日・性別が食い違う（別人の情報の可能性）"
RULE_IDS: Final = ("IDENTITY_RC_ON", "IDENTITY_RC_CD", "IDENTITY_ON_CD")
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("online", "cards")
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = ("birth_date", "sex", "on_birth_date", "on_sex", "cd_birth_date", "cd_sex")

_SEX: Final = labels_ja(Sex)


def _side(d: pd.DataFrame, p: str) -> pd.Series:
    return (date_text(d[p + "birth_date"]) + " " + d[p + "sex"].map(_SEX).fillna("").astype("object")).str.strip()


def check(df: pd.DataFrame) -> pd.DataFrame:
    parts = []
    seen = np.zeros(len(df), dtype=bool)
    for a, b, la, lb in SOURCE_PAIRS:
        ba, bb = dates(df, a + "birth_date"), dates(df, b + "birth_date")
        births = ~np.isnat(ba) & ~np.isnat(bb) & (ba != bb)
        mask = (births | present_differ(df[a + "sex"], df[b + "sex"])) & ~seen
        seen |= mask

        def message(d: pd.DataFrame, a: str = a, b: str = b, la: str = la, lb: str = lb) -> pd.Series:
            birth = d[a + "birth_date"].ne(d[b + "birth_date"]) & d[b + "birth_date"].notna()
            sex = d[a + "sex"].ne(d[b + "sex"]) & d[b + "sex"].notna()
            what = (
                (birth & sex)
                .map({True: "生年月日・性別", False: ""})
                .where(birth & sex, birth.map({True: "生年月日", False: "性別"}))
            )
            return (
                la
                + "と"
                + lb
                + "で"
                + what.astype("object")
                + "が異なります（"
                + _side(d, a)
                + " / "
                + _side(d, b)
                + "）。別人の情報が紐づいている可能性があります。"
            )

        parts.append(
            make_findings(
                df,
                mask,
                reads=_READS,
                category=CATEGORY,
                rule_id=pair_rule_id("IDENTITY", a, b),
                severity="error",
                expected=partial(labelled, fn=_side, p=a, label=la),
                actual=partial(labelled, fn=_side, p=b, label=lb),
                message=message,
                action="本人確認書類で生年月日・性別を確認してください。オンラインの情報が別人のものなら"
                "使わずに保険者へ連絡し、レセコンの登録が誤っていれば直してください。",
            )
        )
    return concat_findings(parts)
