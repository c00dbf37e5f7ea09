"""Value forms of CONTRACT §1: dates, months, ratios, numbers, identifiers, codes."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from era_cases import EraCase, load
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.domain.eras import OutOfEraError
from worker.normalise import dates as d
from worker.normalise import mapping as m
from worker.normalise import values as v


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01", date(2026, 11, 1)),
        ("2026/11/1", date(2026, 11, 1)),
        ("20261101", date(2026, 11, 1)),
        ("R8.11.1", date(2026, 11, 1)),
        ("令和8年11月1日", date(2026, 11, 1)),
        ("H12.4.1", date(2000, 4, 1)),
        ("S24/3/5", date(1949, 3, 5)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("5081101", date(2026, 11, 1)),
        ("3240305", date(1949, 3, 5)),
        ("２０２６／１１／０１", date(2026, 11, 1)),
        ("46000", date(2025, 12, 9)),  # Excel serial
        ("2026-11-01 00:00:00", date(2026, 11, 1)),
        ("r8.11.1", date(2026, 11, 1)),
    ],
)
def test_date_forms(text: str, expected: date) -> None:
    assert d.parse_date_text(text) == expected


@pytest.mark.parametrize("text", ["令和99年13月40日", "2026-02-30", "明日", "R8", "12/5"])
def test_unreadable_dates(text: str) -> None:
    with pytest.raises(ValueError):
        d.parse_date_text(text)


@pytest.mark.parametrize("case", load("date"), ids=lambda c: c.text)
def test_era_date_edges(case: EraCase) -> None:
    """Each 和暦 date reads only inside its era's span (tests/fixtures/values/era_dates.toml)."""
    if case.value is not None:
        assert d.parse_date_text(case.text) == case.value
        assert d.era_span_problem(case.text) == ""
        return
    with pytest.raises(OutOfEraError if case.problem else ValueError):
        d.parse_date_text(case.text)
    assert d.era_span_problem(case.text) == case.problem


@pytest.mark.parametrize("case", load("month"), ids=lambda c: c.text)
def test_era_month_edges(case: EraCase) -> None:
    """A 和暦 month reads when one of its days is inside its era (R1.4 and H31.5 do not)."""
    if case.value is not None:
        assert d.parse_month_text(case.text) == case.value
        return
    with pytest.raises(OutOfEraError):
        d.parse_month_text(case.text)
    assert d.era_span_problem(case.text, month=True) == case.problem


def test_era_problems_per_column() -> None:
    col = pd.Series(["R1.4.1", None, "bad", "R1.4.1", "H32.1.1"], dtype="object")
    reiwa, heisei = "令和は2019年5月1日からです", "平成は1989年1月8日から2019年4月30日までです"
    assert d.era_span_problems(col).tolist() == [reiwa, "", "", reiwa, heisei]
    values, invalid = d.parse_dates(col)
    assert invalid.tolist() == [True, False, True, True, True]
    assert values.isna().all()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10", date(2026, 10, 1)),
        ("2026/10", date(2026, 10, 1)),
        ("202610", date(2026, 10, 1)),
        ("R8.10", date(2026, 10, 1)),
        ("令和8年10月", date(2026, 10, 1)),
        ("R8.10.15", date(2026, 10, 1)),
    ],
)
def test_month_forms(text: str, expected: date) -> None:
    assert d.parse_month_text(text) == expected


@pytest.mark.parametrize("text", ["3", "3割", "30", "30%", "0.3", "030", "３割", "３０％", " 3 割 "])
def test_burden_forms_all_mean_3(text: str) -> None:
    assert v.parse_burden_text(text) == 3.0


@pytest.mark.parametrize(
    ("text", "expected"), [("10割", 10.0), ("100", 10.0), ("1.0", 10.0), ("010", 1.0), ("0.1", 1.0)]
)
def test_burden_edge_forms(text: str, expected: float) -> None:
    assert v.parse_burden_text(text) == expected


@pytest.mark.parametrize("text", ["7割", "70", "0.7", "5", "三割", "3.5割"])
def test_burden_impossible_values(text: str) -> None:
    with pytest.raises(ValueError):
        v.parse_burden_text(text)


@pytest.mark.parametrize(("text", "burden"), [("70", 3.0), ("7割", 3.0), ("0.8", 2.0), ("90%", 1.0), ("９割", 1.0)])
def test_benefit_ratio_is_ten_minus(text: str, burden: float) -> None:
    assert v.parse_benefit_text(text) == burden


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1040013", "01040013"),
        ("01040013", "01040013"),
        ("  138057", "138057"),
        ("00138057", "138057"),
        ("138057", "138057"),
        ("1040013.0", "01040013"),
        ("０１０４００１３", "01040013"),
        ("39280003", "39280003"),
    ],
)
def test_insurer_numbers_restored(text: str, expected: str) -> None:
    assert v.parse_insurer_text(text) == expected


def test_branch_keeps_two_digits() -> None:
    assert v.parse_branch_text("00") == "00"
    assert v.parse_branch_text("0") == "00"
    assert v.parse_branch_text("1") == "01"


def test_parse_column_reports_only_bad_nonblank_values() -> None:
    col = pd.Series(["R8.10.1", "", None, "bad", "R8.10.1"], dtype="object")
    values, invalid = d.parse_dates(col)
    assert invalid.tolist() == [False, False, False, True, False]
    assert values.iloc[0] == pd.Timestamp("2026-10-01")
    assert pd.isna(values.iloc[1]) and pd.isna(values.iloc[3])


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("有効", "1"),
        ("無効", "2"),
        ("無効（新しい資格あり）", "3"),
        ("該当資格なし", "4"),
        ("複数該当", "5"),
        ("３", "3"),
    ],
)
def test_validity(text: str, code: str) -> None:
    values, invalid = v.parse_validity(pd.Series([text]))
    assert values.iloc[0] == code and not invalid.iloc[0]


@pytest.mark.parametrize(
    ("text", "norm"),
    [
        ("A01", "ア"),
        ("区分ア", "ア"),
        ("現役並みⅢ", "現役並みIII"),
        ("B01", "現役並みIII"),
        ("一般Ⅱ", "一般II"),
        ("B09", "一般II"),
        ("低所得Ⅰ", "低所得I"),
        ("B06", "低所得I"),
    ],
)
def test_limit_categories(text: str, norm: str) -> None:
    values, _ = v.parse_limit(pd.Series([text]))
    assert values.iloc[0] == norm


def test_numbers_with_units_and_commas() -> None:
    values, invalid = v.parse_numbers(pd.Series(["1,234点", "１２３４", "1234円", "千"]))
    assert values.tolist()[:3] == [1234.0, 1234.0, 1234.0]
    assert invalid.tolist() == [False, False, False, True]


def test_text_fast_and_slow_paths_agree_with_nfkc() -> None:
    col = pd.Series(["山田　太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "  x ", None, "Ａ１", "髙橋"], dtype="object")
    assert v.parse_text(col).tolist() == ["山田 太郎", "ヤマダ タロウ", "x", "", "A1", "髙橋"]
    ids = pd.Series(["123", "123.0", " 1 23", "Ａ１", None], dtype="object")
    assert v.parse_ids(ids).tolist() == ["123", "123", "123", "A1", ""]


_ISO_LIKE = st.builds(
    lambda y, m, d, sep, time: f"{y:04d}{sep}{m:02d}{sep}{d:02d}{time}",
    st.one_of(st.integers(1890, 2210), st.integers(0, 9999)),
    st.integers(0, 13),
    st.one_of(st.integers(27, 32), st.integers(0, 32)),
    st.sampled_from(["-", "-", "-", "/", "－"]),
    st.sampled_from(["", "", " 09:30:00", "T09:30:00", " 00:00:00", " x", "\n"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_ISO_LIKE, st.text(max_size=12), st.none()), max_size=40))
def test_dates_read_by_arrow_are_read_as_one_by_one(texts: list[str | None]) -> None:
    """The vectorised common form (``iso_dates``) gives what ``parse_date_text`` gives, value
    by value: the same dates, the same invalid ones (2026-02-30, 0000-01-01, 2026-13-01)."""
    col = pd.Series(texts, dtype=object)
    fast = m.map_array(col, d.parse_date_text, "datetime64[ns]", np.datetime64("NaT"), fast=d.iso_dates)
    slow = m.map_array(col, d.parse_date_text, "datetime64[ns]", np.datetime64("NaT"))
    np.testing.assert_array_equal(fast[0], slow[0])
    assert fast[1].tolist() == slow[1].tolist()


def test_a_day_that_does_not_exist_is_invalid_not_rolled_over() -> None:
    values, invalid = d.parse_dates(pd.Series(["2026-02-30", "2025-02-29", "2024-02-29", "2026-10-03 09:30:00"]))
    assert invalid.tolist() == [True, True, False, False]
    assert values.iloc[2:].dt.strftime("%Y-%m-%d").tolist() == ["2024-02-29", "2026-10-03"]
