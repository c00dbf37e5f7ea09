"""The synthetic month generator: deterministic, valid insurer numbers, ratios by age."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.synth import (
    BAND_ELDERLY,
    BAND_KOUKI,
    BAND_PRESCHOOL,
    BAND_WORKING,
    HEADERS,
    age_band,
    check_digit,
    elderly_start,
    generate_month,
    kouki_start,
    preschool_end,
    write_month,
)
from rules import CATEGORIES
from worker.reading import classify_header

N = 4000


@pytest.fixture(scope="module")
def month() -> dict[str, pd.DataFrame]:
    return generate_month(N, seed=7, truth=True)


@pytest.fixture(scope="module")
def clean() -> dict[str, pd.DataFrame]:
    return generate_month(N, seed=11, problems=False)


# --- independent references (deliberately written differently from benchmarks.synth) -------


def ref_check_digit_ok(number: str) -> bool:
    """DOMAIN §4: weights 2,1,2,… from the right of the body, digit sums, 10 − sum mod 10."""
    if not number.isdigit() or len(number) not in (6, 8):
        return False
    body, check = number[:-1], int(number[-1])
    total = 0
    for pos, ch in enumerate(reversed(body)):
        product = int(ch) * (2 if pos % 2 == 0 else 1)
        total += sum(int(c) for c in str(product))
    return (10 - total % 10) % 10 == check


def ref_starts(birth: dt.date) -> tuple[dt.date, dt.date, dt.date]:
    """DOMAIN §2 written from the school year and birthday calendar: the first day of
    school age (no longer 未就学), of 高齢受給者 and of 後期高齢者."""

    def anniversary(years: int) -> dt.date:
        try:
            return birth.replace(year=birth.year + years)
        except ValueError:  # 29 Feb in a common year: the law counts from 1 Mar
            return dt.date(birth.year + years, 3, 1)

    # 未就学 until the March 31 before first grade; born on April 1 starts school a year
    # earlier than those born on April 2.
    school_year = birth.year + (6 if (birth.month, birth.day) <= (4, 1) else 7)
    seventieth = anniversary(70)
    if seventieth.day == 1:
        elderly_from = seventieth
    elif seventieth.month == 12:
        elderly_from = dt.date(seventieth.year + 1, 1, 1)
    else:
        elderly_from = dt.date(seventieth.year, seventieth.month + 1, 1)
    return dt.date(school_year, 4, 1), elderly_from, anniversary(75)


def ref_allowed_ratios(birth: dt.date, service: dt.date, insurer: str) -> set[int]:
    school, elderly_from, kouki_from = ref_starts(birth)
    if service < school:
        return {2}
    if service < elderly_from:
        return {3}
    if service < kouki_from:
        assert not insurer.startswith("39"), (birth, service, insurer)
        return {2, 3}
    assert insurer.startswith("39"), (birth, service, insurer)
    return {1, 2, 3}


def test_reference_examples() -> None:
    assert ref_check_digit_ok("01040013")
    assert ref_check_digit_ok("33120015")
    assert ref_check_digit_ok("39280003")
    assert ref_check_digit_ok("138057")
    assert not ref_check_digit_ok("88134458")
    oct15 = dt.date(2026, 10, 15)
    assert ref_allowed_ratios(dt.date(2020, 4, 1), oct15, "") == {3}
    assert ref_allowed_ratios(dt.date(2020, 4, 2), oct15, "") == {2}
    assert ref_allowed_ratios(dt.date(1956, 10, 1), oct15, "") == {2, 3}
    assert ref_allowed_ratios(dt.date(1956, 10, 2), oct15, "") == {3}
    assert ref_allowed_ratios(dt.date(1951, 10, 15), oct15, "39") == {1, 2, 3}
    assert ref_allowed_ratios(dt.date(1951, 10, 16), oct15, "") == {2, 3}


def _edge_births() -> list[dt.date]:
    """Birthdays on the edges: the 1st and last of every month, 29 Feb, 1 and 2 April."""
    births = []
    for year in range(1900, 2026):
        for month in range(1, 13):
            first = dt.date(year, month, 1)
            births += [first, (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)]
        births += [dt.date(year, 2, 28), dt.date(year, 4, 1), dt.date(year, 4, 2), dt.date(year, 10, 15)]
        if year % 4 == 0 and year != 1900:
            births.append(dt.date(year, 2, 29))
    return births


def _days(dates: list[dt.date]) -> np.ndarray:
    return np.array(dates, dtype="datetime64[D]")


def test_age_boundaries_agree_with_the_reference_on_edge_days() -> None:
    """synth takes its boundaries from rules.domain.age; both agree with the calendar."""
    births = _edge_births()
    starts = [ref_starts(b) for b in births]
    assert (preschool_end(_days(births)) == _days([s[0] - dt.timedelta(days=1) for s in starts])).all()
    assert (elderly_start(_days(births)) == _days([s[1] for s in starts])).all()
    assert (kouki_start(_days(births)) == _days([s[2] for s in starts])).all()


def test_age_band_agrees_with_the_reference_around_each_boundary() -> None:
    bands = (BAND_PRESCHOOL, BAND_WORKING, BAND_ELDERLY, BAND_KOUKI)
    pairs = [
        (birth, start + dt.timedelta(days=shift))
        for birth in _edge_births()
        for start in ref_starts(birth)
        for shift in (-1, 0, 1)
    ]
    expected = [bands[sum(service >= start for start in ref_starts(birth))] for birth, service in pairs]
    got = age_band(_days([b for b, _ in pairs]), _days([s for _, s in pairs]))
    assert got.tolist() == expected
    # one date at a time, as sample_receipts/build.py calls it
    assert int(age_band("2020-04-01", "2026-03-31")) == BAND_PRESCHOOL
    assert int(age_band("2020-04-01", "2026-04-01")) == BAND_WORKING
    assert str(elderly_start("1956-10-01")) == "2026-10-01"
    assert str(kouki_start("1952-02-29")) == "2027-03-01"


def test_check_digit_agrees_with_the_reference() -> None:
    rng = np.random.default_rng(1)
    bodies = [f"{b:07d}" for b in rng.integers(0, 10**7, 2000)] + [f"{b:05d}" for b in range(0, 10**5, 41)]
    for body in bodies:
        digit = check_digit(body)
        assert ref_check_digit_ok(body + digit), body
        assert sum(ref_check_digit_ok(body + d) for d in "0123456789") == 1, body
    assert check_digit("0113001") == "2" and check_digit("13801") == "6"
    for bad in ("", "123456", "12a4567", "12345678"):
        with pytest.raises(ValueError):
            check_digit(bad)


# --- the generator ------------------------------------------------------------------------


def test_columns_and_strings(month: dict[str, pd.DataFrame]) -> None:
    for kind in ("receipts", "online", "cards"):
        df = month[kind]
        assert tuple(df.columns) == HEADERS[kind]
        assert df.notna().all().all()
        assert all(isinstance(v, str) for v in df.iloc[0])
        match = classify_header(list(df.columns))
        assert match is not None and match.kind == kind
    assert len(month["receipts"]) == N
    assert len(month["online"]) == N
    # one card per patient, a few 70–74 patients have two; 不詳 claims none
    assert N * 0.98 < len(month["cards"]) < N * 1.15


def test_deterministic_for_a_seed() -> None:
    a = generate_month(500, seed=3)
    b = generate_month(500, seed=3)
    c = generate_month(500, seed=4)
    for kind in a:
        pd.testing.assert_frame_equal(a[kind], b[kind])
    assert not a["receipts"].equals(c["receipts"])


def test_insurer_numbers_pass_check_digit(clean: dict[str, pd.DataFrame]) -> None:
    for kind in ("receipts", "online", "cards"):
        numbers = clean[kind]["保険者番号"]
        assert numbers.str.len().isin([6, 8]).all()
        bad = [x for x in numbers.unique() if not ref_check_digit_ok(x)]
        assert bad == [], (kind, bad[:5])
        hobetsu = set(numbers[numbers.str.len() == 8].str.slice(0, 2))
        assert hobetsu <= {"01", "06", "31", "32", "33", "34", "39"}, hobetsu


def test_seeded_check_digit_errors_fail(month: dict[str, pd.DataFrame]) -> None:
    truth = month["problems"]
    rows = truth.loc[truth["problem"] == "insurer_check_digit", "row"]
    assert len(rows) > 0
    assert not any(ref_check_digit_ok(x) for x in month["receipts"]["保険者番号"].iloc[rows])
    clean_rows = month["receipts"].drop(index=truth["row"])
    assert all(ref_check_digit_ok(x) for x in clean_rows["保険者番号"].unique())


def _ratio(text: str) -> int:
    return int(text.removesuffix("割"))


def _check_ratios(month: dict[str, pd.DataFrame], rows: pd.Index) -> int:
    rec = month["receipts"].loc[rows].to_dict("records")
    onl = month["online"].loc[rows].to_dict("records")
    cards: dict[str, list[dict[str, str]]] = {}
    for card in month["cards"].to_dict("records"):
        cards.setdefault(card["患者ID"], []).append(card)
    checked = 0
    for r, o in zip(rec, onl, strict=True):
        birth = dt.date.fromisoformat(r["生年月日"])
        service = dt.date.fromisoformat(r["診療日"])
        assert r["診療年月"] == "2026-10" and service.strftime("%Y-%m") == "2026-10"
        allowed = ref_allowed_ratios(birth, service, r["保険者番号"])
        billed = _ratio(r["負担割合"])
        assert billed in allowed, (r, allowed)
        assert _ratio(o["負担割合"]) == billed
        assert o["照会日"] == r["診療日"] and o["資格有効性"] == "有効"
        assert o["患者ID"] == r["患者ID"] and o["保険者番号"] == r["保険者番号"]
        for card in cards[r["患者ID"]]:
            if card["負担割合"]:
                assert _ratio(card["負担割合"]) == billed
            assert card["保険者番号"] == r["保険者番号"]
            assert card["有効期限"] == "" or card["有効期限"] >= r["診療日"]
            assert card["発効期日"] <= r["診療日"]
        copay = int(r["一部負担金"])
        assert copay == (int(r["合計点数"]) * billed + 5) // 10 * 10
        checked += 1
    return checked


def test_clean_rows_follow_the_age_rule(clean: dict[str, pd.DataFrame]) -> None:
    assert _check_ratios(clean, clean["receipts"].index) == N


def test_clean_rows_of_a_month_with_problems(month: dict[str, pd.DataFrame]) -> None:
    problem_rows = set(month["problems"]["row"])
    rows = pd.Index([i for i in range(N) if i not in problem_rows])
    assert _check_ratios(month, rows) == len(rows)


def test_age_mix_and_ratios(clean: dict[str, pd.DataFrame]) -> None:
    rec = clean["receipts"]
    birth = pd.to_datetime(rec["生年月日"])
    age = (pd.Timestamp("2026-10-15") - birth).dt.days / 365.25
    assert 0.35 < (age >= 70).mean() < 0.6
    assert (age < 6).mean() > 0.03
    ratios = set(rec["負担割合"])
    assert ratios == {"1割", "2割", "3割"}
    kouki = rec["保険者番号"].str.startswith("39")
    assert (age[kouki] >= 74.9).all()
    assert rec["カナ氏名"].str.fullmatch(r"[ァ-ヶー\u3000]+").all()


def test_about_one_percent_problems(month: dict[str, pd.DataFrame]) -> None:
    truth = month["problems"]
    assert len(truth) == round(N * 0.01)
    assert truth["row"].is_unique
    # each seeded problem is visible in the data
    rec, onl = month["receipts"], month["online"]
    for _, p in truth.iterrows():
        r, o = rec.iloc[p["row"]], onl.iloc[p["row"]]
        if p["problem"] == "billed_ratio_wrong":
            assert r["負担割合"] != o["負担割合"]
        elif p["problem"] == "eligibility_invalid":
            assert o["資格有効性"] in ("無効", "無効（新しい資格あり）")
        elif p["problem"] in ("eligibility_not_found",):
            assert o["資格有効性"] == "該当資格なし"
        elif p["problem"] == "fusho_valid":
            assert r["保険者番号"] == "77777777" and r["摘要"].startswith("不詳")
        elif p["problem"] == "masked_name":
            assert o["氏名"].startswith("●")
        elif p["problem"] == "full_charge":
            assert int(r["一部負担金"]) == int(r["合計点数"]) * 10


def test_write_month_csv_and_xlsx(tmp_path: Path) -> None:
    from python_calamine import CalamineWorkbook

    tables = generate_month(50, seed=1)
    for form in ("csv", "xlsx"):
        paths = write_month(tables, tmp_path / form, form=form)
        assert [p.name for p in paths] == [
            f"receipts_2026-10.{form}",
            f"online_results_2026-10.{form}",
            f"card_records_2026-10.{form}",
        ]
        for path, (kind, df) in zip(paths, tables.items(), strict=True):
            if form == "csv":
                back = pd.read_csv(path, encoding="cp932", dtype=str, keep_default_na=False)
            else:
                rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
                back = pd.DataFrame(rows[1:], columns=rows[0]).astype(str)
            assert list(back.columns) == list(HEADERS[kind])
            pd.testing.assert_frame_equal(back, df, check_dtype=False)


SAMPLE = Path(__file__).resolve().parents[1] / "sample_receipts"


@pytest.mark.skipif(not (SAMPLE / "expected_problems.json").exists(), reason="sample not built")
def test_bundled_sample_headers_and_expected_rows() -> None:
    """Every sheet of the bundled sample has a recognised header; expected rows exist."""
    import json

    from python_calamine import CalamineWorkbook

    month_dir = SAMPLE / "2026-10"
    kinds: dict[tuple[str, str], str] = {}
    sheets: dict[tuple[str, str], list[list[object]]] = {}
    for path in sorted(SAMPLE.glob("2026-*/*.xlsx")):
        wb = CalamineWorkbook.from_path(str(path))
        for name in wb.sheet_names:
            rows = wb.get_sheet_by_name(name).to_python()
            match = next((m for m in map(classify_header, rows[:10]) if m), None)
            assert match is not None, (path.name, name)
            kinds[(path.name, name)] = match.kind
            sheets[(path.name, name)] = rows
    text = (month_dir / "online_results_2026-10.csv").read_bytes().decode("cp932")
    match = classify_header(text.splitlines()[0].split(","))
    assert match is not None and match.kind == "online"
    assert sorted(kinds.values()) == ["cards", "cards", "receipts", "receipts", "receipts", "receipts", "returns"]
    expected = json.loads((SAMPLE / "expected_problems.json").read_text(encoding="utf-8"))
    keys = {e["problem"] for e in expected}
    for key in keys - {"fusho_77777779"}:
        assert sum(e["problem"] == key for e in expected) >= 2, key
    for e in expected:
        assert e["category"] is None or e["category"] in CATEGORIES
        for where in e["receipts"]:
            row = sheets[(where["file"], where["sheet"])][where["row"] - 1]
            assert str(row[0]).removesuffix(".0") == e["patient_id"]
