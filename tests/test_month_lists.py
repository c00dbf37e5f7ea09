"""A month's list (``worker.engine.months``) and the worker's lists per clinic-month.

The job code runs here against a real database (SQLite and PostgreSQL) without a broker,
as ``tests/test_jobs.py`` does; ``tests/test_worker.py`` checks the same on real workers.
Each month's list — its stored findings, its workbook, its findings.json and the count
``henrei status`` shows — equals the in-process run of the same files (``henrei
reconcile``) restricted to that month by the same rule.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select
from test_storage import db_url  # noqa: F401

from rules import FINDING_COLUMNS
from rules.returned import RECLAIM_COLUMNS
from worker import jobs as service
from worker import jobs as st
from worker.cli import reconcile
from worker.config import Settings
from worker.engine import months, read_inputs, receipt_months
from worker.engine.reconcile import reconcile_stacked
from worker.reports import FINDINGS_SHEET, RECLAIMS_SHEET
from worker.reports.formats import KEY_HEADER

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"
SEPTEMBER = [SAMPLES / "2026-09" / "receipts_2026-09.xlsx"]
RETURNS = SAMPLES / "2026-09" / "returns_2026-10.xlsx"  # 11 returns of September claims, 2 matching none
OCTOBER = sorted((SAMPLES / "2026-10").iterdir())
COMPARED = [c for c in FINDING_COLUMNS if c != "copay_diff_yen"]


@pytest.fixture
def ctx(db_url: str, tmp_path: Path) -> Iterator[service.Context]:  # noqa: F811
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url)
    yield service.Context(settings)
    service.dispose_engines(db_url)


# ------------------------------------------------------------------ the rule


def test_a_return_belongs_to_its_claims_month_or_the_first_month_read_after_it() -> None:
    claims = pd.Series(["2026-09", "2026-08", "2026-09", "2026-12", "", "2026-10"])
    matched = pd.Series([True, False, False, False, False, True])
    homes = months.home_months(claims, matched, ["2026-09", "2026-10"])
    # matched: the claim's month; unmatched: its own month when read, else the first later
    # month read, else its own; no month: none (every list)
    assert homes.tolist() == ["2026-09", "2026-09", "2026-09", "2026-12", "", "2026-10"]
    assert months.home_months(claims, matched, []).tolist() == claims.tolist()


def test_the_returns_counts_of_a_reclaims_table_are_the_runs() -> None:
    """``returns_summary`` counts from the 返戻再請求 table what the run counted, so a
    month's 返戻 block is counted the same way as the whole run's."""
    inputs = read_inputs([SAMPLES], Settings())
    result = reconcile_stacked(inputs.tables, inputs.input_findings, with_returns=True)
    assert result.reclaims is not None and result.returns is not None
    assert months.returns_summary(result.reclaims) == result.returns
    used = {months.RECLAIM_MONTH, months.RECLAIM_METHOD, months.RECLAIM_CLASS, months.RECLAIM_PREDICTED}
    assert used <= set(RECLAIM_COLUMNS)


def test_every_finding_and_return_is_in_exactly_one_months_list() -> None:
    """Over the months with receipts, the lists split the run: nothing twice, nothing lost
    (the samples have no finding without a month)."""
    inputs = read_inputs([SAMPLES], Settings())
    result = reconcile_stacked(inputs.tables, inputs.input_findings, with_returns=True)
    read = receipt_months(inputs.tables["receipts"])
    assert read == ["2026-09", "2026-10"]
    lists = [months.month_of_list(m, read)(result) for m in read]
    assert sum(len(r.findings) for r in lists) == len(result.findings) == 153
    assert sum(len(r.reclaims) for r in lists if r.reclaims is not None) == 13
    september = lists[0]
    assert september.returns is not None and (september.returns.total, september.returns.unmatched) == (13, 2)
    # the return of an August claim (no August receipts) is in September's list
    assert "2026-08" in set(september.findings["claim_month"])


# ------------------------------------------------------------------ the job code


def _register(ctx: service.Context, clinic: str, files: list[Path]) -> list[dict[str, object]]:
    """Upload and register the files as the worker does (one register job each); their results."""
    results = []
    for path in files:
        upload_id, _ = service.accept_upload(ctx, clinic, path)
        job_id = service.queue_register(ctx, upload_id, lambda _j: None)
        assert service.start_job(ctx, job_id, None)
        service.run_register(ctx, job_id, lambda _j: None)
        with st.session_scope(ctx.engine) as s:
            results.append(dict(s.get_one(st.Job, job_id).result or {}))
    return results


def _run_queued(ctx: service.Context, clinic: str) -> list[int]:
    """Run the clinic's queued reconcile jobs here; their IDs."""
    with st.session_scope(ctx.engine) as s:
        ids = list(
            s.scalars(
                select(st.Job.id)
                .where(st.Job.clinic_id == clinic, st.Job.kind == "reconcile", st.Job.status == "queued")
                .order_by(st.Job.id)
            )
        )
    for job_id in ids:
        assert service.start_job(ctx, job_id, None)
        service.run_reconcile(ctx, job_id)
    return ids


def _months_run(ctx: service.Context, clinic: str) -> list[str]:
    with st.session_scope(ctx.engine) as s:
        q = select(st.Job.claim_month).where(st.Job.clinic_id == clinic, st.Job.kind == "reconcile")
        return sorted(m for m in s.scalars(q) if m)


def _rows(findings: pd.DataFrame) -> list[tuple[str, ...]]:
    return sorted(map(tuple, findings[COMPARED].astype(str).to_numpy()))


def _sheet_rows(xlsx: Path, base: str, headers: tuple[str, ...]) -> int:
    """Data rows of the workbook's sheets ``base``, ``base``2, … below their header row."""
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    n = 0
    for name in wb.sheetnames:
        if not name.startswith(base):
            continue
        rows = [[c for c in r if c is not None] for r in wb[name].iter_rows(values_only=True)]
        top = next(i for i, r in enumerate(rows) if set(headers) <= set(r))
        n += sum(1 for r in rows[top + 1 :] if r)
    wb.close()
    return n


def _listed_findings(xlsx: Path) -> int:
    """Findings on the workbook's 指摘一覧 sheets: the keys of its lines (a line may carry
    several findings of the same error, merged for the clerk)."""
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    n = 0
    for name in wb.sheetnames:
        if not name.startswith(FINDINGS_SHEET):
            continue
        rows = [list(r) for r in wb[name].iter_rows(values_only=True)]
        top = next(i for i, r in enumerate(rows) if KEY_HEADER in r)
        at = rows[top].index(KEY_HEADER)
        n += sum(len(str(r[at]).split(",")) for r in rows[top + 1 :] if len(r) > at and r[at])
    wb.close()
    return n


def _status_count(ctx: service.Context, job_id: int) -> int:
    [row] = [r for r in service.status_report(ctx, job=job_id).jobs if r.id == job_id]
    found = re.match(r"指摘 (\d+)件", row.outcome)
    assert found, row.outcome
    return int(found.group(1))


def check_month_lists(ctx: service.Context, clinic: str, files: list[Path], out: Path) -> dict[str, pd.DataFrame]:
    """Every month's last list of the clinic equals the in-process run of ``files`` restricted
    to that month: stored findings = workbook rows = findings.json = status count; the
    reclaims likewise. Returns each month's stored list."""
    single = reconcile(files, out)
    whole = json.loads(single.outputs[1].read_text())
    read = receipt_months(read_inputs(files, Settings()).tables["receipts"])
    lists: dict[str, pd.DataFrame] = {}
    with st.session_scope(ctx.engine) as s:
        done = s.scalars(
            select(st.Job).where(st.Job.clinic_id == clinic, st.Job.kind == "reconcile", st.Job.status == "done")
        ).all()
        last = {j.claim_month: j for j in sorted(done, key=lambda j: j.finished_at)}
        stored = {m: st.findings_frame(s, clinic, m, listed=True) for m in last if m}
        paths = {
            c.claim_month: (ctx.data_dir / c.xlsx_path, ctx.data_dir / c.json_path)
            for c in s.scalars(select(st.CorrectionList).where(st.CorrectionList.job_id.in_([j.id for j in done])))
            if c.job_id == last[c.claim_month].id
        }
        job_ids = {m: j.id for m, j in last.items() if m}
    assert set(paths) == set(stored)
    for month, frame in stored.items():
        expected = months.findings_of_month(single.findings, month, read)
        xlsx, js = paths[month]
        data = json.loads(js.read_text())
        assert _rows(frame) == _rows(expected), month
        assert _rows(pd.DataFrame(data["findings"], columns=list(FINDING_COLUMNS))) == _rows(expected), month
        assert _listed_findings(xlsx) == len(expected), month
        assert _status_count(ctx, job_ids[month]) == len(expected) == data["summary"]["findings"], month
        every = whole.get("reclaims", [])
        at = pd.DataFrame(every, columns=RECLAIM_COLUMNS).assign(i=range(len(every)))
        want = [every[i] for i in months.reclaims_of_month(at, month, read)["i"]]
        assert data.get("reclaims", []) == want, month
        if "reclaims" in data:
            assert _sheet_rows(xlsx, RECLAIMS_SHEET, RECLAIM_COLUMNS) == len(want), month
        # the clerk's columns come with the month's list: names as the single run shows them
        names = _names(xlsx)
        assert any(name for _, name in names) and names <= _names(single.outputs[0]), month
        lists[month] = frame
    return lists


def _names(xlsx: Path) -> set[tuple[str, str]]:
    """(患者ID, 氏名) of every line of 「指摘一覧」."""
    rows = CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_name("指摘一覧").to_python()
    head = [str(v) for v in rows[0]]
    pid, name = head.index("患者ID"), head.index("氏名")
    return {(str(r[pid]), str(r[name])) for r in rows[1:] if r[pid] != ""}


def test_september_october_and_returns_each_months_list_equals_the_single_run(
    ctx: service.Context, tmp_path: Path
) -> None:
    files = [*SEPTEMBER, *OCTOBER, RETURNS]
    registered = _register(ctx, "C1", files)
    returns_result = registered[-1]
    assert returns_result["months"] == ["2026-09"]  # the returns' list, not August (no August receipts)
    _run_queued(ctx, "C1")
    assert _months_run(ctx, "C1") == ["2026-09", "2026-10"]  # no August list of "unmatched" returns
    lists = check_month_lists(ctx, "C1", files, tmp_path / "single")
    assert {m: len(f) for m, f in lists.items()} == {"2026-09": 21, "2026-10": 132}
    september = lists["2026-09"]
    assert (september["category"] == "returned").sum() == 11
    assert set(september.loc[september["category"] == "return_unmatched", "claim_month"]) == {"2026-08", "2026-09"}
    assert not lists["2026-10"]["claim_month"].isin(["2026-08", "2026-09"]).any()


def test_returns_uploaded_first_wait_for_receipts_then_join_their_month(ctx: service.Context, tmp_path: Path) -> None:
    """A clinic's first upload is its returns: no month is queued (every return would be
    "unmatched"); the receipts of September, uploaded next, queue September, whose list
    has the returns; October's upload later leaves them there."""
    [first] = _register(ctx, "C2", [RETURNS])
    assert first["months"] == [] and first["jobs"] == [] and first["returns_waiting"] == ["2026-08", "2026-09"]
    [row] = [r for r in service.status_report(ctx, clinic="C2").jobs]
    assert "返戻（2026-08, 2026-09 診療分）" in row.outcome
    [sept] = _register(ctx, "C2", SEPTEMBER)
    assert sept["months"] == ["2026-09"]
    _run_queued(ctx, "C2")
    check_month_lists(ctx, "C2", [RETURNS, *SEPTEMBER], tmp_path / "single-09")
    _register(ctx, "C2", OCTOBER)
    _run_queued(ctx, "C2")
    # September again: the new card records and the later online checks (its returns' new insurers)
    assert _months_run(ctx, "C2") == ["2026-09", "2026-09", "2026-10"]
    lists = check_month_lists(ctx, "C2", [RETURNS, *SEPTEMBER, *OCTOBER], tmp_path / "single-all")
    assert {m: len(f) for m, f in lists.items()} == {"2026-09": 21, "2026-10": 132}


def test_returns_of_a_month_without_receipts_go_to_the_next_month_read(ctx: service.Context, tmp_path: Path) -> None:
    """Only October's files and the returns (of August and September claims): the returns
    are October's list, unmatched (upload September to match them) — no list of a month
    without receipts. September's receipts arriving later take them over."""
    _register(ctx, "C3", [*OCTOBER, RETURNS])
    _run_queued(ctx, "C3")
    assert _months_run(ctx, "C3") == ["2026-10"]
    lists = check_month_lists(ctx, "C3", [*OCTOBER, RETURNS], tmp_path / "single-10")
    assert (lists["2026-10"]["category"] == "return_unmatched").sum() == 13
    [sept] = _register(ctx, "C3", SEPTEMBER)
    assert sept["months"] == ["2026-09", "2026-10"]  # October again: its returns move to September
    _run_queued(ctx, "C3")
    lists = check_month_lists(ctx, "C3", [*OCTOBER, RETURNS, *SEPTEMBER], tmp_path / "single-all")
    assert {m: len(f) for m, f in lists.items()} == {"2026-09": 21, "2026-10": 132}


def test_the_nightly_pickups_status_follows_to_the_lists(ctx: service.Context, tmp_path: Path) -> None:
    """`henrei status --job N` of a pick-up job: its register jobs, the reconcile jobs they
    queued and their correction lists."""
    drop = tmp_path / "drop"
    (drop / "C4").mkdir(parents=True)
    for p in [*SEPTEMBER, *OCTOBER, RETURNS]:
        shutil.copy(p, drop / "C4" / p.name)
    ctx = service.Context(Settings(data_dir=ctx.settings.data_dir, database_url=ctx.settings.database_url,
                                   drop_dir=drop, drop_settle_s=0))  # fmt: skip
    registers: list[int] = []
    pickup = service.queue_pickup(ctx, lambda _j: None)
    assert service.start_job(ctx, pickup, None)
    service.run_pickup(ctx, pickup, registers.append)
    for job_id in registers:
        assert service.start_job(ctx, job_id, None)
        service.run_register(ctx, job_id, lambda _j: None)
    runs = _run_queued(ctx, "C4")
    report = service.status_report(ctx, job=pickup)
    kinds = {r.id: r.kind for r in report.jobs}
    assert set(kinds) == {pickup, *registers, *runs}
    assert [kinds[r] for r in runs] == ["照合"] * len(runs)
    assert sorted(m for m, _ in report.correction_lists) == ["2026-09", "2026-10"]
    assert all(path.name == "corrections.xlsx" and path.exists() for _, path in report.correction_lists)
