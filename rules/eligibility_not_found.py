"""eligibility_not_found — the online result is 該当資格なし (no such insured person).

Catches: QualificationValidity 4 on the check linked to the receipt.
Fix: look for the insurer in マイナポータル, 資格情報のお知らせ or past visits; bill it.
Only if none identifies the insurer and the patient presented a マイナ保険証 may the claim
go as 不詳 (77777777) with a 被保険者資格申立書 (DOMAIN §5). Already filed as 不詳: info,
needing no action here — the 不詳 claim's 摘要 and route are checked by the fusho_* rules,
which report what is missing or not allowed as findings of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pandas as pd

from rules.domain.codes import OnlineValidity
from rules.domain.columns import eq_text, flags
from rules.findings import concat_findings, make_findings

CATEGORY: Final = "eligibility_not_found"
ORDER: Final = 60  # CONTRACT §2
LABEL_JA: Final = "該当資格なし"
SUMMARY_JA: Final = "オンラインで「該当資格なし」"
RULE_IDS: Final = ("ELIG_NOT_FOUND", "ELIG_NOT_FOUND_FUSHO")
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("online",)
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = ()


def check(df: pd.DataFrame) -> pd.DataFrame:
    none = eq_text(df["on_validity"], OnlineValidity.NOT_FOUND)
    fusho = flags(df, "is_fusho")
    open_ = make_findings(
        df,
        none & ~fusho,
        reads=_READS,
        category=CATEGORY,
        rule_id="ELIG_NOT_FOUND",
        severity="error",
        expected="有効な資格",
        actual="該当資格なし",
        message="オンライン資格確認の結果が「該当資格なし」です。この保険者番号・記号番号の資格が見つかりません。",
        action="マイナポータル、資格情報のお知らせ、過去の受診記録で保険者を確認して請求してください。"
        "どれでも分からず、マイナ保険証の提示があった場合のみ、被保険者資格申立書をもらって不詳レセプトで請求できます。",
    )
    filed = make_findings(
        df,
        none & fusho,
        reads=_READS,
        category=CATEGORY,
        rule_id="ELIG_NOT_FOUND_FUSHO",
        severity="info",
        expected="不詳レセプト",
        actual="該当資格なし",
        message="オンライン資格確認の結果「該当資格なし」のため不詳レセプトで請求しています。",
        action="対応は不要です（参考）。不詳レセプトの摘要欄の記載漏れ・不詳にできない請求は、"
        "それぞれ「不詳レセプトの摘要記載漏れ」「不詳レセプトにできない請求」として別に指摘します。",
    )
    return concat_findings([open_, filed])
