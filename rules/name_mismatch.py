"""name_mismatch — the name or kana differs beyond ●, 異体字 and width.

Catches: 氏名 or カナ氏名 that still differ after ``rules.domain.names`` folds them: NFKC
(ｶﾅ = カナ), katakana, small kana, spaces or none between family and given name, dashes
typed for ー (コ-ヒ- = コーヒー) or as the separator (サトウ－タロウ), variation selectors (葛󠄀 = 葛),
旧字体/異体字 (國/国, 髙/高, 齋/斎, 邉/辺 …), with ● as a one-character wildcard (DOMAIN §4).
So 髙橋/高橋 or ●橋/高橋 are never reported; サトウ/サイトウ or 大田/太田 are.
Only rows whose raw names differ are folded, each distinct name once.
Fix: check the name on the patient's document and correct the レセコン (or ask the insurer
to correct its record).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Final

import pandas as pd

from rules.domain.context import SOURCE_PAIRS, labelled, pair_rule_id, text
from rules.domain.names import kana_readings, name_readings, names_differ
from rules.findings import concat_findings, make_findings

CATEGORY: Final = "name_mismatch"
ORDER: Final = 90  # CONTRACT §2
LABEL_JA: Final = "氏名の不一致"
SUMMARY_JA: Final = "氏名・カナが食い違う（●、異体字 髙/高、半角ｶﾅ は食い違いとしない）"
RULE_IDS: Final = ("NAME_RC_ON", "NAME_RC_CD", "NAME_ON_CD")
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("online", "cards")
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = ("name", "name_kana", "on_name", "on_name_kana", "cd_name", "cd_name_kana")


def check(df: pd.DataFrame) -> pd.DataFrame:
    parts = []
    seen = pd.Series(False, index=df.index)
    for a, b, la, lb in SOURCE_PAIRS:
        kanji = names_differ(df[a + "name"], df[b + "name"], name_readings)
        kana = names_differ(df[a + "name_kana"], df[b + "name_kana"], kana_readings)
        mask = (kanji | kana) & ~seen
        seen |= mask

        def value(d: pd.DataFrame, p: str, a: str = a, b: str = b) -> pd.Series:
            kanji = names_differ(d[a + "name"], d[b + "name"], name_readings)
            return text(d[p + "name"]).where(kanji, text(d[p + "name_kana"]))

        def message(d: pd.DataFrame, a: str = a, b: str = b, la: str = la, lb: str = lb) -> pd.Series:
            field = names_differ(d[a + "name"], d[b + "name"], name_readings).map({True: "氏名", False: "カナ氏名"})
            return (
                la
                + "と"
                + lb
                + "で"
                + field.astype("object")
                + "が異なります（"
                + value(d, a)
                + " / "
                + value(d, b)
                + "）。"
            )

        parts.append(
            make_findings(
                df,
                mask,
                reads=_READS,
                category=CATEGORY,
                rule_id=pair_rule_id("NAME", a, b),
                severity="warning",
                expected=partial(labelled, fn=value, p=a, label=la),
                actual=partial(labelled, fn=value, p=b, label=lb),
                message=message,
                action="患者の証・本人確認書類で氏名を確認し、レセコンの登録を直してください"
                "（保険者側の誤りなら保険者に訂正を依頼してください）。",
            )
        )
    return concat_findings(parts)
