"""The clinic systems' own files (issue 15) as pure functions from fixture files:
UKE/HEN/SAH records and the eligibility result XML → raw tables and line problems."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from worker.reading.native import NativeFormatError, NativeTable, read_native, recognise

FIX = Path(__file__).parent / "fixtures"


def table(path: Path) -> NativeTable:
    [t] = read_native(path.read_bytes(), path.name)
    return t


def col(t: NativeTable, name: str) -> list[str | None]:
    c = t.columns[name]
    return c.to_pylist() if isinstance(c, pa.Array) else list(c)


def test_recognised_by_content_not_name() -> None:
    assert recognise((FIX / "uke" / "claims_current.UKE").read_bytes()[:64]) == "uke"
    assert recognise((FIX / "onshi" / "OQSsiquc01res_single.xml").read_bytes()[:64]) == "xml"
    assert recognise((FIX / "onshi" / "OQSmuquc02res_zipped.zip").read_bytes()[:64]) == "zip"
    assert recognise(b"\xef\xbb\xbf\xe6\x82\xa3\xe8\x80\x85ID,") is None  # a CSV


def test_uke_current_edition_every_record() -> None:
    t = table(FIX / "uke" / "claims_current.UKE")
    assert t.kind == "receipts"
    assert col(t, "patient_id") == ["000101", "000102", "000103", "000104", "000105"]  # zeros kept
    assert col(t, "name")[0] == "髙橋 一郎"  # 外字 through CP932
    assert col(t, "name_kana")[0] == "ﾀｶﾊｼ ｲﾁﾛｳ"
    assert col(t, "claim_month")[0] == "202610"
    assert col(t, "birth_date")[0] == "19800102"
    # HO: 6-digit 国保 number keeps its padding spaces; the normaliser restores it
    assert col(t, "insurer_no")[:2] == ["06130029", "  138016"]
    assert col(t, "card_symbol")[0] == "記号１" and col(t, "card_number")[0] == "123"
    assert col(t, "days")[:2] == ["2", "1"] and col(t, "points")[:2] == ["512", "300"]
    assert col(t, "copay_collected")[:2] == ["1540", "900"]
    # SN: 枝番 and 確認区分
    assert col(t, "card_branch")[:2] == ["00", "01"]
    assert col(t, "confirmation_method")[:2] == ["マイナ保険証", "資格確認書"]
    # ratio: 給付割合 where filled (国保 "70"), else レセプト種別 + 特記事項
    assert col(t, "benefit_ratio")[1] == "70" and col(t, "billed_ratio")[1] is None
    assert col(t, "billed_ratio")[0] == "3割"  # 1112 本人
    assert col(t, "billed_ratio")[2] == "2割"  # 1318 後期 with 特記事項 41 区カ
    assert col(t, "billed_ratio")[3] == "1割"  # 1318 後期, no 41
    assert col(t, "billed_ratio")[4] == "2割"  # 1214 未就学
    assert col(t, "relation")[:2] == ["本人", "家族"]
    # KO: a 公費 claim without HO takes days and points from KO
    assert col(t, "extra:公費負担者番号")[4] == "12136010"
    assert col(t, "days")[4] == "1" and col(t, "points")[4] == "200"
    # SI: first day with a 算定日, 診療識別 11/12; CO: the 摘要
    assert col(t, "service_date")[:2] == ["2026-10-05", "2026-10-01"]
    assert col(t, "visit_type")[:2] == ["再診", "初診"]
    assert col(t, "tekiyo")[0] == "患者への連絡を行った日：令和8年10月20日\n事業所名：見本商事"
    assert col(t, "receipt_no")[0] == "00000000000000001"
    assert col(t, "extra:記録条件仕様")[0] == "202406"
    assert t.rows == [2, 9, 14, 16, 18]  # the RE lines


def test_uke_unknown_record_is_a_line_problem() -> None:
    t = table(FIX / "uke" / "claims_current.UKE")
    [p] = t.problems
    assert p.line == 13 and p.value == "ZZ" and "レコード識別「ZZ」" in p.message


def test_uke_previous_edition_wareki() -> None:
    t = table(FIX / "uke" / "claims_previous.UKE")
    assert col(t, "claim_month") == ["R08.10", "R08.10"]
    assert col(t, "birth_date") == ["S55.01.02", "H05.07.02"]
    assert col(t, "name_kana") == [None, None]
    assert not t.problems


def test_uke_truncated_names_the_lines() -> None:
    t = table(FIX / "uke" / "truncated.UKE")
    short, end = t.problems
    assert short.line == 5 and "5行目の HO レコードの項目が足りません（3項目" in short.message
    assert end.line == 5 and "終わりのレコード（GO）がありません" in end.message
    assert col(t, "patient_id") == ["000101", "000102"]  # what could be read is kept
    assert col(t, "card_number") == ["123", None]


def test_uke_wrong_encoding_is_a_clear_message() -> None:
    with pytest.raises(NativeFormatError, match=r"utf8\.UKE の 1行目: 文字コードが違います（UTF-8"):
        read_native((FIX / "uke" / "utf8.UKE").read_bytes(), "utf8.UKE")


def test_hen_and_sah_are_returns() -> None:
    t = table(FIX / "uke" / "returns.HEN")
    assert t.kind == "returns"
    assert col(t, "return_month") == ["202610", "202610"]
    assert col(t, "reason_code") == ["A1", "B2"]
    assert col(t, "reason") == ["記号・番号の誤り", "資格喪失後の受診"]
    assert col(t, "note") == ["新しい保険証を確認してください", None]
    assert col(t, "receipt_no") == ["00000000000000007", None]
    assert col(t, "claim_month") == ["202609", "202609"]
    assert col(t, "extra:返戻区分") == ["1", "1"]
    assert table(FIX / "uke" / "reexamined.SAH").kind == "returns"


def test_single_result_utf8_ratio_010_is_text() -> None:
    t = table(FIX / "onshi" / "OQSsiquc01res_single.xml")
    assert t.kind == "online"
    assert col(t, "online_ratio") == ["010"]  # 1割, never the number 10
    assert col(t, "patient_id") == ["100001"]
    assert col(t, "checked_on") == ["20261003"]
    assert col(t, "validity") == ["1"]
    assert col(t, "insurer_no") == ["39131010"]
    assert col(t, "limit_category") == ["B10"]
    assert col(t, "name") == ["髙橋 一郎"]
    assert col(t, "card_valid_until") == ["20270731"]


def test_bulk_result_shift_jis() -> None:
    t = table(FIX / "onshi" / "OQSmuquc02res_bulk.xml")
    assert col(t, "patient_id") == ["100002", "100004"]
    assert col(t, "validity") == ["3", "4"]
    assert col(t, "online_ratio") == ["020", None]  # 70–74: ElderlyRecipientContributionRatio
    assert col(t, "name") == ["髙木 二郎", None]
    [p] = t.problems  # the check that ended in an error
    assert p.value == "EQ0001" and "エラー" in p.message and p.line > 0


def test_zipped_result_request_ignored() -> None:
    [t] = read_native((FIX / "onshi" / "OQSmuquc02res_zipped.zip").read_bytes(), "x.zip")
    assert t.sheet == "OQSmuquc02res_bulk.xml"
    assert col(t, "patient_id") == ["100002", "100004"]


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("truncated.xml", r"truncated\.xml の \d+行目: XMLとして読めません"),
        ("wrong_encoding.xml", r"wrong_encoding\.xml の 6行目: 文字コードが宣言（shift-jis）と違います"),
        ("doctype.xml", r"文書型宣言（DOCTYPE）"),
    ],
)
def test_bad_xml_is_a_clear_message(fixture: str, message: str) -> None:
    with pytest.raises(NativeFormatError, match=message):
        read_native((FIX / "onshi" / fixture).read_bytes(), fixture)
