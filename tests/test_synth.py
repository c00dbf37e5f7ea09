"""The synthetic month generator: deterministic, valid insurer numbers, ratios by age."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.synth import HEADERS, generate_month, write_month
from rules import CATEGORIES
from worker.reading.schema import classify_header

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


def ref_allowed_ratios(birth: dt.date, service: dt.date, insurer: str) -> set[int]:
    """DOMAIN §2 written from the school year and birthday calendar."""

    def anniversary(years: int) -> dt.date:
        try:
            return birth.replace(year=birth.year + years)
        except ValueError:  # 29 Feb in a common year: the law counts from 1 Mar
            return dt.date(birth.year + years, 3, 1)

    # 未就学 until the March 31 before first grade; born on April 1 starts school a year
    # earlier than those born on April 2.
    school_year = birth.year + (6 if (birth.month, birth.day) <= (4, 1) else 7)
    if service < dt.date(school_year, 4, 1):
        return {2}
    seventieth = anniversary(70)
    if seventieth.day == 1:
        elderly_from = seventieth
    elif seventieth.month == 12:
        elderly_from = dt.date(seventieth.year + 1, 1, 1)
    else:
        elderly_from = dt.date(seventieth.year, seventieth.month + 1, 1)
    if service < elderly_from:
        return {3}
    if service < anniversary(75):
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
