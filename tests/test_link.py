"""Linking receipts to online results and card records."""

from __future__ import annotations

import pandas as pd
from tables import raw_table

from worker.engine.link import link_cards, link_online
from worker.normalise.typed import normalise
from worker.reading import TableKind


def typed(kind: TableKind, rows: list[dict[str, str]]) -> pd.DataFrame:
    out, _ = normalise(raw_table(kind, rows, file="f", sheet="s"))
    return out


def test_online_nearest_check_on_or_before_service_date() -> None:
    receipts = typed(
        "receipts",
        [
            {"patient_id": "A", "claim_month": "2026-10", "service_date": "2026-10-20"},
            {"patient_id": "A", "claim_month": "2026-10", "service_date": "2026-10-02"},
            {"patient_id": "A", "claim_month": "2026-10"},
            {"patient_id": "B", "claim_month": "2026-10", "service_date": "2026-10-20"},
        ],
    )
    online = typed(
        "online",
        [
            {"patient_id": "A", "checked_on": "2026-10-05"},  # 0
            {"patient_id": "A", "checked_on": "2026-10-18"},  # 1
            {"patient_id": "A", "checked_on": "2026-10-25"},  # 2
            {"patient_id": "A", "checked_on": "2026-09-30"},  # 3: other month
            {"patient_id": "B", "checked_on": "2026-11-01"},  # 4: other month
        ],
    )
    got = link_online(receipts, online).tolist()
    # 10-20 -> 10-18; 10-02 has none before it in October -> latest in month (10-25);
    # no service date -> latest in month; B has no check in October
    assert got == [1, 2, 2, -1]


def test_card_valid_on_service_date_preferred_then_ratio_then_newest() -> None:
    receipts = typed(
        "receipts",
        [
            {"patient_id": "A", "claim_month": "2026-10", "service_date": "2026-10-20"},
            {"patient_id": "C", "claim_month": "2026-10", "service_date": "2026-10-20"},
        ],
    )
    cards = typed(
        "cards",
        [
            {"patient_id": "A", "effective_from": "2024-08-01", "card_valid_until": "2025-07-31", "card_ratio": "2"},
            {"patient_id": "A", "effective_from": "2025-08-01", "card_valid_until": "2026-07-31", "card_ratio": "2"},
            {"patient_id": "A", "effective_from": "2026-08-01", "card_valid_until": "2027-07-31"},
            {"patient_id": "A", "effective_from": "2026-08-01", "card_valid_until": "2027-07-31", "card_ratio": "3"},
            {"patient_id": "C", "effective_from": "2024-08-01", "card_valid_until": "2025-07-31"},
        ],
    )
    # A: the two valid ones, the one with a ratio wins; C: only an expired card, still linked
    assert link_cards(receipts, cards).tolist() == [3, 4]
