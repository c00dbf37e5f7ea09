"""identity_mismatch — birth date or sex differs between sources (possibly another person).

Catches: 生年月日 or 性別 of the receipt, the online result and the card do not agree — the
surveys report other people's records linked to a patient's マイナ保険証.
Fix: check the patient's identity document; if the online record belongs to another
person, stop using it and report it to the insurer; correct the レセコン if it is wrong.
"""

from __future__ import annotations

import pandas as pd

from rules._context import date_text
from rules.findings import concat_findings, make_findings

CATEGORY = "identity_mismatch"

_PAIRS = (("", "on_", "レセプト", "オンライン資格確認"), ("", "cd_", "レセプト", "券面"),
          ("on_", "cd_", "オンライン資格確認", "券面"))  # fmt: skip
_SEX = {"1": "男", "2": "女"}


def check(df: pd.DataFrame) -> pd.DataFrame:
    parts = []
    seen = pd.Series(False, index=df.index)
    for a, b, la, lb in _PAIRS:
        ba, bb = df[a + "birth_date"], df[b + "birth_date"]
        sa, sb = df[a + "sex"], df[b + "sex"]
        birth_diff = ba.notna() & bb.notna() & ba.ne(bb)
        sex_diff = sa.notna() & sb.notna() & sa.ne(sb)
        mask = (birth_diff | sex_diff) & ~seen
        seen |= mask
        detail = (
            birth_diff.map({True: "生年月日", False: ""}).astype("object")
            + (birth_diff & sex_diff).map({True: "・", False: ""}).astype("object")
            + sex_diff.map({True: "性別", False: ""}).astype("object")
        )
        va = date_text(ba) + " " + sa.map(_SEX).fillna("").astype("object")
        vb = date_text(bb) + " " + sb.map(_SEX).fillna("").astype("object")
        parts.append(
            make_findings(
                df,
                mask,
                category=CATEGORY,
                rule_id="IDENTITY_" + (a or "rc_").upper().rstrip("_") + "_" + b.upper().rstrip("_"),
                severity="error",
                expected=la + ": " + va.str.strip(),
                actual=lb + ": " + vb.str.strip(),
                message=la + "と" + lb + "で" + detail + "が異なります（" + va.str.strip() + " / "
                + vb.str.strip() + "）。別人の情報が紐づいている可能性があります。",
                action="本人確認書類で生年月日・性別を確認してください。オンラインの情報が別人のものなら"
                "使わずに保険者へ連絡し、レセコンの登録が誤っていれば直してください。",
            )
        )
    return concat_findings(parts)
