"""「指摘一覧」 as the clerk works through it: who (ID, 氏名, カナ) and when (診療日), the
clerk's 状態 (a drop-down) and メモ, the findings' keys in a hidden column, a patient's
lines together under the most severe first, one line where two rules describe the same
error, and the money with its direction spelled out."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from rules import CATEGORY_LABELS_JA, FINDING_COLUMNS, RULE_IDS
from worker.cli import reconcile
from worker.config import Settings
from worker.engine import RunResult, read_inputs
from worker.engine.finding_context import finding_context
from worker.engine.keys import CLERK_STATUSES, DEFAULT_CLERK_STATUS, finding_key, finding_keys
from worker.engine.results import RunSummary
from worker.jobs.findings_store import _finding_columns
from worker.jobs.models import DEFAULT_FINDING_STATUS, ClerkStatus
from worker.reports import workbook, write_reports
from worker.reports.clerk_list import MERGES, clerk_list
from worker.reports.formats import LAYOUT, YEN_FORMAT

COL = {c.header: i + 1 for i, c in enumerate(LAYOUT)}
SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"


def _f(row: int, rule_id: str, category: str, severity: str = "error", **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "source_file": "レセプト.xlsx",
        "sheet": "国保",
        "row": row,
        "patient_id": "P1",
        "claim_month": "2026-10",
        "category": category,
        "rule_id": rule_id,
        "severity": severity,
        "expected": "",
        "actual": "",
        "message": f"{rule_id} の内容",
        "action": f"{rule_id} の対応",
        "copay_diff_yen": pd.NA,
    }
    base.update(kw)
    return base


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    df["row"] = df["row"].astype("int64")
    df["copay_diff_yen"] = df["copay_diff_yen"].astype("Int64")
    return df


def _summary() -> RunSummary:
    return RunSummary("2026-10", [], 1, datetime(2026, 11, 5, 9), datetime(2026, 11, 5, 9, 1))


def _sheet_lines(xlsx: Path, sheet: str = "指摘一覧") -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(xlsx)[sheet]
    return [{h: ws.cell(r, c).value for h, c in COL.items()} for r in range(2, ws.max_row + 1)]


# ------------------------------------------------------------------ the clerk's columns


def test_statuses_are_the_databases() -> None:
    assert tuple(s.value for s in ClerkStatus) == CLERK_STATUSES
    assert DEFAULT_CLERK_STATUS == DEFAULT_FINDING_STATUS


def test_status_drop_down_memo_and_done_lines_grey(tmp_path: Path) -> None:
    findings = _frame([_f(2, "R1", "card_expired"), _f(3, "R2", "card_expired", "warning")])
    xlsx, _ = write_reports(findings, _summary(), tmp_path)
    ws = openpyxl.load_workbook(xlsx)["指摘一覧"]
    status = openpyxl.utils.get_column_letter(COL["状態"])
    (dv,) = ws.data_validations.dataValidation
    assert dv.type == "list" and dv.formula1 == '"未対応,対応中,対応済,対象外"'
    assert str(dv.sqref) == f"{status}2:{status}3" and dv.showErrorMessage
    assert [ws.cell(r, COL["状態"]).value for r in (2, 3)] == ["未対応", "未対応"]
    assert [ws.cell(r, COL["メモ"]).value for r in (2, 3)] == [None, None]
    (cf,) = list(ws.conditional_formatting)
    assert str(cf.sqref) == "A2:L3"
    assert cf.rules[0].formula == [f'OR(${status}2="対応済",${status}2="対象外")']


def test_no_drop_down_without_findings(tmp_path: Path) -> None:
    xlsx, _ = write_reports(_frame([]), _summary(), tmp_path)
    ws = openpyxl.load_workbook(xlsx)["指摘一覧"]
    assert not ws.data_validations.dataValidation and ws.max_row == 1


def test_hidden_key_column_is_the_stores_key(tmp_path: Path) -> None:
    findings = _frame(
        [
            _f(2, "RATIO_ONLINE_CARD", "ratio_online_vs_card", "warning"),
            _f(3, "input_invalid.points", "input_invalid", claim_month=""),  # keyed with the job's month
            _f(4, "CARD_EXPIRED", "card_expired", "warning"),
            _f(4, "CARD_EXPIRED", "card_expired", "warning", message="もう一度"),  # a repeat: a key of its own
        ]
    )
    xlsx, _ = write_reports(findings, _summary(), tmp_path, clinic="C1", claim_month="2026-10")
    lines = _sheet_lines(xlsx)
    by_row: dict[int, list[str]] = {}
    for line in lines:
        by_row.setdefault(line["行"], []).append(line["キー"])
    assert by_row[2] == [finding_key("C1", "2026-10", "レセプト.xlsx", "国保", 2, "RATIO_ONLINE_CARD")]
    assert by_row[3] == [finding_key("C1", "2026-10", "レセプト.xlsx", "国保", 3, "input_invalid.points")]
    stored = _finding_columns("C1", "2026-10", 1, findings)["key"]
    assert sorted(line["キー"] for line in lines) == sorted(stored) and len(set(stored)) == 4

    wb = openpyxl.load_workbook(xlsx)
    ws = wb["指摘一覧"]
    key_col = openpyxl.utils.get_column_letter(COL["キー"])
    assert ws.cell(1, COL["キー"]).value == "キー" and ws.column_dimensions[key_col].hidden
    assert ws.defined_names["henrei_keys"].attr_text == f"'指摘一覧'!${key_col}$2:${key_col}$5"
    assert all(re.fullmatch(r"[0-9a-f]{40}", line["キー"]) for line in lines)


def test_a_cli_run_keys_by_its_month(tmp_path: Path) -> None:
    findings = _frame([_f(2, "R", "card_expired", claim_month="")])
    xlsx, _ = write_reports(findings, _summary(), tmp_path)  # the CLI: no clinic, the run's one month
    assert _sheet_lines(xlsx)[0]["キー"] == finding_key("", "2026-10", "レセプト.xlsx", "国保", 2, "R")


# ------------------------------------------------------------------ order


def test_a_patients_lines_together_most_severe_first(tmp_path: Path) -> None:
    findings = _frame(
        [
            _f(2, "NAME", "name_mismatch", "warning", patient_id="P10"),
            _f(3, "MASK", "masked_characters", "info", patient_id="P9"),
            _f(4, "MASK", "masked_characters", "info", patient_id="P2"),
            _f(5, "RATIO_BILLED", "ratio_billed_vs_verified", patient_id="P2"),
            _f(6, "CARD_EXPIRED", "card_expired", "warning", patient_id="P2"),
            _f(7, "input_invalid.points", "input_invalid", patient_id=""),
            _f(8, "IDENTITY", "identity_mismatch", patient_id="P9"),
            _f(9, "CARD_EXPIRED", "card_expired", "warning", patient_id="P9", claim_month="2026-09"),
        ]
    )
    got = [(r["patient_id"], r["severity"], r["row"]) for r in clerk_list(findings, None).to_dict("records")]
    assert got == [
        ("P2", "error", 5),  # patients with an error first, by ID as people read it (P2 < P9 < P10)
        ("P2", "warning", 6),
        ("P2", "info", 4),
        ("P9", "error", 8),
        ("P9", "warning", 9),
        ("P9", "info", 3),
        ("", "error", 7),  # no patient: after the patients of its severity
        ("P10", "warning", 2),
    ]
    xlsx, js = write_reports(findings, _summary(), tmp_path)
    assert [line["行"] for line in _sheet_lines(xlsx)] == [5, 6, 4, 8, 9, 3, 7, 2]
    assert [f["row"] for f in json.loads(js.read_text("utf-8"))["findings"]] == list(range(2, 10))  # as given


# ------------------------------------------------------------------ one line per problem


def _merge_cases() -> pd.DataFrame:
    return _frame(
        [
            # same wrong billed ratio (same correct ratio): one line, the money once
            _f(10, "RATIO_BILLED", "ratio_billed_vs_verified", expected="2割", copay_diff_yen=610),
            _f(10, "RATIO_AGE_BILLED", "ratio_implausible_for_age", expected="2割"),
            # different correct ratios: two problems
            _f(11, "RATIO_BILLED", "ratio_billed_vs_verified", expected="2割", copay_diff_yen=300),
            _f(11, "RATIO_LIMIT_BILLED", "ratio_implausible_for_age", "warning", expected="1割"),
            # the wrong billed insurer number: one line
            _f(12, "INSURER_BILLED_OTHER", "insurer_changed", expected="保険者番号 131102"),
            _f(12, "INSURER_CHECK_DIGIT", "insurer_number_invalid", expected="検証番号が正しい保険者番号"),
            # the missing contact date, twice: one line (the error's severity)
            _f(13, "FUSHO_MISSING", "fusho_missing_entry", expected="連絡先、患者への連絡を行った日"),
            _f(13, "FUSHO_NO_CONTACT_DATE", "fusho_followup_required", "warning", expected="患者への連絡を行った日"),
            # another missing item: two problems
            _f(14, "FUSHO_MISSING", "fusho_missing_entry", expected="事業所名"),
            _f(14, "FUSHO_NO_CONTACT_DATE", "fusho_followup_required", "warning", expected="患者への連絡を行った日"),
            # 資格無効 filed as 不詳: one line, the more severe severity wins
            _f(15, "ELIG_INVALID_NEW", "eligibility_invalid", "warning"),
            _f(15, "FUSHO_ONLINE_INVALID", "fusho_not_allowed", "error"),
            # the claim and the online record both impossible for the age: two things to fix
            _f(16, "RATIO_AGE_BILLED", "ratio_implausible_for_age", expected="2割"),
            _f(16, "RATIO_AGE_ONLINE", "ratio_implausible_for_age", "warning", expected="2割"),
            # the money of a folded finding where the first has none
            _f(17, "RATIO_BILLED", "ratio_billed_vs_verified", expected="3割"),
            _f(17, "RATIO_AGE_BILLED", "ratio_implausible_for_age", expected="3割", copay_diff_yen=-160),
            # not on the same row: never folded
            _f(18, "RATIO_BILLED", "ratio_billed_vs_verified", expected="2割"),
            _f(19, "RATIO_AGE_BILLED", "ratio_implausible_for_age", expected="2割"),
        ]
    )


def test_same_error_one_line(tmp_path: Path) -> None:
    findings = _merge_cases()
    xlsx, js = write_reports(findings, _summary(), tmp_path, clinic="C1", claim_month="2026-10")
    lines = _sheet_lines(xlsx)
    rows = [line["行"] for line in lines]
    assert sorted(rows) == [10, 11, 11, 12, 13, 14, 14, 15, 16, 16, 17, 18, 19]
    one = {line["行"]: line for line in lines if rows.count(line["行"]) == 1}

    ratio = one[10]
    assert ratio["区分コード"] == "ratio_billed_vs_verified,ratio_implausible_for_age"
    assert ratio["ルールID"] == "RATIO_BILLED,RATIO_AGE_BILLED"
    labels = [CATEGORY_LABELS_JA["ratio_billed_vs_verified"], CATEGORY_LABELS_JA["ratio_implausible_for_age"]]
    assert ratio["区分"] == "\n".join(labels)
    assert ratio["内容"] == "・RATIO_BILLED の内容\n・RATIO_AGE_BILLED の内容"
    assert ratio["対応"] == "RATIO_BILLED の対応"  # the first rule's fix covers both
    assert ratio["窓口負担の差額"] == 610
    keys = finding_keys("C1", "2026-10", findings)
    assert ratio["キー"] == f"{keys[0]},{keys[1]}"

    assert one[12]["ルールID"] == "INSURER_BILLED_OTHER,INSURER_CHECK_DIGIT"
    assert one[13]["ルールID"] == "FUSHO_MISSING,FUSHO_NO_CONTACT_DATE" and one[13]["重要度"] == "要修正"
    assert one[15]["ルールID"] == "ELIG_INVALID_NEW,FUSHO_ONLINE_INVALID" and one[15]["重要度"] == "要修正"
    assert one[17]["窓口負担の差額"] == -160
    # every finding's key is on exactly one line
    assert sorted(k for line in lines for k in line["キー"].split(",")) == sorted(keys)
    # the machines' list keeps every finding, unmerged
    assert len(json.loads(js.read_text("utf-8"))["findings"]) == len(findings)


def test_merged_lines_over_sheets_and_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook, "MAX_ROWS_PER_SHEET", 4)
    monkeypatch.setattr(workbook, "PREP_CHUNK_ROWS", 3)
    findings = _merge_cases()
    xlsx, _ = write_reports(findings, _summary(), tmp_path)
    names = openpyxl.load_workbook(xlsx).sheetnames
    assert names == ["概要", "指摘一覧", "指摘一覧(2)", "指摘一覧(3)", "指摘一覧(4)"]
    lines = [line for n in names[1:] for line in _sheet_lines(xlsx, n)]
    assert [line["行"] for line in lines] == clerk_list(findings, None)["row"].tolist()
    assert sorted(k for line in lines for k in line["キー"].split(",")) == sorted(finding_keys("", "2026-10", findings))


def test_merge_rules_name_declared_rule_ids() -> None:
    declared = {r for ids in RULE_IDS.values() for r in ids}
    for m in MERGES:
        assert m.primary | m.secondary <= declared, m
        assert m.when in ("always", "same_expected", "expected_within")


# ------------------------------------------------------------------ who, when, how much


def test_money_direction_spelled_out(tmp_path: Path) -> None:
    findings = _frame(
        [
            _f(2, "R", "full_charge_collected", copay_diff_yen=2940),
            _f(3, "R", "ratio_billed_vs_verified", copay_diff_yen=-560),
            _f(4, "R", "card_expired"),
        ]
    )
    xlsx, _ = write_reports(findings, _summary(), tmp_path)
    ws = openpyxl.load_workbook(xlsx)["指摘一覧"]
    cells = {ws.cell(r, COL["行"]).value: ws.cell(r, COL["窓口負担の差額"]) for r in (2, 3, 4)}
    assert [cells[r].value for r in (2, 3, 4)] == [2940, -560, None]  # numbers: they sum and sort
    assert cells[2].data_type == "n" and cells[2].number_format == YEN_FORMAT
    over, under, zero = YEN_FORMAT.split(";")
    assert "払い過ぎ" in over and "払い不足" in under and "-" not in under  # Excel: 払い不足 560円
    assert "円" in over and "円" in under and "円" in zero


def test_name_kana_and_service_date_from_the_context(tmp_path: Path) -> None:
    findings = _frame([_f(2, "R", "card_expired"), _f(3, "R", "card_expired"), _f(4, "R", "card_expired")])
    context = pd.DataFrame(
        {
            "source_file": ["レセプト.xlsx", "レセプト.xlsx"],
            "sheet": ["国保", "国保"],
            "row": [2, 3],
            "name": ["山田 太郎", '=HYPERLINK("x")'],
            "kana": ["ヤマダ タロウ", ""],
            "service_date": pd.to_datetime(["2026-10-09", None]),
        }
    )
    xlsx, _ = write_reports(findings, _summary(), tmp_path, context=context)
    by_row = {line["行"]: line for line in _sheet_lines(xlsx)}
    assert (by_row[2]["氏名"], by_row[2]["カナ"], by_row[2]["診療日"]) == ("山田 太郎", "ヤマダ タロウ", "2026/10/09")
    assert (by_row[3]["氏名"], by_row[3]["カナ"], by_row[3]["診療日"]) == ('=HYPERLINK("x")', None, "2026/10")
    assert (by_row[4]["氏名"], by_row[4]["診療日"]) == (None, "2026/10")  # no context: the claim month
    ws = openpyxl.load_workbook(xlsx)["指摘一覧"]
    assert all(ws.cell(r, COL["氏名"]).data_type != "f" for r in range(2, 5))


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return reconcile([SAMPLES], tmp_path_factory.mktemp("out"))


def test_the_sample_as_the_clerk_sees_it(sample_run: RunResult) -> None:
    findings = sample_run.findings
    xlsx = sample_run.outputs[0]
    lines = _sheet_lines(xlsx)
    assert all(line["氏名"] and line["カナ"] and line["診療日"] for line in lines)
    assert sum(1 for line in lines if "," in line["キー"]) == len(findings) - len(lines)
    merged = {line["ルールID"] for line in lines if "," in line["ルールID"]}
    assert merged == {
        "RATIO_BILLED,RATIO_AGE_BILLED",
        "RATIO_BILLED,RATIO_LIMIT_BILLED",
        "INSURER_BILLED_OTHER,INSURER_CHECK_DIGIT",
        "INSURER_BILLED_OTHER,INSURER_FORM",
        "INSURER_BILLED_OTHER,INSURER_HOUBETSU",
        "FUSHO_MISSING,FUSHO_NO_CONTACT_DATE",
        "ELIG_INVALID,FUSHO_ONLINE_INVALID",
        "ELIG_INVALID_NEW,FUSHO_ONLINE_INVALID",
    }
    # a patient's lines are together
    seen: list[str] = []
    for line in lines:
        if line["患者ID"] and (not seen or seen[-1] != line["患者ID"]):
            assert line["患者ID"] not in seen, line["患者ID"]
            seen.append(line["患者ID"])


def test_finding_context_of_the_sample(sample_run: RunResult) -> None:
    tables = read_inputs([SAMPLES], Settings()).tables
    findings = sample_run.findings
    ctx = finding_context(findings, tables)
    origins = findings.drop_duplicates(["source_file", "sheet", "row"])
    assert len(ctx) == len(origins)
    receipts = tables["receipts"].set_index(["_file", "_sheet", "_row"])
    on_receipts = ctx[ctx["source_file"].str.startswith("receipts")]
    want = receipts.loc[list(zip(on_receipts["source_file"], on_receipts["sheet"], on_receipts["row"], strict=True))]
    assert on_receipts["name"].tolist() == want["name"].tolist()
    assert on_receipts["service_date"].tolist() == want["service_date"].tolist()
    # a return: the names on it, the service date of the claim it returns
    returned = findings[findings["category"] == "returned"].iloc[0]
    row = ctx[(ctx["source_file"] == returned["source_file"]) & (ctx["row"] == returned["row"])].iloc[0]
    claim = tables["receipts"][
        (tables["receipts"]["patient_id"] == returned["patient_id"])
        & (tables["receipts"]["claim_month"].dt.strftime("%Y-%m") == returned["claim_month"])
    ]
    assert row["service_date"] == claim["service_date"].min() and row["name"]
