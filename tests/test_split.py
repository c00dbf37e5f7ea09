"""A hospital-sized month split by patient across workers equals the single-process result.

The month here is a synthetic one (``benchmarks.synth``) plus the bundled sample (September
claims and their returns, October), with the split threshold lowered so it is split.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select
from test_worker import SAMPLES, Env, database_url, make_env, wait_until  # noqa: F401

from benchmarks.synth import generate_month, write_month
from rules import FINDING_COLUMNS
from worker import jobs as service
from worker import jobs as st
from worker.cli import reconcile
from worker.config import Settings
from worker.engine import months, split
from worker.engine.finding_context import CONTEXT_COLUMNS, LINKED_COLUMNS
from worker.engine.link import link_returns
from worker.engine.reconcile import combine, reconcile_stacked
from worker.reading import read_all

MONTH = "2026-10"
COMPARED = ["source_file", "sheet", "row", "rule_id", "expected", "message", "copay_diff_yen"]


@pytest.fixture(scope="module")
def month_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A few thousand synthetic October receipts, and the sample's two months with returns."""
    out = tmp_path_factory.mktemp("month")
    synth = write_month(generate_month(3000, seed=11, first_patient_id=7_000_001), out / "synth", form="csv")
    files = []
    for p in synth:  # names of their own: the sample has an online_results_2026-10.csv too
        files.append(p.rename(out / f"hosp_{p.name}"))
    for p in sorted(SAMPLES.glob("2026-*/*")):
        if p.suffix in (".xlsx", ".csv"):
            files.append(Path(shutil.copy(p, out / p.name)))
    # returns of October claims too (three of the hospital's, one matching none), so that
    # the split month's own list has returns
    returns = out / "hosp_returns_2026-11.csv"
    returns.write_text(
        "返戻年月,診療年月,患者ID,返戻事由コード,返戻理由,請求点数\n"
        "2026-11,2026-10,7000001,1103,資格喪失後の受診,500\n"
        "2026-11,2026-10,7000002,2001,一部負担金割合の誤り,400\n"
        "2026-11,2026-10,7000003,9001,症状詳記の添付漏れ,300\n"
        "2026-11,2026-10,7999999,1102,該当者なし,200\n",
        encoding="utf-8",
    )
    files.append(returns)
    return sorted(files)


def _rows(findings: pd.DataFrame) -> list[tuple[str, ...]]:
    return sorted(map(tuple, findings[COMPARED].astype(str).to_numpy()))


# ------------------------------------------------------------------ partition


def test_partition_every_patient_in_one_part_and_returns_with_their_claim(month_files: list[Path]) -> None:
    tables, _, _ = read_all(month_files, Settings())
    stacked, _ = combine(tables)
    n = 3
    parts = split.partition(stacked, n)
    for kind in ("receipts", "online", "cards", "returns"):
        labels = [label for p in parts for label in p[kind].index]
        assert sorted(labels) == list(stacked[kind].index), kind  # every row once
    for kind in ("receipts", "online", "cards"):
        owner: dict[str, int] = {}
        for k, p in enumerate(parts):
            for pid in p[kind]["patient_id"].fillna(""):
                assert owner.setdefault(pid, k) == k, (kind, pid)  # a patient in exactly one part
    receipts_part = {pid: k for k, p in enumerate(parts) for pid in p["receipts"]["patient_id"].fillna("")}
    assert len(set(receipts_part.values())) == n  # the work is shared
    claim, method = link_returns(stacked["returns"], stacked["receipts"])
    assert method.ne("").sum() >= 1 and method.eq("").sum() >= 1  # the sample has both
    for k, p in enumerate(parts):
        for label in p["returns"].index:
            if claim[label] >= 0:  # with the part of its claim's patient
                assert receipts_part[stacked["receipts"].loc[claim[label], "patient_id"]] == k
            else:  # matched nowhere: part 0
                assert k == 0


def test_parts_through_files_equal_single_process_exactly(month_files: list[Path], tmp_path: Path) -> None:
    tables, _, _ = read_all(month_files, Settings())
    stacked, input_findings = combine(tables)
    single = reconcile_stacked(stacked, input_findings, with_returns=True)
    root = tmp_path / "parts" / "job-1"
    root.parent.mkdir()
    split.write_parts(root, split.partition(stacked, 3), input_findings, {"with_returns": True})
    for k in range(3):
        d = root / f"part-{k}"
        part_tables, pos = split.load_part(d)
        part_inputs = split.read_frame(root / "input_findings.parquet")
        split.write_part_result(
            d, reconcile_stacked(part_tables, part_inputs, with_returns=True, keep_input=False), pos
        )
    combined = split.combine_parts(root, 3, True)
    pd.testing.assert_frame_equal(combined.findings, single.findings)  # same rows, same order
    assert single.reclaims is not None and combined.reclaims is not None
    pd.testing.assert_frame_equal(combined.reclaims, single.reclaims.reset_index(drop=True))
    assert combined.returns == single.returns
    # the findings' context (name, kana, 診療日 and the linked receipts' columns for the
    # inquiry sheets and the settlement list, by origin) is the single process's too
    assert single.context is not None and combined.context is not None
    key = ["source_file", "sheet", "row"]
    cols = [*CONTEXT_COLUMNS, *LINKED_COLUMNS]
    assert set(cols) <= set(single.context.columns)
    assert single.context["on_online_ratio"].notna().any()  # the sample's linked values: compared
    pd.testing.assert_frame_equal(
        combined.context[cols].sort_values(key).reset_index(drop=True),
        single.context[cols].sort_values(key).reset_index(drop=True),
    )
    assert len(single.context) == len(single.findings.drop_duplicates(key))


# ------------------------------------------------------------------ real workers


def _enqueue_reconcile(env: Env, job_id: int) -> None:
    from tasks.reconcile import reconcile_clinic_month

    reconcile_clinic_month.apply_async((job_id,), connection=env._conn())


def _json_findings(path: Path, month: str | None = None) -> tuple[list[str], list[str]]:
    """findings.json's findings (sorted) and reclaims (in order); with ``month``, those of
    that month's list (``worker.engine.months``, the receipts' months of ``month_files``)."""
    data = json.loads(path.read_text())
    findings, reclaims = data["findings"], data.get("reclaims", [])
    if month is not None:  # the records as they are, those the month's list keeps
        read = ["2026-09", "2026-10"]
        at = pd.DataFrame({"claim_month": [f["claim_month"] for f in findings],
                           "category": [f["category"] for f in findings], "i": range(len(findings))})  # fmt: skip
        findings = [findings[i] for i in months.findings_of_month(at, month, read)["i"]]
        at = pd.DataFrame(reclaims).assign(i=range(len(reclaims)))
        reclaims = [reclaims[i] for i in months.reclaims_of_month(at, month, read)["i"]]
    return (
        sorted(json.dumps(f, sort_keys=True, ensure_ascii=False) for f in findings),
        [json.dumps(r, sort_keys=True, ensure_ascii=False) for r in reclaims],
    )


def _queue_split_month(env: Env, month_files: list[Path], clinic: str) -> int:
    """The month's files uploaded and read here; its reconcile job queued (not enqueued)."""
    ids = [service.accept_upload(env.ctx, clinic, p)[0] for p in month_files]
    for upload_id in ids:  # registered here: one queued job per month
        service.register_upload(env.ctx, upload_id, lambda _job: None)
    return service.queue_reconcile(env.ctx, clinic, MONTH, lambda _job: None)


def _wait_and_check_equals_single_process(env: Env, clinic: str, job_id: int, month_files: list[Path]) -> list[st.Job]:
    """Wait for the split month; its stored findings and correction list equal one process's."""
    wait_until(lambda: env.job(job_id).status in ("done", "failed"), timeout=240, what="the split month")
    jobs = env.jobs(clinic)
    parent = next(j for j in jobs if j.id == job_id)
    parts = sorted((j for j in jobs if j.parent_id == job_id), key=lambda j: j.part_index or 0)
    assert parent.status == "done", parent.error
    assert [(j.kind, j.part_index, j.part_count, j.status) for j in parts] == [("part", k, 3, "done") for k in range(3)]
    assert parent.result is not None and parent.result["parts"] == 3
    assert all(j.result and j.result["receipts"] > 0 for j in parts)  # each part had work
    # the parts' files are cleaned up (right after the month is stored as done: wait for it)
    wait_until(lambda: not split.job_dir(env.settings.data_dir, job_id).exists(), timeout=30, what="cleanup")

    single = reconcile(month_files, env.tmp / "single")
    expected = single.findings[single.findings["claim_month"].isin([MONTH, ""])]
    with st.session_scope(env.ctx.engine) as s:
        stored = st.findings_frame(s, clinic, MONTH)
        run = s.scalars(select(st.Finding).where(st.Finding.run_month == MONTH)).all()
        lists = s.scalars(select(st.CorrectionList).where(st.CorrectionList.job_id == job_id)).all()
        statuses = set(s.scalars(select(st.Upload.status).where(st.Upload.clinic_id == clinic)))
    assert len(stored) == len(expected) == len(run) > 0
    assert _rows(stored[list(FINDING_COLUMNS)]) == _rows(expected)
    assert statuses == {"reconciled"}
    # the correction list: the month's list of the single-process findings and reclaims, in its order
    assert len(lists) == 1
    assert _json_findings(env.settings.data_dir / lists[0].json_path) == _json_findings(single.outputs[1], MONTH)
    assert len(_json_findings(single.outputs[1], MONTH)[1]) == 4  # the month's returns were there to compare
    # the documents that need the linked receipts (kept by each part for its origins)
    folder, alone = (env.settings.data_dir / lists[0].xlsx_path).parent, single.outputs[0].parent
    for name in ("保険者照会票.xlsx", "窓口精算リスト.xlsx"):
        assert (folder / name).exists() and (alone / name).exists(), name
    insurers = set(CalamineWorkbook.from_path(str(folder / "保険者照会票.xlsx")).sheet_names)
    assert insurers and insurers <= set(CalamineWorkbook.from_path(str(alone / "保険者照会票.xlsx")).sheet_names)
    return parts


SPLIT_ENV = {"HENREI_SPLIT_RECEIPTS": "1000", "HENREI_SPLIT_PARTS": "3"}


def test_split_month_on_workers_equals_single_process(
    make_env: Callable[..., Env],  # noqa: F811
    database_url: str,  # noqa: F811
    month_files: list[Path],
) -> None:
    env = make_env(database_url, **SPLIT_ENV)
    env.start("worker", "-c", "2")
    job_id = _queue_split_month(env, month_files, "H1")
    _enqueue_reconcile(env, job_id)
    _wait_and_check_equals_single_process(env, "H1", job_id, month_files)


@pytest.mark.parametrize("stage", ["part", "combine"])
def test_split_month_worker_killed_finishes_with_single_process_result(
    make_env: Callable[..., Env],  # noqa: F811
    month_files: list[Path],
    stage: str,
) -> None:
    """A worker SIGKILLed in each part's first attempt, or while the last part combines."""
    env = make_env(
        HENREI_FAULT_KILL_MARKER="hosp_", HENREI_FAULT_KILL_ATTEMPTS="1", HENREI_FAULT_KILL_STAGE=stage, **SPLIT_ENV
    )
    env.start("worker", "-c", "2")
    job_id = _queue_split_month(env, month_files, "H2")
    _enqueue_reconcile(env, job_id)
    parts = _wait_and_check_equals_single_process(env, "H2", job_id, month_files)
    lost = [j.lost_workers for j in parts]
    if stage == "part":
        assert lost == [1, 1, 1] and all(j.attempts == 2 for j in parts)
    else:  # only the last part combines; its message came back and only combined
        assert sorted(lost) == [0, 0, 1]
    assert env.job(job_id).lost_workers == 0  # the month itself was never lost


@pytest.fixture
def split_here(make_env: Callable[..., Env], monkeypatch: pytest.MonkeyPatch) -> tuple[Env, service.Context]:  # noqa: F811
    """An environment whose months are split in this process, their parts never enqueued."""
    env = make_env(**SPLIT_ENV)
    settings = dataclasses.replace(env.settings, split_receipts=1000, split_parts=3)  # as SPLIT_ENV says
    return env, service.Context(settings, enqueue_part=lambda _part: None)


def _split_here(ctx: service.Context, job_id: int) -> None:
    assert service.start_job(ctx, job_id, None)
    service.run_reconcile(ctx, job_id)


def test_split_month_with_its_part_messages_lost_is_completed_by_the_sweeper(
    split_here: tuple[Env, service.Context], month_files: list[Path]
) -> None:
    env, lost = split_here
    job_id = _queue_split_month(env, month_files, "H3")
    _split_here(lost, job_id)  # its parts' messages lost (Redis restarted without persistence)
    assert sorted((j.kind, j.status) for j in env.jobs("H3") if j.parent_id == job_id) == [("part", "queued")] * 3
    env.start("worker", "-c", "2")
    env.start("beat")
    _wait_and_check_equals_single_process(env, "H3", job_id, month_files)


def test_a_failed_split_months_part_files_are_removed_by_the_sweeper(
    split_here: tuple[Env, service.Context], month_files: list[Path]
) -> None:
    env, ctx = split_here
    failing, running = (_queue_split_month(env, month_files, clinic) for clinic in ("H4", "H5"))
    for job_id in (failing, running):
        _split_here(ctx, job_id)
        assert split.job_dir(env.settings.data_dir, job_id).is_dir()
    part = next(j for j in env.jobs("H4") if j.parent_id == failing)
    service.fail_job(ctx, part.id, "テスト: 分割した処理の失敗")
    assert env.job(failing).status == "failed" and env.job(failing).error == "テスト: 分割した処理の失敗"
    swept = service.sweep(ctx, lambda _u: None, lambda _j: None)
    assert swept["removed"] == 1
    assert not split.job_dir(env.settings.data_dir, failing).exists()
    assert split.job_dir(env.settings.data_dir, running).is_dir()  # still running: kept


def test_a_month_split_by_the_previous_release_is_read_back() -> None:
    """meta.json of a month split before the upgrade (flat keys) gives the same RunInfo."""
    from worker.jobs import parts

    old = {
        "uploads": [3, 1], "with_returns": True, "receipts": 12, "period": "2026-10",
        "files": [{"path": "a.xlsx", "status": "ok", "tables": "レセプト一覧(S, 12行)", "message": ""}],
        "file_problems": [{"file": "b.csv", "message": "読めません"}],
        "started_at": "2026-11-01T09:00:00", "seconds": {"read": 1.5, "split": 0.25}, "part_count": 3,
    }  # fmt: skip
    info = parts._run_info(old)
    assert (info.period, info.receipts, info.with_returns, info.timings) == ("2026-10", 12, True, old["seconds"])
    assert [f.path for f in info.files] == ["a.xlsx"] and [p.file for p in info.problems] == ["b.csv"]
    assert parts._run_info({"info": info.to_json()}) == info  # the current form round-trips
