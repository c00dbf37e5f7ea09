"""eligibility_invalid — the online result says 資格無効 for the claim.

Catches: QualificationValidity 2 (無効) or 3 (無効（新しい資格あり）) on the check linked
to the receipt (DOMAIN §5, MHLW 2025-11-12).
Fix: 無効 — bill against the LOST qualification shown online (it may be returned once
until the insurer registers the new one, then it is paid on re-claim); never file it as
不詳. 新しい資格あり — ask the patient for the new 資格確認書 / 資格情報のお知らせ and bill
the new insurer; until then, the lost qualification.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pandas as pd

from rules.domain.codes import OnlineValidity
from rules.domain.columns import eq_text
from rules.domain.context import eligibility_text
from rules.findings import concat_findings, make_findings

CATEGORY: Final = "eligibility_invalid"
ORDER: Final = 50  # CONTRACT §2
LABEL_JA: Final = "資格無効"
SUMMARY_JA: Final = "オンラインで「資格無効」「無効（新しい資格あり）」"
RULE_IDS: Final = ("ELIG_INVALID", "ELIG_INVALID_NEW")
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("online",)
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = ("on_insurer_no", "on_card_symbol", "on_card_number")


def check(df: pd.DataFrame) -> pd.DataFrame:
    validity = df["on_validity"]
    invalid, invalid_new = eq_text(validity, OnlineValidity.INVALID), eq_text(validity, OnlineValidity.INVALID_NEW)
    lost = make_findings(
        df,
        invalid,
        reads=_READS,
        category=CATEGORY,
        rule_id="ELIG_INVALID",
        severity="error",
        expected="有効な資格",
        actual="資格無効",
        message=lambda d: "オンライン資格確認の結果が「資格無効」です（" + eligibility_text(d, "on_") + "）。",
        action=lambda d: (
            "有効な資格がない場合は、喪失した資格（" + eligibility_text(d, "on_") + "）で請求してください"
            "（新しい資格の登録前なら一度返戻され、再請求で支払われます）。不詳レセプトにはしないでください。"
        ),
    )
    new = make_findings(
        df,
        invalid_new,
        reads=_READS,
        category=CATEGORY,
        rule_id="ELIG_INVALID_NEW",
        severity="error",
        expected="新しい資格",
        actual="無効（新しい資格あり）",
        message=lambda d: (
            "オンライン資格確認の結果が「無効（新しい資格あり）」です（喪失した資格: "
            + eligibility_text(d, "on_")
            + "）。"
        ),
        action="患者に新しい資格確認書または資格情報のお知らせの提示を求め、新しい保険者で請求してください。"
        "確認できない場合は喪失した資格で請求します（不詳レセプトにはしないでください）。",
    )
    return concat_findings([lost, new])
