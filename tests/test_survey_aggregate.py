"""Association surveys, the association side: import (latest wins, bad files reported),
the seeds-style table (the 2024-01 survey's published answers come back exactly),
suppression that totals cannot undo, and the report files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pandas as pd
from python_calamine import CalamineWorkbook

from benchmarks.survey_synth import SEEDS_2024_01, random_submissions, seeds_submissions
from worker.config import Settings
from worker.jobs import Context, CorrectionList, Job, JobKind, JobStatus, session_scope
from worker.survey.aggregate import import_submissions, survey_data, survey_tables
from worker.survey.jobs import queue_survey, run_survey_export
from worker.survey.schema import Count, Submission, encode_envelope
from worker.survey.submission import write_submission
from worker.survey.suppression import HIDDEN, Grid, suppress

HENREI = Path(sys.executable).parent / "henrei"


def _copy(sub: Submission, **changes: object) -> Submission:
    return msgspec.structs.replace(sub, **changes)


def test_reimport_is_idempotent_and_the_latest_submission_wins(tmp_path: Path) -> None:
    a, b = random_submissions(2, ["2026-10"])
    first = tmp_path / "first"
    for s in (a, b):
        write_submission(s, first)
    once = import_submissions([first])
    twice = import_submissions([first, first])
    assert once.submissions == twice.submissions == [a, b]
    assert twice.superseded == 2  # the same files read again replace nothing
    # an updated submission of clinic a (created later) wins, whichever order the files come in
    later = _copy(
        a, created_at=datetime(2030, 1, 1, tzinfo=UTC), counts=[Count("eligibility_invalid", "error", "社保", 42)]
    )
    second = tmp_path / "second"
    write_submission(later, second)
    for order in ([first, second], [second, first]):
        got = import_submissions(order)
        assert got.submissions == [later, b]
    # and the tables count it once
    grids = survey_tables(survey_data(import_submissions([first, second, first]).submissions))
    assert grids["items"].values.at["資格情報の無効がある", "件数"] == 42 + sum(
        c.events for c in b.counts if c.category == "eligibility_invalid"
    )


def test_a_bad_submission_is_reported_with_its_reason_and_the_others_are_kept(tmp_path: Path) -> None:
    good = random_submissions(3, ["2026-10"])
    for s in good:
        write_submission(s, tmp_path)
    (tmp_path / "broken.json").write_text("{not json")
    extra = json.loads(encode_envelope(good[0]))
    extra["submission"]["patient_name"] = "山田 太郎"
    (tmp_path / "extra.json").write_text(json.dumps(extra, ensure_ascii=False))
    edited = json.loads(encode_envelope(good[1]))
    edited["submission"]["receipts"] += 1
    (tmp_path / "edited.json").write_text(json.dumps(edited, ensure_ascii=False))
    got = import_submissions([tmp_path])
    assert got.submissions == sorted(good, key=lambda s: s.clinic)
    reasons = {Path(r.path).name: r.reason for r in got.rejected}
    assert set(reasons) == {"broken.json", "extra.json", "edited.json"}
    assert "JSON" in reasons["broken.json"]
    assert "patient_name" in reasons["extra.json"]
    assert "ハッシュ" in reasons["edited.json"]


def test_seeds_style_table_returns_the_2024_01_survey_counts_exactly(tmp_path: Path) -> None:
    """8,672 synthetic clinics whose true answers are seeds/004's published counts."""
    subs = seeds_submissions()
    out = tmp_path / "subs"
    for s in subs:
        write_submission(s, out)
    imported = import_submissions([out])
    assert len(imported.submissions) == 8672 and not imported.rejected
    grids = survey_tables(survey_data(imported.submissions))
    pub = {k: suppress(g)[0] for k, g in grids.items()}
    by_type = pub["by_type"]
    assert by_type.at["計", "回答医療機関"] == 8672
    assert [by_type.at[t, "回答医療機関"] for t in ("医科診療所", "歯科診療所", "病院", "無回答")] == [
        6216,
        1744,
        582,
        130,
    ]
    assert by_type.at["計", "あった"] == 5188
    items = pub["items"]["あった医療機関"]
    expected = {
        "該当の被保険者番号がない": 1321, "資格情報の無効がある": 2554, "名前や住所の間違い": 1071,
        "名前や住所で●が表記される": 3492, "負担割合の齟齬": 776, "限度額認定に誤り等があった": 307,
        "他人の情報が紐づけられていた": 102,
    }  # fmt: skip
    assert {k: items[k] for k in expected} == expected
    assert pub["ratio_kinds"].at["計", "あった医療機関"] == 776
    assert (
        pub["full_charge"].at["一旦10割負担を患者に請求した", "医療機関"] == SEEDS_2024_01["full_charge_clinics"] == 403
    )
    assert pub["full_charge"].at["一旦10割負担を患者に請求した", "件数"] == 753
    assert pub["returns"].at["返戻があった", "医療機関"] == 1231


def _attack(published: pd.DataFrame, grid: Grid) -> dict[tuple[int, int], int]:
    """What subtraction recovers: every line of the table's sums with one unknown, repeated
    while something new is learnt (so recovered cells help recover others)."""
    known = {
        (i, j): int(v)
        for i, row in enumerate(published.itertuples(index=False))
        for j, v in enumerate(row)
        if v != HIDDEN
    }
    hidden = {(i, j) for i in range(published.shape[0]) for j in range(published.shape[1])} - set(known)
    recovered: dict[tuple[int, int], int] = {}
    progress = True
    while progress:
        progress = False
        for line in grid.lines():
            unknown = [c for c in line if c not in known]
            if len(unknown) != 1:
                continue
            (cell,) = unknown
            total, body = line[-1], line[:-1]
            value = (
                known[total] - sum(known[c] for c in body if c != cell)
                if cell != total
                else sum(known[c] for c in body)
            )
            known[cell] = value
            if cell in hidden:
                recovered[cell] = value
            progress = True
    return recovered


def test_suppressed_cells_cannot_be_recomputed_from_totals() -> None:
    # 40 clinics over 5 prefectures and 3 months: many small cells
    subs = random_submissions(40, ["2026-08", "2026-09", "2026-10"], seed=3)
    grids = survey_tables(survey_data(subs))
    hidden_total = 0
    for key, grid in grids.items():
        published, mask = suppress(grid)
        hidden_total += int(mask.sum())
        values, events, clinics = (g.to_numpy() for g in (grid.values, grid.events, grid.clinics))
        # primary: every small cell is hidden
        for j, c in enumerate(grid.values.columns):
            small = (clinics[:, j] > 0) & (clinics[:, j] < 3)
            if grid.kinds[c] == "events":
                small |= (events[:, j] > 0) & (events[:, j] < 10)
            assert mask[:, j][small & (values[:, j] != 0)].all(), (key, c)
        assert _attack(published, grid) == {}, key
        # and without the secondary suppression the attack would have worked somewhere
    assert hidden_total > 20


def test_without_secondary_suppression_the_attack_recovers_a_cell() -> None:
    values = pd.DataFrame({"件数": [4, 30, 25, 59]}, index=["A県", "B県", "C県", "計"])
    clinics = pd.DataFrame({"件数": [3, 5, 5, 13]}, index=values.index)
    grid = Grid(values, values, clinics, {"件数": "events"}, total_row="計", additive=["件数"])
    naive = values.astype(object).mask(values.lt(10) & values.gt(0), HIDDEN)
    assert _attack(naive, grid) == {(0, 0): 4}  # the test's attack does find what a single hidden cell gives away
    published, _ = suppress(grid)
    assert published["件数"].tolist() == [HIDDEN, 30, HIDDEN, 59]  # C, the smallest other cell, hidden too
    assert _attack(published, grid) == {}


def test_cli_aggregate_writes_the_workbook_and_summary_and_reports_bad_files(tmp_path: Path) -> None:
    subs = random_submissions(60, ["2026-09", "2026-10"], seed=5)
    inbox = tmp_path / "inbox"
    for s in subs:
        write_submission(s, inbox)
    (inbox / "bad.json").write_text('{"sha256": "0", "submission": {}}')
    env = {**os.environ, "HENREI_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [str(HENREI), "survey", "aggregate", str(inbox), "--out", str(tmp_path / "report")],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr  # a file was refused; the others aggregated
    assert "取り込めません" in done.stdout and "bad.json" in done.stdout
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["import"]["submissions"] == 120 and len(summary["import"]["rejected"]) == 1
    assert summary["tables"]["by_type"]["cells"][-1][0] == 60
    wb = CalamineWorkbook.from_path(str(tmp_path / "report" / "survey.xlsx"))
    assert wb.sheet_names == ["概要", "問4 トラブルの種類", "問7・問8", "区分別", "都道府県別", "月別推移"]
    text = json.dumps([wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names], ensure_ascii=False, default=str)
    assert not any(s.clinic in text for s in subs)  # no clinic identifier without --per-clinic


def test_worker_export_from_the_database(tmp_path: Path) -> None:
    """The worker's export finds the clinic-month's current list in the database (SQLite)."""
    clinics = tmp_path / "clinics.toml"
    clinics.write_text('[C001]\nassociation_id = "13-0042"\nprefecture = "東京都"\n')
    settings = Settings(data_dir=tmp_path / "data", survey_clinics=str(clinics))
    ctx = Context(settings)
    report = settings.data_dir / "reports" / "C001" / "2026-10" / "job-1"
    report.mkdir(parents=True)
    survey = [{"month": "2026-10", "category": "eligibility_invalid", "severity": "error", "insurance_kind": "社保",
               "return_class": "", "findings": 3, "overpaid_yen": 0, "underpaid_yen": 0}]  # fmt: skip
    (report / "findings.json").write_text(
        json.dumps({"summary": {"read": [{"month": "2026-10", "receipts": 12}], "survey": survey}, "findings": []})
    )
    with session_scope(ctx.engine) as s:
        job = Job(kind=JobKind.RECONCILE, clinic_id="C001", claim_month="2026-10", status=JobStatus.DONE)
        s.add(job)
        s.flush()
        s.add(CorrectionList(clinic_id="C001", claim_month="2026-10", job_id=job.id, xlsx_path="x",
                             json_path=str((report / "findings.json").relative_to(settings.data_dir))))  # fmt: skip
    sent: list[int] = []
    job_id = queue_survey(ctx, JobKind.SURVEY_EXPORT, sent.append, "C001", "2026-10")
    assert sent == [job_id]
    run_survey_export(ctx, job_id)
    with session_scope(ctx.engine) as s:
        done = s.get_one(Job, job_id)
        assert done.status == JobStatus.DONE, done.error
        path = settings.data_dir / done.result["file"]  # type: ignore[index]
    written = import_submissions([path]).submissions
    assert [(s.clinic, s.receipts, s.counts[0].events) for s in written] == [("13-0042", 12, 3)]
    # a clinic that has not opted in: the job fails with the reason, nothing written
    other = queue_survey(ctx, JobKind.SURVEY_EXPORT, sent.append, "C999", "2026-10")
    run_survey_export(ctx, other)
    with session_scope(ctx.engine) as s:
        failed = s.get_one(Job, other)
        assert failed.status == JobStatus.FAILED and "参加が設定されていません" in (failed.error or "")


def test_the_months_filter_counts_only_those_months() -> None:
    subs = random_submissions(30, ["2026-09", "2026-10"], seed=9)
    data = survey_data(subs)
    only = survey_tables(data, ["2026-10"])
    both = survey_tables(data)
    assert only["monthly"].values.index.tolist() == ["2026-10", "計"]
    assert only["items"].values["件数"].sum() < both["items"].values["件数"].sum()
