"""Returns (返戻): matching to the original claim across months, classification, the
re-claim worksheet and the predicted share — through the real normalise/link/rules path."""

from __future__ import annotations

import pytest
from tables import raw_table

from rules.registry import RULE_IDS
from worker.engine.reconcile import EngineResult, reconcile_tables

SEPT = [  # September claims
    {"patient_id": "P1", "claim_month": "2026-09", "service_date": "2026-09-10", "name": "髙橋 一郎",
     "name_kana": "タカハシ イチロウ", "sex": "1", "birth_date": "1980-05-10", "insurer_no": "01040013",
     "card_symbol": "10", "card_number": "111", "relation": "本人", "billed_ratio": "3", "points": "500",
     "receipt_no": "7"},
    {"patient_id": "P2", "claim_month": "2026-09", "service_date": "2026-09-11", "name": "佐藤 花子",
     "name_kana": "サトウ ハナコ", "sex": "2", "birth_date": "1985-01-02", "insurer_no": "33120015",
     "card_symbol": "20", "card_number": "222", "relation": "家族", "billed_ratio": "3", "points": "400"},
    {"patient_id": "P3", "claim_month": "2026-09", "service_date": "2026-09-12", "name": "鈴木 次郎",
     "name_kana": "スズキ ジロウ", "sex": "1", "birth_date": "1990-03-03", "insurer_no": "01040013",
     "card_symbol": "30", "card_number": "333", "relation": "本人", "billed_ratio": "2", "points": "300"},
    {"patient_id": "P4", "claim_month": "2026-09", "service_date": "2026-09-13", "name": "田中 三郎",
     "name_kana": "タナカ サブロウ", "sex": "1", "birth_date": "1970-07-07", "insurer_no": "01040013",
     "card_symbol": "40", "card_number": "444", "relation": "本人", "billed_ratio": "3", "points": "200"},
]  # fmt: skip
OCT_ONLINE = [  # a later check shows P1's new insurer
    {"patient_id": "P1", "checked_on": "2026-10-05", "validity": "有効", "insurer_no": "33120015",
     "card_symbol": "99", "card_number": "999", "relation": "本人", "online_ratio": "3"},
]  # fmt: skip
RETURNS = [
    {"return_month": "2026-10", "claim_month": "2026-09", "receipt_no": "7", "name": "髙橋 一郎",
     "reason": "資格喪失後の受診", "points": "500"},
    {"return_month": "2026-10", "claim_month": "2026-09", "patient_id": "P2", "name": "佐藤 花子",
     "reason": "本人・家族等誤り"},
    {"return_month": "2026-10", "claim_month": "2026-09", "insurer_no": "1040013", "card_number": "333",
     "name": "鈴木 次郎", "reason": "負担割合誤り"},
    {"return_month": "2026-10", "claim_month": "2026-09", "name": "●中 三郎", "birth_date": "S45.7.7",
     "sex": "男", "reason": "記号・番号の誤り"},
    {"return_month": "2026-10", "claim_month": "2026-09", "name": "存在 しない", "birth_date": "1950-01-01",
     "patient_id": "X9", "reason": "該当者なし"},
]  # fmt: skip


@pytest.fixture(scope="module")
def result() -> EngineResult:
    return reconcile_tables(
        [
            raw_table("receipts", SEPT, sheet="S"),
            raw_table("online", OCT_ONLINE, sheet="S"),
            raw_table("returns", RETURNS, sheet="S"),
        ]
    )


def test_each_match_path(result: EngineResult) -> None:
    assert result.reclaims is not None
    assert result.reclaims["照合方法"].tolist() == [
        "レセプト番号", "患者ID・診療年月", "診療年月・保険者番号・番号", "カナ氏名・生年月日・性別", "—",
    ]  # fmt: skip
    assert result.reclaims["患者ID"].tolist() == ["P1", "P2", "P3", "P4", "X9"]


def test_returned_findings_carry_class_and_subtype(result: EngineResult) -> None:
    f = result.findings[result.findings["category"] == "returned"].set_index("patient_id")
    # the class and subtype as the clerk reads them (issue 10: no English codes in 正しい値)
    assert f.loc["P1", "expected"] == "資格（資格喪失後の受診）"
    assert f.loc["P2", "expected"] == "資格（本人・家族等誤り）"
    assert f.loc["P3", "expected"] == "負担割合"
    assert f.loc["P4", "expected"] == "資格（記号・番号の誤り）"
    assert "レセプト番号で照合" in f.loc["P1", "message"]
    assert f.loc["P1", "source_file"] == "returns.xlsx"


def test_unmatched_return(result: EngineResult) -> None:
    f = result.findings[result.findings["category"] == "return_unmatched"]
    assert f["patient_id"].tolist() == ["X9"]
    assert f["row"].tolist() == [6]


def test_reclaim_fix_uses_the_later_online_result(result: EngineResult) -> None:
    assert result.reclaims is not None
    row = result.reclaims.iloc[0]
    assert row["再請求"] == "可"
    assert "33120015" in row["対応"] and "999" in row["対応"]
    assert result.reclaims.iloc[4]["再請求"] == "確認待ち"


def test_predicted_share(result: EngineResult) -> None:
    # P3 was billed 2割 at 36: the age rule flagged it before submission -> predicted
    assert result.returns is not None
    assert result.returns.total == 5 and result.returns.matched == 4 and result.returns.unmatched == 1
    assert result.reclaims is not None
    assert result.reclaims["事前チェック"].tolist()[:4] == ["なし", "なし", "指摘済み", "なし"]
    assert result.returns.predicted == 1


def test_return_rule_ids_are_declared(result: EngineResult) -> None:
    # the return categories have no fixture file (rules.registry: TESTED_BY): this file covers them
    f = result.findings
    for category in ("returned", "return_unmatched"):
        assert set(f.loc[f["category"] == category, "rule_id"]) <= set(RULE_IDS[category])
    assert set(f["category"]) >= {"returned", "return_unmatched"}
