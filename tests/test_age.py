"""The age boundaries of DOMAIN §2 as pure functions."""

from __future__ import annotations

import pandas as pd
import pytest

from rules.domain import age as _age


def ts(*days: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(days)))


@pytest.mark.parametrize(
    ("birth", "end"),
    [
        ("2020-04-01", "2026-03-31"),
        ("2020-04-02", "2027-03-31"),
        ("2020-03-31", "2026-03-31"),
        ("2019-12-31", "2026-03-31"),
        ("2020-01-01", "2026-03-31"),
    ],
)
def test_preschool_end(birth: str, end: str) -> None:
    assert _age.preschool_end(ts(birth)).iloc[0] == pd.Timestamp(end)


@pytest.mark.parametrize(
    ("birth", "start"),
    [
        ("1956-10-01", "2026-10-01"),
        ("1956-10-02", "2026-11-01"),
        ("1956-10-31", "2026-11-01"),
        ("1956-01-01", "2026-01-01"),
        ("1956-12-02", "2027-01-01"),
        ("1952-02-29", "2022-03-01"),
    ],
)
def test_elderly_start(birth: str, start: str) -> None:
    assert _age.elderly_start(ts(birth)).iloc[0] == pd.Timestamp(start)


@pytest.mark.parametrize(("birth", "start"), [("1951-10-15", "2026-10-15"), ("1951-10-01", "2026-10-01")])
def test_kouki_starts_on_the_birthday(birth: str, start: str) -> None:
    assert _age.kouki_start(ts(birth)).iloc[0] == pd.Timestamp(start)


def test_allowed_masks_around_each_boundary() -> None:
    birth = ts("1956-10-02", "1956-10-02", "1951-10-15", "1951-10-15", "1951-10-15")
    on = ts("2026-10-31", "2026-11-01", "2026-10-14", "2026-10-15", "2026-10-15")
    kouki = pd.Series([False, False, False, True, False])
    mask = _age.allowed_ratios(_age.Boundaries.of(birth), on, kouki)
    assert _age.describe_mask(mask).tolist() == ["3割", "2割・3割", "2割・3割", "1割・2割・3割", "1割・2割・3割"]


def test_age_on_counts_from_the_day_before_the_birthday() -> None:
    assert _age.age_on(ts("1956-10-02"), ts("2026-10-01")).iloc[0] == 70
    assert _age.age_on(ts("1956-10-02"), ts("2026-09-30")).iloc[0] == 69


def test_boundaries_of_equals_the_single_functions() -> None:
    birth = ts("2020-04-01", "2020-04-02", "1956-10-01", "1956-10-02", "1952-02-29", "1951-10-15")
    b = _age.Boundaries.of(birth)
    assert b.preschool_end.tolist() == _age.preschool_end(birth).tolist()
    assert b.elderly_start.tolist() == _age.elderly_start(birth).tolist()
    assert b.kouki_start.tolist() == _age.kouki_start(birth).tolist()
    assert b.age65.tolist() == _age.anniversary(birth, 65).tolist()
