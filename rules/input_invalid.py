"""input_invalid — a value in a row cannot be read (which column, which value in ``actual``).

Catches: a date, month, code, ratio or number that no form of CONTRACT §1 reads (e.g.
生年月日 「令和99年13月40日」, 「7割」 in a 負担 column); a 和暦 date or month outside its
era (S64.1.8, R1.4.1, H32.1.1, R1.4 — ``rules.domain.eras``; the finding says the era's
span); a date its row makes impossible (a 診療日 after the claim month, a 生年月日 after
the claim month, the 診療日 or the online check: ``worker.normalise.typed.NOT_AFTER``);
and a row without a patient ID. The findings are made while normalising
(``worker.normalise.typed``), one rule ID per field (``input_invalid.<field>``); this
module only declares the category.
Fix: correct the value in the レセコン and export again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

CATEGORY: Final = "input_invalid"
ORDER: Final = 220  # CONTRACT §2
LABEL_JA: Final = "読み取れない値"
SUMMARY_JA: Final = "読み取れない値"
STAGE: Final = "input"  # made by normalisation, not by a rule's check

#: the fields read with an invalid mask, and patient_id (a row that links to nothing)
FIELDS: Final = (
    "claim_month",
    "return_month",
    "service_date",
    "birth_date",
    "checked_on",
    "ecert_expiry",
    "card_valid_until",
    "effective_from",
    "issued_on",
    "sex",
    "relation",
    "validity",
    "limit_category",
    "billed_ratio",
    "online_ratio",
    "card_ratio",
    "benefit_ratio",
    "days",
    "points",
    "copay_collected",
    "patient_id",
)
RULE_IDS: Final = tuple(f"input_invalid.{f}" for f in FIELDS)
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ()
