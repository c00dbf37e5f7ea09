"""Name and kana folding on its own (rules.domain.names): the look-alikes of ー and the spaces
(issue 9, class 4), variation selectors and the 旧字体/異体字 table (class 5), ● as a wildcard,
and the comparison that folds each distinct value once."""

from __future__ import annotations

import json
import unicodedata

import pandas as pd
import pytest
from tables import raw_table

from rules.domain.names import (
    DASHES,
    VARIANTS_FILE,
    fold_kana_text,
    fold_name_text,
    kana_readings,
    name_readings,
    names_differ,
    names_match,
    variant_table,
    wildcard_equal,
)
from worker.engine.link import link_returns
from worker.normalise.typed import normalise
from worker.reading import TableKind

# every look-alike of ー the brief names, as typed (before NFKC)
LOOK_ALIKES = [
    "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212", "\uff0d", "-",
    "\u30fc", "\uff70", "\u2500", "\u2501", "\u301c", "\uff5e",
]  # fmt: skip


def same_kana(a: str, b: str) -> bool:
    return bool(names_match(pd.Series([a]), pd.Series([b]), kana_readings).iloc[0])


def same_name(a: str, b: str) -> bool:
    return bool(names_match(pd.Series([a]), pd.Series([b]), name_readings).iloc[0])


# --- kana -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dash", LOOK_ALIKES)
def test_every_look_alike_after_kana_is_the_long_vowel(dash: str) -> None:
    assert fold_kana_text(f"コ{dash}ヒ{dash}") == "コーヒー"
    assert fold_kana_text(f"ｺ{dash}ﾋ{dash}") == "コーヒー"  # after half-width kana too
    assert fold_kana_text(f"じょ{dash}じ") == fold_kana_text("ジョージ")  # and after hiragana


def test_the_dash_set_covers_the_look_alikes_after_nfkc() -> None:
    for dash in LOOK_ALIKES:
        assert unicodedata.normalize("NFKC", dash) in DASHES + "ー", hex(ord(dash))


@pytest.mark.parametrize(
    "text",
    ["SMITH-JONES", "ANNE-MARIE", "A〜B", "-コ"],  # Latin letters; a dash not after kana
)
def test_a_dash_outside_kana_stays_a_dash(text: str) -> None:
    assert "ー" not in fold_kana_text(text)
    assert fold_kana_text(text) == unicodedata.normalize("NFKC", text)


def test_a_run_of_dashes_is_a_run_of_long_vowels() -> None:
    assert fold_kana_text("ア－－") == "アーー"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("サトウ タロウ", "サトウ　タロウ"),  # ASCII space, U+3000
        ("サトウ タロウ", "サトウタロウ"),  # none
        ("サトウ・タロウ", "サトウ･タロウ"),  # middle dots
        ("サトウ\u200bタロウ", "サトウタロウ"),  # zero-width space
        ("ｻﾄｳ ﾀﾛｳ", "サトウ　タロウ"),  # width
        ("さとう たろう", "サトウタロウ"),  # hiragana
        ("ショウ", "シヨウ"),  # small kana (DOMAIN §4)
        ("サトウ－タロウ", "サトウ タロウ"),  # a dash as the separator
        ("サトウ - タロウ", "サトウ タロウ"),
        ("コーヒー", "コ－ヒ－"),
        ("コ－ヒ－", "コ―ヒ―"),
        ("コ―ヒ―", "コ-ヒ-"),
        ("コ-ヒ-", "コ〜ヒ〜"),
    ],
)
def test_kana_written_differently_is_the_same(a: str, b: str) -> None:
    assert same_kana(a, b)
    assert same_kana(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("サトウ", "サイトウ"),
        ("ユウコ", "ヨウコ"),
        ("ユウコ", "ユーコ"),  # ー is no ウ
        ("サトウ", "サトー"),
        ("サトウ－タロウ", "サトウ ジロウ"),
        ("ガ", "カ"),  # voiced marks are not folded away
        ("SMITH-JONES", "SMITHーJONES"),
    ],
)
def test_different_kana_stay_different(a: str, b: str) -> None:
    assert not same_kana(a, b)
    assert not same_kana(b, a)


def test_a_kana_name_has_two_readings() -> None:
    assert kana_readings("サトウ－タロウ") == ("サトウータロウ", "サトウタロウ")
    assert kana_readings("コーヒー") == ("コーヒー", "コーヒー")  # a real ー is never a separator


# --- kanji ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("葛\U000e0100飾", "葛飾"),  # IVS (VS17)
        ("葛\U000e0101飾", "葛\U000e0100飾"),  # two IVS of one character
        ("隆\ufe00", "隆"),  # standardized variation sequence
        ("\uf9dc", "隆"),  # compatibility ideograph (NFKC)
        ("\u2fbc", "高"),  # Kangxi radical (NFKC)
        ("國男", "国男"),
        ("惠子", "恵子"),
        ("德永", "徳永"),
        ("髙橋", "高橋"),
        ("齋藤", "斎藤"),
        ("齊藤", "斉藤"),
        ("澤田", "沢田"),
        ("渡邉", "渡辺"),
        ("渡邊", "渡邉"),
        ("𠮷田", "吉田"),
        ("宮﨑", "宮崎"),
        ("嶋田", "島田"),
        ("峯子", "峰子"),
        ("廣瀨", "広瀬"),
        ("濵田", "浜田"),
        ("藪田", "薮田"),
        ("山田 太郎", "山田　太郎"),
        ("山田－太郎", "山田太郎"),
        ("山田 マリ－", "山田 マリー"),
    ],
)
def test_variants_fold(a: str, b: str) -> None:
    assert fold_name_text(a) == fold_name_text(b) or same_name(a, b)
    assert same_name(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("大", "太"), ("士", "土"), ("斉", "斎"), ("崎", "埼"), ("崎", "碕"), ("沢", "択"),
        ("未", "末"), ("己", "已"), ("己", "巳"), ("島", "鳥"), ("間", "問"), ("日", "曰"),
        ("刀", "力"), ("千", "干"), ("王", "玉"), ("人", "入"), ("八", "入"), ("陽", "易"),
        ("恵", "慧"), ("辺", "近"), ("吉", "古"),
    ],
)  # fmt: skip
def test_different_characters_stay_different(a: str, b: str) -> None:
    """Different names, not variants: 大田/太田, 富士子/富土子; 斉 and 斎 are two 常用漢字 (only
    their old forms 齊/齋 fold to them)."""
    assert fold_name_text(a) != fold_name_text(b)
    assert not same_name(f"{a}田", f"{b}田")


def test_the_table_is_generated_pinned_and_consistent() -> None:
    data = json.loads(VARIANTS_FILE.read_text(encoding="utf-8"))
    assert data["generated_by"] == "scripts/build_name_variants.py"
    assert data["package"].startswith("@mandel59/mojidata@") and data["integrity"].startswith("sha512-")
    pairs: dict[str, str] = data["pairs"]
    assert sum(data["counts"][k] for k in ("official", "koseki")) == len(pairs) > 10_000
    for k, v in pairs.items():
        assert len(k) == 1 and len(v) == 1, (k, v)
        assert k != v, f"{k} maps to itself"
        assert unicodedata.normalize("NFKC", k) == k, f"{k} is folded by NFKC already"
        assert v not in pairs, f"{k} -> {v} -> {pairs[v]}: a chain"
    assert variant_table()[ord("國")] == "国"


def test_every_pair_of_the_old_hand_list_still_folds() -> None:
    old = (
        "髙高﨑崎嵜崎邊辺邉辺齊斉齋斎濵浜濱浜澤沢冨富德徳廣広櫻桜國国藪薮槗橋瀨瀬"
        "圓円實実惠恵榮栄彌弥龍竜嶋島嶌島曻昇𠮷吉眞真萬万髮髪晉晋淸清"
    )
    for a, b in zip(old[0::2], old[1::2], strict=True):
        assert fold_name_text(a) == fold_name_text(b), (a, b)


# --- ● and the comparison ---------------------------------------------------------------------


def test_wildcard() -> None:
    assert wildcard_equal("●橋", "高橋")
    assert wildcard_equal("高橋", "●●")
    assert not wildcard_equal("●橋", "高橋橋")
    assert same_name("●橋 德子", "髙橋 徳子")
    assert same_name("渡●", "渡邉")  # the ● side against either reading
    assert not same_name("●田 太郎郎", "山田 太郎")


def test_names_match_folds_each_distinct_value_once() -> None:
    calls: list[str] = []

    def fold(text: str) -> tuple[str, str]:
        calls.append(text)
        return kana_readings(text)

    a = pd.Series(["ｻﾄｳ", "ｻﾄｳ", "サトウ", "コ-ヒ-", None, "", "ヤマダ"] * 1000, index=range(10, 7010))
    b = pd.Series(["サトウ", "サイトウ", "サトウ", "コーヒー", "サトウ", "サトウ", None] * 1000, index=range(10, 7010))
    got = names_match(a, b, fold)
    assert list(got.index) == list(a.index)
    assert got.iloc[:7].tolist() == [True, False, True, True, False, False, False]
    # raw-equal rows and rows missing a side are never folded; the rest once per distinct value
    assert sorted(calls) == sorted({"ｻﾄｳ", "コ-ヒ-", "サトウ", "サイトウ", "コーヒー"})
    differ = names_differ(a, b, kana_readings)
    assert differ.iloc[:7].tolist() == [False, True, False, False, False, False, False]


def test_names_match_with_many_masked_rows_compares_each_combination_once() -> None:
    a = pd.Series(["●橋 一郎", "●橋 一郎", "●田 花子", "●"] * 500)
    b = pd.Series(["髙橋 一郎", "山田 一郎", "山田 花子", "高"] * 500)
    assert names_match(a, b, name_readings).iloc[:4].tolist() == [True, False, True, True]


def test_returns_link_by_kana_written_with_look_alikes() -> None:
    def typed(kind: TableKind, rows: list[dict[str, str]]) -> pd.DataFrame:
        out, _ = normalise(raw_table(kind, rows, file="f", sheet="s"))
        return out

    person = {"claim_month": "2026-09", "sex": "1", "birth_date": "1980-05-10"}
    receipts = typed(
        "receipts",
        [
            {**person, "patient_id": "A", "name": "髙橋 ジョージ", "name_kana": "タカハシ ジョージ"},
            {**person, "patient_id": "B", "name": "斎藤 一郎", "name_kana": "サイトウ イチロウ"},
        ],
    )
    returns = typed(
        "returns",
        [
            {**person, "return_month": "2026-10", "name_kana": "ﾀｶﾊｼ-ｼﾞｮｰｼﾞ", "reason": "x"},
            {**person, "return_month": "2026-10", "name": "齋藤　一郎", "reason": "x"},
            {**person, "return_month": "2026-10", "name_kana": "サトウ イチロウ", "reason": "x"},
        ],
    )
    claim, method = link_returns(returns, receipts)
    assert claim.tolist() == [receipts.index[0], receipts.index[1], -1]
    assert method.iloc[0] == method.iloc[1] != ""
