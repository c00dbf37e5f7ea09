"""name_mismatch — the name or kana differs beyond ●, 異体字 and width.

Catches: 氏名 or カナ氏名 that still differ after NFKC (ｶﾅ = カナ), katakana folding, small
kana, 異体字 folding (髙→高, 﨑→崎, 邊/邉→辺, 齊→斉 …), with ● as a one-character
wildcard (DOMAIN §4). So 髙橋/高橋 or ●橋/高橋 are never reported.
Fix: check the name on the patient's document and correct the レセコン (or ask the insurer
to correct its record).
"""

from __future__ import annotations

import pandas as pd

from rules._names import fold_kana, fold_names, names_differ
from rules.findings import concat_findings, make_findings

CATEGORY = "name_mismatch"

_PAIRS = (("", "on_", "レセプト", "オンライン資格確認"), ("", "cd_", "レセプト", "券面"),
          ("on_", "cd_", "オンライン資格確認", "券面"))  # fmt: skip


def check(df: pd.DataFrame) -> pd.DataFrame:
    folded = {}
    for p in ("", "on_", "cd_"):
        folded[p + "name"] = fold_names(df[p + "name"])
        folded[p + "name_kana"] = fold_kana(df[p + "name_kana"])
    parts = []
    seen = pd.Series(False, index=df.index)
    for a, b, la, lb in _PAIRS:
        kanji = names_differ(folded[a + "name"], folded[b + "name"])
        kana = names_differ(folded[a + "name_kana"], folded[b + "name_kana"])
        mask = (kanji | kana) & ~seen
        seen |= mask
        field = kanji.map({True: "氏名", False: "カナ氏名"}).astype("object")
        va = df[a + "name"].fillna("").astype("object").where(kanji, df[a + "name_kana"].fillna("").astype("object"))
        vb = df[b + "name"].fillna("").astype("object").where(kanji, df[b + "name_kana"].fillna("").astype("object"))
        parts.append(
            make_findings(
                df,
                mask,
                category=CATEGORY,
                rule_id="NAME_" + (a or "rc_").upper().rstrip("_") + "_" + b.upper().rstrip("_"),
                severity="warning",
                expected=la + ": " + va,
                actual=lb + ": " + vb,
                message=la + "と" + lb + "で" + field + "が異なります（" + va + " / " + vb + "）。",
                action="患者の証・本人確認書類で氏名を確認し、レセコンの登録を直してください"
                "（保険者側の誤りなら保険者に訂正を依頼してください）。",
            )
        )
    return concat_findings(parts)
