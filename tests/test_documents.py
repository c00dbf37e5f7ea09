"""保険者照会票.xlsx and 窓口精算リスト.xlsx: one A4 portrait page per insurer with every field
the insurer needs, and the settlement list whose amounts are the findings' money."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from rules import FINDING_COLUMNS
from worker.cli import reconcile
from worker.engine.finding_context import LINKED_COLUMNS
from worker.engine.keys import finding_keys
from worker.reports.inquiry import INQUIRY_NAME, SOURCE_JA, inquiry_items
from worker.reports.settlement import KEYS_NAME, SETTLEMENT_NAME, SETTLEMENT_STATUSES, settlement_rows

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    out = tmp_path_factory.mktemp("docs")
    run = reconcile([SAMPLES / "2026-10"], out)
    return out, run.findings


def _text(ws: Any) -> str:
    return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)


def _date(v: Any) -> str:
    d = pd.Timestamp(v)
    return f"{d.year}年{d.month}月{d.day}日"


def test_inquiry_one_printable_page_per_insurer_with_every_field(sample: tuple[Path, pd.DataFrame]) -> None:
    out, _ = sample
    wb = openpyxl.load_workbook(out / INQUIRY_NAME)
    # the patients asked about, as the engine's context gives them
    lines = pd.DataFrame(json.loads((out / "findings.json").read_text())["findings"])
    assert set(lines["category"]) >= {"ratio_online_vs_card", "eligibility_invalid", "eligibility_not_found"}
    assert len(wb.sheetnames) >= 5
    insurers = set()
    for ws in wb.worksheets:
        text = _text(ws)
        insurer = ws.title.removeprefix("保険者 ")
        insurers.add(insurer)
        assert f"保険者番号 {insurer}　御中" in text
        for label in ("氏名", "カナ氏名", "生年月日", "受診日", "保険者番号", "記号・番号・枝番", "負担割合（オン資）",
                      "負担割合（券面）", "照会事項", "回答欄", "医療機関名", "連絡先", "照会日"):  # fmt: skip
            assert label in text, (ws.title, label)
        assert "ください" in text.split("照会事項")[1] and "正しい負担割合" in text and SOURCE_JA in text
        ps = ws.page_setup
        assert (ps.paperSize, ps.orientation) == (9, "portrait")
        # one page wide and tall (1 is the file format's default: XlsxWriter leaves it out)
        assert (ps.fitToWidth or 1, ps.fitToHeight or 1) == (1, 1) and ws.sheet_properties.pageSetUpPr.fitToPage
        assert "ページ" in ws.oddFooter.center.text
    assert len(insurers) == len(wb.sheetnames)  # one sheet per insurer
    assert "77777777" not in insurers  # 不詳 names no insurer to ask


def test_inquiry_items_of_a_constructed_case() -> None:
    """Two insurers; 資格無効 only where a card was in force; every field filled in."""

    def finding(row: int, category: str, rule_id: str) -> dict[str, Any]:
        return {c: "" for c in FINDING_COLUMNS} | {
            "source_file": "r.xlsx", "sheet": "s", "row": row, "patient_id": f"P{row}", "claim_month": "2026-10",
            "category": category, "rule_id": rule_id, "copay_diff_yen": None,
        }  # fmt: skip

    findings = pd.DataFrame(
        [
            finding(2, "ratio_online_vs_card", "RATIO_ONLINE_CARD"),
            finding(2, "limit_category_mismatch", "LIMIT_ONLINE_CARD"),
            finding(3, "eligibility_invalid", "ELIG_INVALID"),
            finding(4, "eligibility_invalid", "ELIG_INVALID"),  # its card expired: not asked
            finding(5, "name_mismatch", "NAME_RC_ON"),  # the clinic settles that itself
        ]
    )
    base = {c: pd.NA for c in LINKED_COLUMNS}
    ctx = pd.DataFrame(
        [
            base | {"row": 2, "name": "山田 花子", "kana": "ヤマダ ハナコ", "birth_date": pd.Timestamp("1953-05-02"),
                    "insurer_no": "39130018", "cd_insurer_no": "39130018", "cd_doc_type": "資格確認書",
                    "cd_card_symbol": "", "cd_card_number": "12345678", "cd_card_branch": "01",
                    "on_online_ratio": 3.0, "cd_card_ratio": 1.0, "on_limit_category": "現役並みⅠ",
                    "cd_limit_category": "一般Ⅰ", "cd_card_valid_until": pd.Timestamp("2027-07-31")},
            base | {"row": 3, "name": "佐藤 一郎", "kana": "サトウ イチロウ", "birth_date": pd.Timestamp("1980-01-10"),
                    "insurer_no": "06130025", "cd_insurer_no": "06130025", "cd_doc_type": "資格確認書",
                    "cd_card_symbol": "12", "cd_card_number": "345", "cd_card_branch": "00",
                    "cd_card_valid_until": pd.Timestamp("2030-03-31")},
            base | {"row": 4, "name": "鈴木 次郎", "kana": "スズキ ジロウ", "insurer_no": "01130012",
                    "cd_insurer_no": "01130012", "cd_doc_type": "資格確認書",
                    "cd_card_valid_until": pd.Timestamp("2026-03-31")},
        ]
    ).assign(source_file="r.xlsx", sheet="s", service_date=pd.Timestamp("2026-10-05"))  # fmt: skip
    items = inquiry_items(findings, ctx)
    assert list(items["insurer"]) == ["06130025", "39130018"]
    first = items.set_index("insurer").loc["39130018"]
    assert "3割" in first["questions"] and "1割" in first["questions"] and "限度額適用区分" in first["questions"]
    assert first["questions"].count("\n") == 1  # both questions of the claim in one block
    assert "資格無効" in items.set_index("insurer").loc["06130025", "questions"]


def test_settlement_amounts_are_the_findings_money(sample: tuple[Path, pd.DataFrame]) -> None:
    out, findings = sample
    ws = openpyxl.load_workbook(out / SETTLEMENT_NAME)["窓口精算"]
    head = [c.value for c in ws[1]]
    col = {h: i for i, h in enumerate(head)}
    keys = finding_keys("", "2026-10", findings)
    money = dict(zip(keys, findings["copay_diff_yen"], strict=True))
    rule = dict(zip(keys, findings["rule_id"], strict=True))
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2) if r[col["キー"]].value]
    assert rows
    seen = {"返金": 0, "徴収": 0, "回答待ち": 0}
    for r in rows:
        key, amount, kind = r[col["キー"]], r[col["差額（円）"]], r[col["精算"]]
        seen[kind] += 1
        assert r[col["状態"]] == "未精算" and r[col["氏名"]] and r[col["診療日"]]
        if kind == "回答待ち":
            assert amount is None and rule[key] == "RATIO_ONLINE_CARD"
            continue
        assert amount == money[key] and amount != 0  # the finding's money, exactly
        assert (kind == "返金") == (amount > 0)  # positive: the patient paid too much
    assert all(seen.values())  # refunds, collections and claims waiting for the insurer
    # every claim with money is on the list once
    with_money = findings[findings["rule_id"].isin(["FULL_CHARGE", "RATIO_BILLED"]) & findings["copay_diff_yen"].ne(0)]
    assert seen["返金"] + seen["徴収"] == len(with_money.drop_duplicates(["source_file", "sheet", "row"]))
    assert ws.column_dimensions["K"].hidden
    dv = ws.data_validations.dataValidation
    assert any(d.type == "list" and d.formula1 == '"' + ",".join(SETTLEMENT_STATUSES) + '"' for d in dv)
    ps = ws.page_setup
    assert ps.paperSize == 9 and ws.print_title_rows and (ps.fitToWidth or 1) == 1 and ps.fitToHeight == 0
    with zipfile.ZipFile(out / SETTLEMENT_NAME) as z:
        assert KEYS_NAME in z.read("xl/workbook.xml").decode()


def test_settlement_rows_sign_and_priority() -> None:
    def finding(row: int, rule_id: str, money: float | None, category: str) -> dict[str, Any]:
        return {c: "" for c in FINDING_COLUMNS} | {
            "source_file": "r.xlsx", "sheet": "s", "row": row, "patient_id": "P1", "claim_month": "2026-10",
            "category": category, "rule_id": rule_id, "copay_diff_yen": money, "expected": "3割",
        }  # fmt: skip

    findings = pd.DataFrame(
        [
            finding(2, "RATIO_BILLED", -560.0, "ratio_billed_vs_verified"),
            finding(3, "RATIO_BILLED", 610.0, "ratio_billed_vs_verified"),
            finding(3, "FULL_CHARGE", 2940.0, "full_charge_collected"),  # what was collected wins
            finding(4, "RATIO_BILLED", 0.0, "ratio_billed_vs_verified"),  # nothing to settle
        ]
    )
    rows = settlement_rows(findings, None)
    assert list(rows["差額（円）"]) == [-560.0, 2940.0]
    assert list(rows["精算"]) == ["徴収", "返金"]
    assert settlement_rows(findings.iloc[3:], None).empty


def test_nothing_to_list_writes_no_document_and_removes_an_old_one(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / INQUIRY_NAME).write_text("old")
    (out / SETTLEMENT_NAME).write_text("old")
    empty = tmp_path / "in"
    empty.mkdir()
    reconcile([empty], out)
    assert not (out / INQUIRY_NAME).exists() and not (out / SETTLEMENT_NAME).exists()
