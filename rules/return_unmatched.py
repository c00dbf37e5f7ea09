"""return_unmatched — a return that matches no claim in the uploaded months.

Catches: a 返戻 whose receipt number, patient ID, insurer number or name + birth date +
sex matches no uploaded receipt (``match_method`` empty, see ``worker.engine.link.link_returns``).
Fix: upload the receipts of the month the claim was made (返戻 often arrive months later)
and reconcile again, or look the claim up in the レセコン by the return's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pandas as pd

from rules.domain.context import date_text, text
from rules.findings import make_findings

CATEGORY: Final = "return_unmatched"
ORDER: Final = 210  # CONTRACT §2
LABEL_JA: Final = "元のレセプトが見つからない返戻"
SUMMARY_JA: Final = "元のレセプトが見つからない返戻（下記）"
RULE_IDS: Final = ("RETURN_UNMATCHED",)
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("returns",)
STAGE: Final = "return"  # run on the linked returns by worker.engine, not by registry.run
TESTED_BY: Final = "tests/test_returns.py"


def check(df: pd.DataFrame) -> pd.DataFrame:
    return make_findings(
        df,
        df["match_method"].eq(""),
        category=CATEGORY,
        rule_id="RETURN_UNMATCHED",
        severity="warning",
        expected="元のレセプト",
        actual=lambda d: (text(d["name"]) + " " + date_text(d["birth_date"]) + " " + text(d["insurer_no"])).str.strip(),
        message=lambda d: (
            "返戻（"
            + date_text(d["claim_month"]).str[:7]
            + " 診療分、"
            + text(d["name"])
            + "、理由「"
            + text(d["reason"])
            + "」）に対応するレセプトが、読み込んだ月の中に見つかりません。"
        ),
        action="返戻された診療月のレセプト一覧を一緒に読み込んで照合し直すか、レセコンで該当レセプトを探してください。",
    )
