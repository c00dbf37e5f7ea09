"""Every receipt rule, in CONTRACT §2 order; ``run`` applies them to a linked table."""

from __future__ import annotations

from types import ModuleType

import pandas as pd

from rules import (
    card_expired,
    card_number_format,
    ecert_expired,
    eligibility_invalid,
    eligibility_not_found,
    full_charge_collected,
    fusho_followup_required,
    fusho_missing_entry,
    fusho_not_allowed,
    identity_mismatch,
    insurer_changed,
    insurer_number_invalid,
    limit_category_mismatch,
    masked_characters,
    name_mismatch,
    ratio_billed_vs_verified,
    ratio_implausible_for_age,
    ratio_online_vs_card,
    relation_mismatch,
)
from rules.domain.context import prepare
from rules.findings import concat_findings

RECEIPT_RULES: tuple[ModuleType, ...] = (
    ratio_online_vs_card,
    ratio_billed_vs_verified,
    ratio_implausible_for_age,
    limit_category_mismatch,
    eligibility_invalid,
    eligibility_not_found,
    insurer_changed,
    identity_mismatch,
    name_mismatch,
    masked_characters,
    insurer_number_invalid,
    card_number_format,
    relation_mismatch,
    card_expired,
    ecert_expired,
    full_charge_collected,
    fusho_missing_entry,
    fusho_not_allowed,
    fusho_followup_required,
)


def run(linked: pd.DataFrame) -> pd.DataFrame:
    """All findings of the receipt rules on a linked table (see ``worker.engine.link``)."""
    df = prepare(linked.copy(deep=False))
    return concat_findings([rule.check(df) for rule in RECEIPT_RULES])
