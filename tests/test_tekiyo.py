"""Reading a 不詳 claim's free-text 摘要 (rules.domain.tekiyo): the tricky inputs."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from era_cases import EraCase, load

from rules.domain.tekiyo import ITEM_LABELS_JA, ITEMS, Tekiyo, employer_required, missing_items, parse_tekiyo

OCT = date(2026, 10, 1)
COMPLETE = (
    "不詳 ヤマダ タロウ 保険種別：社保 保険者：全国健康保険協会東京支部 事業所：株式会社ヤマダ商事 "
    "住所：東京都新宿区西新宿1-2-3 連絡先：090-1234-5678 患者連絡日：R8.10.20 本人"
)


def has(text: str, item: str, month: date | None = OCT) -> bool:
    return item in parse_tekiyo(text, claim_month=month).present


def test_items_and_labels() -> None:
    assert set(ITEM_LABELS_JA) == set(ITEMS)
    assert ITEMS[0] == "head"
    t = parse_tekiyo(COMPLETE, claim_month=OCT)
    assert t.present == frozenset(ITEMS)
    assert (t.insurance_type, t.contact_date, t.relation) == ("協会けんぽ", date(2026, 10, 20), "1")
    assert missing_items(t) == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.relation = "2"  # type: ignore[misc]


def test_empty_text() -> None:
    t = parse_tekiyo("")
    assert t == Tekiyo(frozenset(), None, None, None)
    # no 保険種別: 事業所名 is not asked for (the missing type is reported instead)
    assert "employer" not in missing_items(t)
    assert missing_items(t, relation_known=True)[-1] == "contact_date"


# ---------------------------------------------------------------- head


@pytest.mark.parametrize(
    ("text", "found"),
    [("不詳 ヤマダ", True), ("  不詳", True), ("\n不詳レセプト", True), ("ヤマダ 不詳", False), ("不明", False)],
)
def test_head(text: str, found: bool) -> None:
    assert has(text, "head") is found


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "text",
    [
        "03(1234)5678",
        "(03)1234-5678",
        "03-1234-5678",
        "090 1234 5678",
        "09012345678",
        "０９０－１２３４－５６７８",
        "090ー1234ー5678",  # long-vowel mark as a dash
        "090‐1234−5678",
        "TEL03-1234-5678",
        "Tel.03-1234-5678",
        "℡ 0466-12-3456",
        "☎0120-123-456",
        "連絡先：携帯 080 1111 2222",
        "+81 90-1234-5678",
        "〒160-0023 03-1234-5678",
        "01040013 03-1234-5678",
    ],
)
def test_phone_forms(text: str) -> None:
    assert has("不詳 " + text, "phone")


@pytest.mark.parametrize(
    "text",
    [
        "2026/10/20",
        "2026-10-20",
        "20261020",
        "R8.10.20",
        "〒123-4567",
        "〒010-0001",  # a postal code starting with 0
        "01040013",  # an insurer number
        "138016",  # a 国保 insurer number
        "777777777",
        "090-1234-567",  # a mobile number one digit short
        "03-1234-567",
        "03-1234-56789",
        "連絡先：なし",
        "連絡先 未確認",
        "東京都新宿区西新宿1-2-3",
    ],
)
def test_not_a_phone(text: str) -> None:
    assert not has("不詳 " + text, "phone")


# ---------------------------------------------------------------- contact date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("連絡日 R8.10.20", date(2026, 10, 20)),
        ("患者連絡日：令和８年１０月２０日", date(2026, 10, 20)),
        ("患者への連絡を行った日 2026/10/20", date(2026, 10, 20)),
        ("連絡した日 2026-10-20", date(2026, 10, 20)),
        ("連絡日:20261020", date(2026, 10, 20)),
        ("R8.10.20 連絡", date(2026, 10, 20)),
        ("令和8年10月20日に連絡", date(2026, 10, 20)),
        ("10/20連絡", date(2026, 10, 20)),
        ("10月20日 電話連絡済", date(2026, 10, 20)),
        ("連絡済(11/2)", date(2026, 11, 2)),
        ("患者へ連絡 R8.11.2", date(2026, 11, 2)),
        ("H30.4.1", date(2018, 4, 1)),  # unlabelled: taken as the contact date
        ("2026/10/20", date(2026, 10, 20)),
        ("受診日 R8.10.15 連絡日 R8.10.20", date(2026, 10, 20)),
        ("R8.10.20連絡 R8.10.15受診", date(2026, 10, 20)),
        ("R8.10.15受診 R8.10.20", date(2026, 10, 20)),
        ("生年月日 S55.5.10 連絡日 R8.10.20", date(2026, 10, 20)),
        ("S55.5.10生 10/20", date(2026, 10, 20)),
        ("TEL 090-1234-5678 10/20", date(2026, 10, 20)),
        ("〒160-0023 2026/10/20", date(2026, 10, 20)),
        ("令和元年5月1日連絡", date(2019, 5, 1)),
    ],
)
def test_contact_date(text: str, expected: date) -> None:
    t = parse_tekiyo("不詳 " + text, claim_month=OCT)
    assert "contact_date" in t.present
    assert t.contact_date == expected


@pytest.mark.parametrize(
    "text",
    [
        "連絡済",
        "連絡日：未",
        "生年月日 S55.5.10",
        "生年月日 1980/5/10",
        "S55.5.10",  # before 2000: a birth date, not a contact
        "受診日 R8.10.15",
        "資格取得日 R8.9.1",
        "090-1234-5678",
        "01040013",
        "〒123-4567",
        "13/40",
        "東京都新宿区西新宿1-2-3",
        "1.2.3",
    ],
)
def test_no_contact_date(text: str) -> None:
    t = parse_tekiyo("不詳 " + text, claim_month=OCT)
    assert "contact_date" not in t.present
    assert t.contact_date is None


@pytest.mark.parametrize(
    ("month", "text", "expected"),
    [
        (date(2026, 10, 1), "10/20連絡", date(2026, 10, 20)),
        (date(2026, 10, 1), "4/20連絡", date(2027, 4, 20)),  # up to 6 months after
        (date(2026, 10, 1), "5/20連絡", date(2026, 5, 20)),  # 5 months before
        (date(2026, 12, 1), "1/5連絡", date(2027, 1, 5)),
        (date(2027, 1, 1), "12/28連絡", date(2026, 12, 28)),
        (date(2028, 2, 1), "2/29連絡", date(2028, 2, 29)),
    ],
)
def test_month_day_year(month: date, text: str, expected: date) -> None:
    assert parse_tekiyo("不詳 " + text, claim_month=month).contact_date == expected


def test_month_day_without_claim_month() -> None:
    t = parse_tekiyo("不詳 10/20連絡")
    assert "contact_date" in t.present
    assert t.contact_date is None


@pytest.mark.parametrize("case", [c for c in load("date") if not c.text[0].isdigit()], ids=lambda c: c.text)
def test_contact_date_inside_its_era(case: EraCase) -> None:
    """A 和暦 contact date outside its era (R1.4.1, H38.10.20) is no date, like 2/30:
    the 摘要 then lacks the 患者連絡日 (the 和暦 cases of tests/fixtures/values/era_dates.toml;
    GYYMMDD is not read in free text)."""
    t = parse_tekiyo(f"不詳 連絡日 {case.text}", claim_month=OCT)
    if case.value is not None:
        assert t.contact_date == case.value
    else:
        assert "contact_date" not in t.present
        assert t.contact_date is None


def test_impossible_month_day_in_year() -> None:
    t = parse_tekiyo("不詳 2/29連絡", claim_month=date(2027, 2, 1))
    assert "contact_date" in t.present  # written; the year hint makes it impossible
    assert t.contact_date is None


# ---------------------------------------------------------------- 保険種別


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("協会けんぽ", "協会けんぽ"),
        ("全国健康保険協会東京支部", "協会けんぽ"),
        ("保険種別：社保 保険者：協会けんぽ東京支部", "協会けんぽ"),
        ("健保組合", "組合"),
        ("組合健保", "組合"),
        ("トヨタ自動車健康保険組合", "組合"),
        ("トヨタ健保", "組合"),
        ("種別：社保 保険者：トヨタ自動車健康保険組合", "組合"),
        ("共済", "共済"),
        ("種別:社保 公立学校共済組合", "共済"),
        ("社保", "社保"),
        ("社会保険", "社保"),
        ("被用者保険", "社保"),
        ("種別：健保", "社保"),
        ("船員保険", "船員"),
        ("国保", "国保"),
        ("国民健康保険", "国保"),
        ("市町村国保", "国保"),
        ("新宿区国保", "国保"),
        ("国保組合", "国保組合"),
        ("国民健康保険組合", "国保組合"),
        ("東京都建設国保", "国保組合"),
        ("種別：国保 保険者：東京都建設国民健康保険組合", "国保組合"),
        ("後期", "後期"),
        ("後期高齢者", "後期"),
        ("東京都後期高齢者医療広域連合", "後期"),
        ("保険種別：その他", "その他"),
        ("その他", "その他"),
        ("保険種別：わからない", "わからない"),
        ("種別 分からない", "わからない"),
        ("保険種別 不明", "わからない"),
        ("ｼｬﾎ 社保", "社保"),
    ],
)
def test_insurance_type(text: str, canonical: str) -> None:
    t = parse_tekiyo("不詳 " + text)
    assert t.insurance_type == canonical
    assert "insurance_type" in t.present


@pytest.mark.parametrize(
    "text",
    [
        "保険者：不明",  # the insurer is unknown, the type is not said
        "保険者：わからない 事業所：その他",
        "種別：本人",  # 種別 of 本人・家族
        "ヤマダ タロウ",
    ],
)
def test_no_insurance_type(text: str) -> None:
    t = parse_tekiyo("不詳 " + text)
    assert t.insurance_type is None
    assert "insurance_type" not in t.present


def test_labelled_type_without_a_known_word_is_present() -> None:
    t = parse_tekiyo("不詳 保険種別：自衛官")
    assert "insurance_type" in t.present
    assert t.insurance_type is None


@pytest.mark.parametrize(
    ("insurance_type", "required"),
    [
        ("協会けんぽ", True),
        ("組合", True),
        ("共済", True),
        ("社保", True),
        ("船員", True),
        ("国保組合", True),
        ("その他", True),
        ("わからない", True),
        ("国保", False),
        ("後期", False),
        (None, False),
    ],
)
def test_employer_required(insurance_type: str | None, required: bool) -> None:
    assert employer_required(insurance_type) is required


# ---------------------------------------------------------------- 保険者等名称


@pytest.mark.parametrize(
    "text",
    [
        "全国健康保険協会",
        "全国健康保険協会東京支部",
        "協会けんぽ東京支部",
        "協会けんぽ 大阪",
        "トヨタ自動車健康保険組合",
        "関東ITソフトウェア健保組合",
        "公立学校共済組合",
        "私学共済",
        "東京都建設国民健康保険組合",
        "新宿区国保",
        "横浜市国民健康保険",
        "横浜市役所",
        "東京都後期高齢者医療広域連合",
        "保険者：不明",
        "保険者名:わからない",
        "保険者等名称 ABC",
        "国保 新宿区",  # a bare municipality is the 国保 insurer
        "後期 横浜市",
    ],
)
def test_insurer_name(text: str) -> None:
    assert has("不詳 " + text, "insurer_name")


@pytest.mark.parametrize(
    "text",
    [
        "協会けんぽ",  # a type word, no branch
        "国保",
        "市町村国保",
        "組合健保",
        "健康保険組合",
        "共済",
        "社保",
        "保険者：",
        "保険者番号 01040013",
        "新宿区",  # a bare municipality only counts for 国保/後期
    ],
)
def test_not_an_insurer_name(text: str) -> None:
    assert not has("不詳 " + text, "insurer_name")


# ---------------------------------------------------------------- 事業所名


@pytest.mark.parametrize(
    "text",
    [
        "株式会社ヤマダ商事",
        "ヤマダ商事株式会社",
        "㈱山田",
        "(株)トヨタ",
        "㈲山田",
        "有限会社ヤマダ",
        "合同会社ABC",
        "山田商店",
        "山田工業",
        "山田建設",
        "山田法律事務所",
        "新宿中央病院",
        "医療法人山田会",
        "事業所：ABC",
        "勤務先 陸上自衛隊",
        "会社名：トヨタ",
        "事業所：自営",
        "事業所：無職",
        "事業所：不明",
        "自営業",
    ],
)
def test_employer(text: str) -> None:
    assert has("不詳 " + text, "employer")


@pytest.mark.parametrize(
    "text",
    [
        "東京都建設国民健康保険組合",  # 建設 inside an insurer name
        "東京都建設国保",
        "日立製作所健康保険組合",
        "会社員",
        "事業所：",
        "事業所：なし",
        "ヤマダ タロウ",
    ],
)
def test_not_an_employer(text: str) -> None:
    assert not has("不詳 " + text, "employer")


# ---------------------------------------------------------------- 住所


@pytest.mark.parametrize(
    "text",
    [
        "〒160-0023",
        "〒１６０－００２３",
        "東京都新宿区",
        "神奈川県横浜市中区",
        "新宿区西新宿1-2-3",
        "大阪市北区梅田1丁目2番3号",
        "西新宿2丁目",
        "住所：新宿区",
        "住所 沖縄",
    ],
)
def test_address(text: str) -> None:
    assert has("不詳 " + text, "address")


@pytest.mark.parametrize(
    "text",
    ["東京都後期高齢者医療広域連合", "新宿区国保", "横浜市役所", "住所：", "住所：不明", "1-2-3", "090-1234-5678"],
)
def test_not_an_address(text: str) -> None:
    assert not has("不詳 " + text, "address")


# ---------------------------------------------------------------- カナ氏名


@pytest.mark.parametrize(
    "text",
    [
        "ヤマダ タロウ",
        "ﾔﾏﾀﾞ ﾀﾛｳ",
        "ヤマダ・タロウ",
        "ヤマダタロウ(本人)",
        "カナ：ヤマダ タロウ",
        "ｶﾅ:ﾔﾏﾀﾞ",
        "フリガナ やまだ たろう",
        "氏名(カナ) ヤマダ",
        "氏名：ヤマダ タロウ",
        "カナザワ ハナコ",
    ],
)
def test_kana_name(text: str) -> None:
    assert has("不詳 " + text, "kana_name")


def test_kana_glued_to_head() -> None:
    assert has("不詳ﾔﾏﾀﾞﾀﾛｳ", "kana_name")


@pytest.mark.parametrize(
    "text",
    [
        "株式会社ヤマダ商事",
        "ヤマダ商店",
        "(株)トヨタ",
        "事業所：トヨタ",
        "会社名 ソニー",
        "トヨタ健保",
        "サンシャインハイツ 101",
        "東京都新宿区西新宿1-2-3 メゾン青葉",
        "ナシ",
        "カナ：",
        "カナ：なし",
        "マイナ保険証",
        "ABCシステムズ",
        "ア",
    ],
)
def test_not_a_kana_name(text: str) -> None:
    assert not has("不詳 " + text, "kana_name")


# ---------------------------------------------------------------- 本人・家族


@pytest.mark.parametrize(
    ("text", "relation"),
    [
        ("本人", "1"),
        ("家族", "2"),
        ("被保険者", "1"),
        ("被扶養者", "2"),
        ("(本人)", "1"),
        ("被保険者本人", "1"),
        ("家族(妻)", "2"),
        ("種別：本人", "1"),
        ("種別：家族", "2"),
        ("本人・家族：家族", "2"),
        ("続柄 2", "2"),
        ("本人家族:1", "1"),
    ],
)
def test_relation(text: str, relation: str) -> None:
    t = parse_tekiyo("不詳 " + text)
    assert t.relation == relation
    assert "relation" in t.present


@pytest.mark.parametrize(
    "text", ["本人に連絡", "患者本人", "本人確認済", "被保険者資格申立書あり", "本人・家族：", "家族経営", "ヤマダ"]
)
def test_no_relation(text: str) -> None:
    t = parse_tekiyo("不詳 " + text)
    assert t.relation is None
    assert "relation" not in t.present


# ---------------------------------------------------------------- whole 摘要


def test_unlabelled_full_width() -> None:
    t = parse_tekiyo(
        "不詳　ヤマダ　タロウ　協会けんぽ　全国健康保険協会東京支部　株式会社ヤマダ商事　"
        "〒１６０－００２３　東京都新宿区西新宿１－２－３　０９０－１２３４－５６７８　１０／２０連絡　本人",
        claim_month=OCT,
    )
    assert t.present == frozenset(ITEMS)
    assert t.contact_date == date(2026, 10, 20)


def test_lines_in_any_order() -> None:
    t = parse_tekiyo(
        "不詳\n連絡日 2026/10/20\nTEL 03(1234)5678\n住所 新宿区西新宿1-2-3\nカナ ヤマダ タロウ\n"
        "保険者 新宿区\n種別 国保\n本人",
        claim_month=OCT,
    )
    assert t.present == frozenset(ITEMS) - {"employer"}
    assert t.insurance_type == "国保"
    assert missing_items(t) == ()


def test_missing_items_in_order() -> None:
    t = parse_tekiyo("不詳 ヤマダ タロウ 保険種別：共済 住所：新宿区西新宿1-2-3 R8.10.20連絡", claim_month=OCT)
    assert missing_items(t) == ("insurer_name", "employer", "phone", "relation")
    assert missing_items(t, relation_known=True) == ("insurer_name", "employer", "phone")


@pytest.mark.parametrize(
    "text", ["03-0000-1234", "０３－００００－１２３５", "0300001234", "0901-234-5678", "0800-123-4567"]
)
def test_phone_length_by_first_group(text: str) -> None:
    assert has("不詳 " + text, "phone")
