"""End to end on the bundled sample month: every seeded problem is found, nothing else.

``sample_receipts/expected_problems.json`` lists, per seeded patient, the category a
correct engine must emit for that patient (or null) and the categories it must not.
The run goes through the real reader (guard, child process), normalise, link, rules and
the report writer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import SAMPLE_ALL_RECEIPTS

from rules import CATEGORIES
from worker.cli import reconcile
from worker.engine import RunResult
from worker.engine.keys import finding_keys

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"
EXPECTED: list[dict[str, Any]] = json.loads((SAMPLES / "expected_problems.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return reconcile([SAMPLES], tmp_path_factory.mktemp("out"))


@pytest.mark.parametrize("case", EXPECTED, ids=[f"{c['patient_id']}:{c['problem']}" for c in EXPECTED])
def test_seeded_problem(run: RunResult, case: dict[str, Any]) -> None:
    f = run.findings
    mine = f[f["patient_id"] == case["patient_id"]]
    if case["category"]:
        assert case["category"] in set(mine["category"]), mine[["category", "message"]].to_string()
    for forbidden in case.get("must_not", []):
        assert forbidden not in set(mine["category"]), mine[["category", "message"]].to_string()


def test_clean_patients_have_no_findings(run: RunResult) -> None:
    seeded = {c["patient_id"] for c in EXPECTED}
    f = run.findings
    unexpected = f[~f["patient_id"].isin(seeded)]
    assert unexpected.empty, unexpected[["patient_id", "category", "message"]].to_string()


def test_every_receipt_category_is_produced(run: RunResult) -> None:
    produced = set(run.findings["category"])
    assert set(CATEGORIES) <= produced, set(CATEGORIES) - produced


def test_findings_name_file_sheet_row(run: RunResult) -> None:
    f = run.findings
    by_receipt = {(r["file"], r["sheet"], r["row"]) for c in EXPECTED for r in c["receipts"]}
    bad_rows = f[f["category"] == "input_invalid"]
    for r in bad_rows.itertuples():
        assert (r.source_file, r.sheet, r.row) in by_receipt
    assert f["row"].gt(1).all()
    files = {p.name for p in SAMPLES.glob("2026-*/*") if p.suffix in (".xlsx", ".csv")}
    assert set(f["source_file"]) <= files


def test_reports_written_and_consistent(run: RunResult) -> None:
    xlsx, js, *documents = run.outputs
    assert xlsx.exists() and js.exists()
    assert sorted(p.name for p in documents) == ["保険者照会票.xlsx", "窓口精算リスト.xlsx"]
    assert all(p.parent == xlsx.parent and p.exists() for p in documents)
    data = json.loads(js.read_text(encoding="utf-8"))
    assert len(data["findings"]) == len(run.findings)
    back = pd.read_excel(xlsx, sheet_name="指摘一覧", dtype=str, engine="calamine")
    # one line per problem (two rules on the same error share a line): every finding's key once
    keys = [k for cell in back["キー"] for k in cell.split(",")]
    assert sorted(keys) == sorted(finding_keys("", "", run.findings))
    assert len(back) < len(run.findings)
    assert run.summary.receipts == SAMPLE_ALL_RECEIPTS
    assert not run.problems


def test_info_rows_ask_for_no_work(run: RunResult) -> None:
    # 参考 (info) needs no action (見方 says so): its 対応 must not ask the clerk to do anything
    info = run.findings[run.findings["severity"] == "info"]
    assert set(info["category"]) == {"eligibility_not_found", "masked_characters"}
    for action in set(info["action"]):
        assert action.startswith("対応は不要です"), action
        assert "してください" not in action and "確認して" not in action, action


def test_returns_expected_values_are_japanese(run: RunResult) -> None:
    f = run.findings
    expected = set(f.loc[f["category"] == "returned", "expected"])
    assert expected and not [e for e in expected if any(ch.isascii() and ch.isalpha() for ch in e)], expected
    assert "資格（資格喪失後の受診）" in expected


def test_the_sample_run_says_what_it_read(run: RunResult) -> None:
    # 2026-09 is bundled with receipts and returns only: its online checks could not run
    read = {m.month: dict(m.rows) for m in run.summary.read}
    assert read["2026-10"]["receipts"] == 327 and read["2026-10"]["online"] > 0 and read["2026-10"]["cards"] > 0
    assert read["2026-09"]["online"] == 0 and read["2026-09"]["returns"] > 0
    assert [(w.missing, w.months) for w in run.summary.warnings] == [(("online",), ("2026-09",))]
    assert run.summary.checked
