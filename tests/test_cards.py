"""rules.domain.cards: the card kind, the last day a card is in force, the 記号・番号 key (DOMAIN §3, §4)."""

from __future__ import annotations

import pandas as pd

from rules.domain.cards import card_kind, effective_until, id_key, id_key_text, in_force
from rules.domain.codes import CardKind


def test_card_kind_from_free_text() -> None:
    col = pd.Series(["保険証", "健康保険証", "被保険者 証", "マイナ保険証", "資格確認書", "高齢受給者証", "", None])
    assert card_kind(col).tolist() == [
        CardKind.PAPER, CardKind.PAPER, CardKind.PAPER, CardKind.MYNA, CardKind.CERTIFICATE, "", "", "",
    ]  # fmt: skip


def test_id_key_ignores_width_hyphens_and_lost_zeros() -> None:
    assert id_key_text("000417") == id_key_text("417") == "417"
    assert id_key_text("Ｂ－２０７") == id_key_text("B-207") == id_key_text("B‐207") == id_key_text("Bー207") == "B-207"
    assert id_key_text("0000") == "0"
    assert id_key_text("B-0207") != id_key_text("B-207")  # only an all-digit value loses its zeros
    assert id_key_text("区01") == "区01"
    assert id_key_text("センター") == "センター"  # a long vowel between kana stays


def test_id_key_on_a_column_agrees_with_the_text_form() -> None:
    values = ["000417", "417", "B-207", "Ｂ－２０７", "区01", "", None, "0000", "A12"]
    for n in (1, 3000):  # value by value, and the vector path of a long column
        col = pd.Series(values * n, dtype="object")
        assert id_key(col).tolist() == [id_key_text(v or "") for v in values] * n


def test_paper_card_in_force_until_the_end_of_the_grace() -> None:
    kind = pd.Series([CardKind.PAPER, CardKind.PAPER, CardKind.PAPER, CardKind.CERTIFICATE], dtype="object")
    until = pd.Series(pd.to_datetime(["2025-12-01", None, "2025-07-31", "2027-07-31"]))
    assert effective_until(kind, until).tolist() == [
        pd.Timestamp("2026-03-31"), pd.Timestamp("2026-03-31"), pd.Timestamp("2025-07-31"), pd.Timestamp("2027-07-31"),
    ]  # fmt: skip
    start = pd.Series(pd.to_datetime(["2020-04-01"] * 4))
    for day, expected in (("2026-03-31", [True, True, False, True]), ("2026-04-01", [False, False, False, True])):
        on = pd.Series(pd.Timestamp(day), index=kind.index)
        assert in_force(kind, start, until, on).tolist() == expected
