"""The stored codes as enums and the one era table: the readers' tables stay exactly as they were."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from rules.domain import eras
from rules.domain.codes import MatchMethod, OnlineValidity, Relation, Sex, labels_ja, spelling_table


def test_spelling_tables_are_the_readers_tables() -> None:
    assert spelling_table(Sex) == {
        "1": "1", "男": "1", "男性": "1", "M": "1", "2": "2", "女": "2", "女性": "2", "F": "2",
    }  # fmt: skip
    assert spelling_table(Relation) == {
        "1": "1", "本人": "1", "本": "1", "被保険者": "1", "被保険者本人": "1",
        "2": "2", "家族": "2", "家": "2", "被扶養者": "2", "被保険者家族": "2",
    }  # fmt: skip
    assert spelling_table(OnlineValidity) == {
        "1": "1", "有効": "1", "資格有効": "1",
        "2": "2", "無効": "2", "資格無効": "2",
        "3": "3", "無効(新しい資格あり)": "3", "資格無効(新しい資格あり)": "3", "無効(新資格あり)": "3",
        "4": "4", "該当資格なし": "4", "資格情報なし": "4", "該当なし": "4",
        "5": "5", "複数該当": "5",
    }  # fmt: skip
    assert all(type(v) is str and type(k) is str for k, v in spelling_table(OnlineValidity).items())


def test_labels_and_values() -> None:
    assert labels_ja(OnlineValidity) == {
        "1": "有効", "2": "無効", "3": "無効（新しい資格あり）", "4": "該当資格なし", "5": "複数該当",
    }  # fmt: skip
    assert labels_ja(Relation) == {"1": "本人", "2": "家族"}
    assert labels_ja(Sex) == {"1": "男", "2": "女"}
    assert OnlineValidity("3") is OnlineValidity.INVALID_NEW
    assert Relation.FAMILY.label_ja == "家族"


def test_members_compare_as_codes_in_pandas() -> None:
    for dtype in ("str", "object"):
        col = pd.Series(["1", "2", "3", None], dtype=dtype)
        assert col.eq(OnlineValidity.VALID).tolist() == [True, False, False, False]
        assert col.isin([OnlineValidity.INVALID, OnlineValidity.INVALID_NEW]).tolist() == [False, True, True, False]


def test_one_era_table() -> None:
    # the spellings the readers accepted before the table moved here, and their 元年
    assert {s: e.start_year for s, e in eras.BY_SPELLING.items()} == {
        "M": 1868, "明": 1868, "明治": 1868, "1": 1868,
        "T": 1912, "大": 1912, "大正": 1912, "2": 1912,
        "S": 1926, "昭": 1926, "昭和": 1926, "3": 1926,
        "H": 1989, "平": 1989, "平成": 1989, "4": 1989,
        "R": 2019, "令": 2019, "令和": 2019, "5": 2019,
    }  # fmt: skip
    assert eras.era_of("r").year(8) == 2026
    assert eras.era_of("平成").year(1) == 1989


def test_era_spans_follow_each_other() -> None:
    # each era begins on its 改元 (明治: 元年1月1日 as written) and ends the day before the next
    assert [(e.name, e.first) for e in eras.ERAS] == [
        ("明治", date(1868, 1, 1)), ("大正", date(1912, 7, 30)), ("昭和", date(1926, 12, 25)),
        ("平成", date(1989, 1, 8)), ("令和", date(2019, 5, 1)),
    ]  # fmt: skip
    for era, following in zip(eras.ERAS, eras.ERAS[1:], strict=False):
        assert era.last == following.first - timedelta(days=1)
        assert eras.era_at(era.last) is era and eras.era_at(following.first) is following
    assert eras.ERAS[-1].last is None
    assert eras.era_at(date(1867, 12, 31)) is None


def test_return_codes() -> None:
    from rules.domain.return_reasons import CLASS_LABELS_JA

    assert CLASS_LABELS_JA == {"eligibility": "資格", "fusho": "不詳 記載不備", "ratio": "負担割合", "other": "その他"}
    # strongest first: the order in which the engine tries them (worker.engine.link)
    assert list(labels_ja(MatchMethod).items()) == [
        ("receipt_no", "レセプト番号"),
        ("patient_month", "患者ID・診療年月"),
        ("insurer_number", "診療年月・保険者番号・番号"),
        ("kana_birth_sex", "カナ氏名・生年月日・性別"),
    ]
