"""The job lifecycle in ``worker.jobs`` against a real database (SQLite and PostgreSQL),
without a broker: who starts a job, what counts as a lost worker, what the sweeper sends,
which uploads a month reads. The same code runs in the worker tests with real processes.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_storage import db_url  # noqa: F401

from worker import jobs as service
from worker import jobs as st
from worker.config import Settings

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"


@pytest.fixture
def ctx(db_url: str, tmp_path: Path) -> Iterator[service.Context]:  # noqa: F811
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url)
    yield service.Context(settings)
    service.dispose_engines(db_url)


def _job(ctx: service.Context, **values: object) -> int:
    with st.session_scope(ctx.engine) as s:
        job = st.Job(**{"kind": "reconcile", "clinic_id": "C1", "claim_month": "2026-10", **values})
        s.add(job)
        s.flush()
        return job.id


def _get(ctx: service.Context, job_id: int) -> st.Job:
    with st.session_scope(ctx.engine) as s:
        return s.get_one(st.Job, job_id)


def test_a_duplicate_message_waits_for_the_first_start_and_then_skips(ctx: service.Context) -> None:
    job_id = _job(ctx)
    started: dict[str, bool] = {}
    with Session(ctx.engine) as first:  # the first message's start, not committed yet
        job = first.execute(select(st.Job).where(st.Job.id == job_id).with_for_update()).scalar_one()
        job.status, job.heartbeat_at, job.celery_task_id = "running", st.utcnow(), "task-a:0"
        first.flush()
        other = threading.Thread(
            target=lambda: started.update(b=service.start_job(ctx, job_id, service.Delivery("task-b", 0)))
        )
        other.start()
        other.join(1.0)
        assert other.is_alive()  # waits on the job's row (PostgreSQL) or the write lock (SQLite)
        first.commit()
        other.join(30)
    assert started == {"b": False}  # it saw the first start: one run
    assert _get(ctx, job_id).celery_task_id == "task-a:0"


def test_a_retry_is_not_a_lost_worker_the_same_delivery_again_is(ctx: service.Context) -> None:
    job_id = _job(ctx, kind="register", claim_month=None)
    assert service.start_job(ctx, job_id, service.Delivery("t", 0))
    assert service.start_job(ctx, job_id, service.Delivery("t", 1))  # Celery's retry after a database error
    job = _get(ctx, job_id)
    assert (job.attempts, job.lost_workers) == (2, 0)
    assert service.start_job(ctx, job_id, service.Delivery("t", 1))  # the same delivery back: its worker was lost
    assert not service.start_job(ctx, job_id, service.Delivery("u", 0))  # another message while it runs: skipped
    job = _get(ctx, job_id)
    assert (job.attempts, job.lost_workers) == (3, 1)


def test_the_sweeper_sends_a_job_once_per_interval_not_on_every_sweep(ctx: service.Context) -> None:
    long_ago = st.utcnow() - timedelta(hours=1)
    job_id = _job(ctx, created_at=long_ago, enqueued_at=long_ago)
    sent: list[int] = []
    now = st.utcnow()
    assert service.sweep(ctx, sent.append, sent.append, now=now)["jobs"] == 1
    assert service.sweep(ctx, sent.append, sent.append, now=now + timedelta(minutes=1))["jobs"] == 0
    later = now + ctx.settings.sweep_stale + timedelta(seconds=1)
    assert service.sweep(ctx, sent.append, sent.append, now=later)["jobs"] == 1
    assert sent == [job_id, job_id]


def test_a_split_month_with_open_parts_is_left_to_its_parts(ctx: service.Context) -> None:
    long_ago = st.utcnow() - timedelta(hours=3)
    parent = _job(ctx, status="running", heartbeat_at=long_ago, created_at=long_ago)
    part = _job(
        ctx, kind="part", parent_id=parent, part_index=0, part_count=1, created_at=long_ago, enqueued_at=long_ago
    )
    sent: list[int] = []
    service.sweep(ctx, sent.append, sent.append)
    assert sent == [part]  # the queued part, not its parent (no lost worker counted on it)
    with st.session_scope(ctx.engine) as s:
        s.get_one(st.Job, part).status = "done"
    sent.clear()
    service.sweep(ctx, sent.append, sent.append, now=st.utcnow() + ctx.settings.sweep_stale * 2)
    assert sent == [parent]  # every part done, the parent not combined: it is sent again


def test_a_part_of_an_ended_month_is_failed_instead_of_run(ctx: service.Context) -> None:
    parent = _job(ctx, status="failed", error="元のエラー")
    part = _job(ctx, kind="part", parent_id=parent, part_index=0, part_count=2)
    assert not service.start_job(ctx, part, service.Delivery("p", 0))
    job = _get(ctx, part)
    assert job.status == "failed" and job.error == "元のエラー"


def test_a_reconcile_job_waits_while_another_run_of_its_month_is_running(ctx: service.Context) -> None:
    later: list[tuple[int, float]] = []
    waiting = service.Context(ctx.settings, enqueue_reconcile_later=lambda j, s: later.append((j, s)))
    running = _job(ctx, status="running", heartbeat_at=st.utcnow(), celery_task_id="r:0")
    queued = _job(ctx)
    assert not service.start_job(waiting, queued, service.Delivery("q", 0))
    assert later == [(queued, ctx.settings.defer_s)] and _get(ctx, queued).status == "queued"
    other_month = _job(ctx, claim_month="2026-09")
    assert service.start_job(waiting, other_month, service.Delivery("m", 0))  # another month does not wait
    with st.session_scope(ctx.engine) as s:
        s.get_one(st.Job, running).status = "done"
    assert service.start_job(waiting, queued, service.Delivery("q", 0))


def test_an_upload_spanning_months_is_read_by_each_months_job(ctx: service.Context, tmp_path: Path) -> None:
    """Online checks from late September to October: the September job reads them too."""
    online = tmp_path / "online_0920-1010.csv"
    online.write_text(
        "患者ID,照会日,資格有効性,保険者番号,番号,負担割合\n"
        "100041,2026/09/28,1,39136965,85767417,1割\n"
        "100088,2026/10/01,1,39237185,80994122,1割\n",
        encoding="utf-8",
    )
    receipts = SAMPLES / "2026-09" / "receipts_2026-09.xlsx"
    enqueued: list[int] = []
    ids = [service.accept_upload(ctx, "C1", p)[0] for p in (receipts, online)]
    for upload_id in ids:
        service.register_upload(ctx, upload_id, enqueued.append)
    with st.session_scope(ctx.engine) as s:
        upload = s.get_one(st.Upload, ids[1])
        assert (upload.first_month, upload.claim_month) == ("2026-09", "2026-10")
        jobs = {j.claim_month: j.id for j in s.scalars(select(st.Job).where(st.Job.kind == "reconcile"))}
    assert set(jobs) == {"2026-09", "2026-10"}
    assert service.start_job(ctx, jobs["2026-09"], None)
    service.run_reconcile(ctx, jobs["2026-09"])
    result = _get(ctx, jobs["2026-09"]).result or {}
    assert result["uploads"] == sorted(ids)


def test_the_nightly_run_is_resumed_by_its_own_task_and_skipped_by_another(
    ctx: service.Context, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    (drop / "C1").mkdir(parents=True)
    today = date(2026, 11, 24)
    with st.session_scope(ctx.engine) as s:  # tonight's run, cut short (its worker lost)
        s.add(st.NightlyRun(run_date=today, status="running", task_id="beat-1"))
    ctx = service.Context(dataclasses.replace(ctx.settings, drop_dir=drop))
    assert service.nightly(ctx, lambda _j: None, today=today, task_id="beat-2") is None
    run_id = service.nightly(ctx, lambda _j: None, today=today, task_id="beat-1")
    assert run_id is not None
    with st.session_scope(ctx.engine) as s:
        run = s.get_one(st.NightlyRun, run_id)
        assert run.status == "done" and run.report is not None
        assert len(s.scalars(select(st.NightlyRun)).all()) == 1


def test_a_task_failure_fails_only_the_job_its_own_delivery_started(ctx: service.Context) -> None:
    running = _job(ctx, status="running", heartbeat_at=st.utcnow(), celery_task_id="a:0")
    assert not service.fail_job(ctx, running, "copy failed", delivery=service.Delivery("b", 0))  # a copy's error
    assert _get(ctx, running).status == "running"
    assert service.fail_job(
        ctx, running, "its own error", delivery=service.Delivery("a", 2)
    )  # its own task, after retries
    assert (_get(ctx, running).status, _get(ctx, running).error) == ("failed", "its own error")
    done = _job(ctx, kind="register", claim_month=None, status="done", celery_task_id="c:0")
    assert not service.fail_job(ctx, done, "enqueue failed after it finished", delivery=service.Delivery("c", 0))
    assert _get(ctx, done).status == "done"
    parent = _job(ctx, status="running", heartbeat_at=st.utcnow())
    part = _job(ctx, kind="part", parent_id=parent, part_index=0, part_count=1, status="done", celery_task_id="d:0")
    assert service.fail_job(ctx, part, "combine failed", delivery=service.Delivery("d", 0))  # the last part, combining
    assert (_get(ctx, parent).status, _get(ctx, parent).error) == ("failed", "combine failed")


def test_a_split_month_waiting_on_queued_parts_still_holds_its_month(ctx: service.Context) -> None:
    later: list[tuple[int, float]] = []
    waiting = service.Context(ctx.settings, enqueue_reconcile_later=lambda j, s: later.append((j, s)))
    long_ago = st.utcnow() - ctx.settings.running_stale * 2
    parent = _job(ctx, status="running", heartbeat_at=long_ago, celery_task_id="x:0")
    _job(ctx, kind="part", parent_id=parent, part_index=0, part_count=1)  # still queued behind a backlog
    newer = _job(ctx)
    assert not service.start_job(waiting, newer, service.Delivery("n", 0))
    assert later == [(newer, ctx.settings.defer_s)]


def test_a_lost_run_that_must_wait_goes_back_in_line_or_is_superseded(ctx: service.Context) -> None:
    later: list[tuple[int, float]] = []
    waiting = service.Context(ctx.settings, enqueue_reconcile_later=lambda j, s: later.append((j, s)))
    other = _job(ctx, status="running", heartbeat_at=st.utcnow(), celery_task_id="o:0")
    lost = _job(ctx, status="running", heartbeat_at=st.utcnow(), celery_task_id="l:0")
    assert not service.start_job(
        waiting, lost, service.Delivery("l", 0)
    )  # its message back; the month is running elsewhere
    job = _get(ctx, lost)
    assert (job.status, job.lost_workers) == ("queued", 0) and later == [(lost, ctx.settings.defer_s)]
    with st.session_scope(ctx.engine) as s:  # it ran again and was lost again; meanwhile a job was queued
        j = s.get_one(st.Job, lost)
        j.status, j.heartbeat_at, j.celery_task_id = "running", st.utcnow(), "l:0"
    queued = _job(ctx)
    assert not service.start_job(waiting, lost, service.Delivery("l", 0))
    job = _get(ctx, lost)
    assert job.status == "done" and job.result == {"same_as": queued}
    assert _get(ctx, other).status == "running"


def test_an_earlier_month_arriving_late_queues_the_later_months_again(ctx: service.Context) -> None:
    """October reconciled first, September's claims later: October reads September (再診,
    returns), so it is queued again with September; a month beyond the window is not."""
    enqueued: list[int] = []
    october = service.accept_upload(ctx, "C1", SAMPLES / "2026-10" / "receipts_2026-10.xlsx")[0]
    service.register_upload(ctx, october, enqueued.append)
    with st.session_scope(ctx.engine) as s:
        first = s.scalars(select(st.Job)).one()
        first.status = "done"  # reconciled
        far = st.Upload(
            clinic_id="C1", sha256="f" * 64, original_name="x.csv", stored_path="x", size=1, claim_month="2027-10"
        )
        s.add(far)
    september = service.accept_upload(ctx, "C1", SAMPLES / "2026-09" / "receipts_2026-09.xlsx")[0]
    service.register_upload(ctx, september, enqueued.append)
    with st.session_scope(ctx.engine) as s:
        queued = {j.claim_month for j in s.scalars(select(st.Job).where(st.Job.status == "queued"))}
    assert queued == {"2026-09", "2026-10"}
