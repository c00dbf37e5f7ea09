"""The worker's application logic, called by the thin Celery tasks (``tasks/``).

Everything here takes IDs, works against the database (``worker.jobs.storage``) and the data
folder, and is safe to run twice: uploads are content-addressed, findings are keyed
deterministically and replaced per clinic-month, a nightly run is unique per date.

Fault handling lives here too (the tasks hold no logic):
- every attempt of a job is counted in the database when it starts; a job whose worker
  died ``MAX_LOST_WORKERS`` times (a poison input) is failed with a stored error instead
  of being redelivered forever;
- ``sweep`` re-enqueues what the broker lost (Redis keeps nothing on disk here): uploads
  accepted but never reconciled, and jobs queued or running for too long.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from worker.config import Settings
from worker.engine import split
from worker.engine.pipeline import file_statuses, period_of
from worker.engine.reconcile import combine, reconcile_stacked
from worker.engine.results import FileStatus, ReturnsSummary, RunSummary
from worker.jobs import storage as st
from worker.normalise.typed import months_of
from worker.reading.read import SUFFIXES, discover, read_all, read_file
from worker.reading.tables import FileProblem
from worker.reports import write_reports

log = logging.getLogger(__name__)

JST: Final = ZoneInfo("Asia/Tokyo")
#: a job whose worker process died this many times is failed (poison input)
MAX_LOST_WORKERS: Final = 3
#: months before the job's month whose uploads are read too (再診, returns of earlier claims)
LOOKBACK_MONTHS: Final = 12
#: a queued job (or accepted upload) older than this is re-enqueued by the sweeper
STALE_AFTER: Final = timedelta(seconds=int(os.environ.get("HENREI_SWEEP_STALE_S", "300")))
#: a running job without a heartbeat for this long lost its worker (above the task time limit)
RUNNING_STALE_AFTER: Final = timedelta(seconds=int(os.environ.get("HENREI_RUNNING_STALE_S", "4200")))
#: fault injection for tests of worker loss: an upload whose name contains this marker
#: kills the worker process that reconciles it (only when the variable is set), on the
#: first ``HENREI_FAULT_KILL_ATTEMPTS`` attempts (default: every attempt — a poison file),
#: at the stage ``HENREI_FAULT_KILL_STAGE`` names: "reconcile" (default; before reading),
#: "part" (a part of a split month, before its rules) or "combine" (the last part, combining)
FAULT_KILL_ENV: Final = "HENREI_FAULT_KILL_MARKER"

#: a reconcile job waits (re-enqueued after this many seconds) while its month is being
#: reconciled by another job or files of its clinic are still being read
DEFER_S: Final = float(os.environ.get("HENREI_DEFER_S", "5"))
#: ... but not longer than this after it was queued (then it runs with what is read)
MAX_DEFER: Final = timedelta(seconds=int(os.environ.get("HENREI_MAX_DEFER_S", "1800")))

Enqueue = Callable[[int], None]
EnqueueLater = Callable[[int, float], None]


@dataclass(frozen=True)
class Context:
    """What every service call needs: settings and an engine on the database."""

    settings: Settings
    #: enqueues one part of a split month (None: months are never split, each runs in-process)
    enqueue_part: Enqueue | None = None
    #: enqueues a reconcile job again after a delay (None: jobs never wait, see ``DEFER_S``)
    enqueue_reconcile_later: EnqueueLater | None = None

    @property
    def engine(self) -> st.Engine:
        return _engine(self.settings.database_url)


_ENGINES: dict[str, st.Engine] = {}


def _engine(url: str) -> st.Engine:
    if url not in _ENGINES:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = st.make_engine(url)
        st.upgrade(engine)
        _ENGINES[url] = engine
    return _ENGINES[url]


# ------------------------------------------------------------------ uploads


def accept_upload(ctx: Context, clinic_id: str, path: Path, *, source: str = "upload") -> tuple[int, bool]:
    """Store a file once by content; returns (upload id, whether it is new)."""
    with st.session_scope(ctx.engine) as s:
        upload, created = st.store_upload(s, ctx.settings.data_dir, clinic_id, path, source=source)
        s.flush()
        return upload.id, created


def queue_register(ctx: Context, upload_id: int, enqueue: Enqueue) -> int:
    """A queued job reading the upload (reusing one not finished); returns its ID.

    This is the job ID ``henrei upload`` prints: ``henrei status --job ID`` follows it to
    the reconcile jobs it queues.
    """
    with st.session_scope(ctx.engine) as s:
        upload = s.get(st.Upload, upload_id)
        if upload is None:
            raise LookupError(f"upload {upload_id} does not exist")
        job = s.scalar(
            select(st.Job).where(
                st.Job.kind == "register", st.Job.upload_id == upload_id, st.Job.status.in_(("queued", "running"))
            )
        )
        if job is None:
            job = st.Job(kind="register", clinic_id=upload.clinic_id, upload_id=upload_id, status="queued")
            s.add(job)
        job.enqueued_at = st.utcnow()
        s.flush()
        job_id = job.id
    enqueue(job_id)
    return job_id


def run_register(ctx: Context, job_id: int, enqueue_reconcile: Enqueue) -> None:
    """The register job: read its upload and queue the reconcile jobs of its months.

    The job is finished in the transaction that queues them, so a reconcile job waiting
    for its clinic's files (``_must_wait``) can start as soon as its message arrives.
    """
    with st.session_scope(ctx.engine) as s:
        job = s.get(st.Job, job_id)
        assert job is not None and job.upload_id is not None
        upload_id = job.upload_id
    for reconcile_id in _register(ctx, upload_id, job_id):
        enqueue_reconcile(reconcile_id)


def register_upload(ctx: Context, upload_id: int, enqueue_reconcile: Enqueue) -> list[int]:
    """Read an upload, find its claim months and queue a reconcile job per month.

    A file that cannot be read fails here with the clerk's message stored on the upload.
    Returns the reconcile job IDs enqueued (a job enqueued a moment ago is not sent again).
    """
    jobs = _register(ctx, upload_id, None)
    for reconcile_id in jobs:
        enqueue_reconcile(reconcile_id)
    return jobs


def _register(ctx: Context, upload_id: int, register_job_id: int | None) -> list[int]:
    """Read the upload (its Arrow output kept by content), store its month and queue (in
    the database) a reconcile job per month it has; finish the register job, if any, in
    the same transaction. Returns the reconcile job IDs to enqueue: while other files of
    the clinic are being read, not one whose message was sent less than ``STALE_AFTER``
    ago (it is waiting in the queue or for its files; a lost one is sent again by the
    sweeper); the clinic's last file read sends them all, so they start at once."""
    with st.session_scope(ctx.engine) as s:
        upload = s.get(st.Upload, upload_id)
        if upload is None:
            raise LookupError(f"upload {upload_id} does not exist")
        clinic, path, name = upload.clinic_id, ctx.settings.data_dir / upload.stored_path, upload.original_name
        cache = _cache_dir(ctx, upload.sha256)
    read = read_file(path, ctx.settings, display=name, cache_dir=cache)
    with st.session_scope(ctx.engine) as s:
        upload = s.get(st.Upload, upload_id)
        job = s.get(st.Job, register_job_id) if register_job_id is not None else None
        assert upload is not None
        if isinstance(read, FileProblem):
            upload.status, upload.error = "failed", read.message
            if job is not None:
                job.status, job.error, job.finished_at = "failed", read.message, st.utcnow()
            log.warning("upload %s failed to read", upload_id)
            return []
        months = sorted(set().union(*(months_of(t) for t in read)))
        upload.claim_month = months[-1] if months else None
        upload.first_month = months[0] if months else None
        # card records only: the clinic's latest month again; else also the later months that
        # read this one (再診, returns of earlier claims): their results change
        later = _later_months(s, clinic, months[-1]) if months else []
        months = sorted({*months, *later}) if months else _latest_months(s, clinic)
        # the clinic's last file read sends its months' jobs at once (they may be waiting on it)
        last = not _reading(s, clinic, besides=register_job_id)
        queued = [queued_reconcile(s, clinic, m, always=last) for m in months]
        jobs = [job_id for job_id, _ in queued]
        if job is not None:
            job.status, job.finished_at = "done", st.utcnow()
            job.claim_month = upload.claim_month
            job.result = {"months": months, "jobs": jobs}
    return [job_id for job_id, send in queued if send]


def _latest_months(s: st.Session, clinic_id: str) -> list[str]:
    latest = s.scalar(
        select(st.Upload.claim_month)
        .where(st.Upload.clinic_id == clinic_id, st.Upload.claim_month.is_not(None))
        .order_by(st.Upload.claim_month.desc())
        .limit(1)
    )
    return [latest] if latest else []


def _later_months(s: st.Session, clinic_id: str, month: str) -> list[str]:
    """The clinic's months after ``month`` whose window (``LOOKBACK_MONTHS``) includes it."""
    last = str(pd.Period(month, "M") + LOOKBACK_MONTHS)
    return list(
        s.scalars(
            select(st.Upload.claim_month)
            .where(
                st.Upload.clinic_id == clinic_id,
                st.Upload.status != "failed",
                st.Upload.claim_month > month,
                st.Upload.claim_month <= last,
            )
            .distinct()
        )
    )


def _queued_job(s: st.Session, clinic_id: str | None, month: str | None) -> st.Job | None:
    """The clinic-month's queued reconcile job (at most one: a unique index)."""
    return s.scalar(
        select(st.Job).where(
            st.Job.kind == "reconcile",
            st.Job.clinic_id == clinic_id,
            st.Job.claim_month == month,
            st.Job.status == "queued",
        )
    )


def _reading(
    s: st.Session, clinic_id: str | None, *, besides: int | None = None, since: datetime | None = None
) -> bool:
    """Whether files of the clinic are still being read (register jobs queued or running),
    not counting job ``besides``, nor jobs created before ``since``."""
    q = select(st.Job.id).where(
        st.Job.kind == "register", st.Job.clinic_id == clinic_id, st.Job.status.in_(("queued", "running"))
    )
    if besides is not None:
        q = q.where(st.Job.id != besides)
    if since is not None:
        q = q.where(st.Job.created_at > since)
    return s.scalar(q.limit(1)) is not None


def _parts_open() -> Any:
    """SQL: the job (``st.Job``) is a split month with parts still queued or running."""
    part = aliased(st.Job)
    return select(part.id).where(part.parent_id == st.Job.id, part.status.in_(("queued", "running"))).exists()


def queued_reconcile(s: st.Session, clinic_id: str, month: str, *, always: bool = False) -> tuple[int, bool]:
    """The queued reconcile job of the clinic-month (a new one when none is queued), and
    whether to send a message for it: a new job, one not sent for ``STALE_AFTER``, or
    ``always``; its ``enqueued_at`` is then set.

    Two registrations at once may both find none: the unique index on queued reconcile
    jobs lets one insert and sends the other back to take the job it inserted.
    """
    now = st.utcnow()
    for _ in range(5):
        job = _queued_job(s, clinic_id, month)
        if job is not None:
            send = always or job.enqueued_at is None or job.enqueued_at < now - STALE_AFTER
            if send:
                job.enqueued_at = now
            return job.id, send
        try:
            with s.begin_nested():
                job = st.Job(kind="reconcile", clinic_id=clinic_id, claim_month=month, status="queued", enqueued_at=now)
                s.add(job)
            return job.id, True
        except IntegrityError:
            log.info("a reconcile job of %s %s was queued at the same time; taking it", clinic_id, month)
    raise RuntimeError(f"no queued reconcile job for {clinic_id} {month} after 5 tries")


def queue_reconcile(ctx: Context, clinic_id: str, month: str, enqueue: Enqueue) -> int:
    """A queued reconcile job for the clinic-month (reusing one already queued), enqueued."""
    with st.session_scope(ctx.engine) as s:
        job_id, _ = queued_reconcile(s, clinic_id, month, always=True)
    enqueue(job_id)
    return job_id


# ------------------------------------------------------------------ reconcile


def _month_window(month: str) -> tuple[str, str]:
    first = pd.Period(month, "M") - LOOKBACK_MONTHS
    return str(first), month


def start_job(ctx: Context, job_id: int, delivery: str | None) -> bool:
    """Count this attempt and mark the job running; False when it must not run now.

    ``delivery`` names the message: ``"<task id>:<retries>"`` (None in-process). The same
    delivery again means its worker was lost (``acks_late``: the message came back); the
    same task with more retries is Celery's retry after an error (not a lost worker);
    another task ID is a duplicate message.

    False when the job is finished, runs elsewhere, kept killing its workers (then it is
    failed with a stored message), is a part of a split month that has ended, or is a
    reconcile job that has to wait (see :func:`_must_wait`; a queued one is enqueued
    again after ``DEFER_S``, a lost one is sent again by the sweeper).
    True also for a finished part whose worker was lost while combining the month:
    :func:`run_part` then only combines.
    """
    with st.session_scope(ctx.engine) as s:
        peek = s.get(st.Job, job_id)
        if peek is None:
            return False
        # one lock order everywhere: a month's start decisions, the parent, then the job
        if peek.kind == "reconcile" and peek.clinic_id and peek.claim_month:
            st.lock_month_jobs(s, peek.clinic_id, peek.claim_month)
        parent = _locked_job(s, peek.parent_id) if peek.parent_id is not None else None
        job = _locked_job(s, job_id)  # re-read under the lock: a duplicate message sees the first's start
        if job.status == "failed":
            return False
        same, retry = _same_delivery(job.celery_task_id, delivery), _is_retry(job.celery_task_id, delivery)
        if parent is not None and parent.status in ("done", "failed"):
            if job.status in ("queued", "running"):
                job.status, job.finished_at = "failed", st.utcnow()
                job.error = parent.error or "同じ月の照合が終了したため、この分割処理は中止しました。"
            return False
        if job.status == "done":
            if job.kind != "part" or not (same or retry) or parent is None:
                return False
            job.attempts, job.lost_workers = job.attempts + 1, job.lost_workers + (0 if retry else 1)
            if job.lost_workers < MAX_LOST_WORKERS:
                return True
            job.error = _lost_workers_message(job.lost_workers)
            _fail_parent(s, job)
            return False
        lost = False
        if job.status == "running" and not retry:
            fresh = job.heartbeat_at is not None and st.utcnow() - job.heartbeat_at < RUNNING_STALE_AFTER
            if not same and fresh:
                log.info("job %s is running elsewhere; duplicate delivery skipped", job_id)
                return False
            lost = True  # the message came back (acks_late) or the run went stale: its worker was lost
        waits = ctx.enqueue_reconcile_later is not None and job.kind == "reconcile"
        if waits and _must_wait(s, job, registrations=job.status == "queued"):
            if job.status == "running":  # lost while another run of the month started: back in line
                _requeue_or_supersede(s, job)
            if job.status == "queued" and ctx.enqueue_reconcile_later is not None:
                job.enqueued_at = st.utcnow()
                ctx.enqueue_reconcile_later(job_id, DEFER_S)
            return False
        if lost:
            job.lost_workers += 1
        if job.lost_workers >= MAX_LOST_WORKERS:
            job.status = "failed"
            job.finished_at = st.utcnow()
            job.error = _lost_workers_message(job.lost_workers)
            log.error("job %s failed after %d lost workers", job_id, job.lost_workers)
            _fail_parent(s, job)
            _fail_upload(s, job)
            return False
        job.status, job.attempts = "running", job.attempts + 1
        job.started_at = job.heartbeat_at = st.utcnow()
        job.celery_task_id = delivery
    return True


def _requeue_or_supersede(s: st.Session, job: st.Job) -> None:
    """A running reconcile job that lost its worker and must wait for another run of its
    month: queued again, or — when a queued job of the month exists (it reads at least
    the same uploads) — finished as superseded by it."""
    queued = _queued_job(s, job.clinic_id, job.claim_month)
    if queued is None:
        try:
            with s.begin_nested():  # a registration may queue one at this moment (unique index)
                job.status, job.heartbeat_at = "queued", None
            return
        except IntegrityError:
            s.refresh(job)
            queued = _queued_job(s, job.clinic_id, job.claim_month)
    job.status, job.finished_at = "done", st.utcnow()
    job.result = {"same_as": queued.id if queued is not None else None}


def _split_delivery(delivery: str | None) -> tuple[str, int] | None:
    if not delivery:
        return None
    task_id, _, retries = delivery.rpartition(":")
    return (task_id, int(retries)) if task_id and retries.isdigit() else (delivery, 0)


def _same_delivery(stored: str | None, delivery: str | None) -> bool:
    return delivery is not None and stored == delivery


def _is_retry(stored: str | None, delivery: str | None) -> bool:
    """Celery's retry of the task that started the job (same task ID, more retries)."""
    a, b = _split_delivery(stored), _split_delivery(delivery)
    return a is not None and b is not None and a[0] == b[0] and b[1] > a[1]


def _lost_workers_message(times: int) -> str:
    return (
        f"処理中に作業プロセスが{times}回停止したため中止しました"
        "（入力ファイルが原因の可能性があります）。ファイルを確認して再アップロードしてください。"
    )


def _must_wait(s: st.Session, job: st.Job, *, registrations: bool) -> bool:
    """Whether a reconcile job should wait: its month is being reconciled by another job
    (two runs at once could store the older inputs' findings last), or — with
    ``registrations`` — files of its clinic are still being read (it would read them
    itself, and run again after). The caller holds the month's lock (``lock_month_jobs``)."""
    now = st.utcnow()
    other_running = s.scalar(
        select(st.Job.id)
        .where(
            st.Job.kind == "reconcile",
            st.Job.clinic_id == job.clinic_id,
            st.Job.claim_month == job.claim_month,
            st.Job.id != job.id,
            st.Job.status == "running",
            (st.Job.heartbeat_at > now - RUNNING_STALE_AFTER) | _parts_open(),  # a split month waits on its parts
        )
        .limit(1)
    )
    if other_running is not None:
        return True
    if not registrations or now - job.created_at >= MAX_DEFER:
        return False
    return _reading(s, job.clinic_id, since=now - MAX_DEFER)


def run_reconcile(ctx: Context, job_id: int) -> None:
    """Reconcile one clinic-month from every upload it needs; store findings and the list.

    A month with ``split.split_threshold()`` receipts or more is split by patient into
    parts reconciled by other workers (``run_part``); the job stays running until the
    last part finishes and combines them. A part's job given here runs as a part (the
    sweeper re-enqueues lost parts through the reconcile task).
    """
    with st.session_scope(ctx.engine) as s:
        job = s.get(st.Job, job_id)
        assert job is not None
        is_part = job.kind == "part"
        has_parts = s.scalar(select(st.Job.id).where(st.Job.parent_id == job_id).limit(1)) is not None
    if is_part:
        run_part(ctx, job_id)
        return
    if has_parts:  # split by an earlier attempt: carry on with its parts
        _resume_split(ctx, job_id)
        return
    with st.session_scope(ctx.engine) as s:
        job = s.get(st.Job, job_id)
        assert job is not None and job.clinic_id and job.claim_month
        clinic, month, attempt = job.clinic_id, job.claim_month, job.attempts
        first, last = _month_window(month)
        uploads = s.scalars(
            select(st.Upload).where(
                st.Upload.clinic_id == clinic,
                st.Upload.status != "failed",
                # rows in the window: the upload's months [first_month, claim_month] overlap it
                (st.Upload.claim_month.is_(None))
                | (
                    (st.Upload.claim_month >= first)
                    & (func.coalesce(st.Upload.first_month, st.Upload.claim_month) <= last)
                ),
            )
        ).all()
        inputs = [(u.id, ctx.settings.data_dir / u.stored_path, u.original_name) for u in uploads]
        caches = {u.id: _cache_dir(ctx, u.sha256) for u in uploads}
    _fault_injection("reconcile", attempt, [name for _, _, name in inputs])
    upload_ids = sorted(upload_id for upload_id, _, _ in inputs)
    if _already_reconciled(ctx, job_id, upload_ids):
        return
    staging = ctx.settings.data_dir / "staging" / f"job-{job_id}"
    staged = _link_inputs(staging, inputs)
    try:
        read = _read_inputs(staging, ctx.settings, {p: caches[i] for p, i in staged.items()})
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    receipts = read.stacked["receipts"]
    in_month = int((receipts["claim_month"].dt.strftime("%Y-%m") == month).sum())
    if ctx.enqueue_part is not None and in_month >= split.split_threshold():
        _split(ctx, job_id, read, upload_ids)
        return
    t1 = time.perf_counter()
    engine = reconcile_stacked(read.stacked, read.input_findings, with_returns=read.with_returns)
    read.timings["rules"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    summary = _summary(read, engine.returns)
    outputs = write_reports(engine.findings, summary, _out_dir(ctx, clinic, month, job_id), reclaims=engine.reclaims)
    read.timings["write"] = time.perf_counter() - t2
    log.info("job %s done: %d receipts, %d findings", job_id, len(receipts), len(engine.findings))
    _finish(ctx, job_id, engine.findings, outputs, upload_ids, {**_result(read, len(receipts)), "uploads": upload_ids})


def _already_reconciled(ctx: Context, job_id: int, upload_ids: list[int]) -> bool:
    """Finish the job without work when a run of the same month with the same uploads
    finished after it was queued (it was queued while that run was reading them)."""
    with st.session_scope(ctx.engine) as s:
        job = _locked_job(s, job_id)
        done = s.scalars(
            select(st.Job)
            .where(
                st.Job.kind == "reconcile",
                st.Job.clinic_id == job.clinic_id,
                st.Job.claim_month == job.claim_month,
                st.Job.status == "done",
                st.Job.finished_at > job.created_at,
                st.Job.id != job_id,
            )
            .order_by(st.Job.finished_at.desc())
        ).first()
        if done is None or not done.result or done.result.get("uploads") != upload_ids:
            return False
        job.status, job.finished_at = "done", st.utcnow()
        job.result = {"same_as": done.id, "uploads": upload_ids, "findings": done.result.get("findings")}
    log.info("job %s: job %s already reconciled the same uploads", job_id, done.id)
    return True


@dataclass
class _Read:
    """A job's inputs read once: typed tables, input findings and what the summary shows."""

    stacked: dict[str, pd.DataFrame]
    input_findings: pd.DataFrame
    with_returns: bool
    files: list[FileStatus]
    problems: list[FileProblem]
    started_at: datetime
    timings: dict[str, float]


def _cache_dir(ctx: Context, sha256: str) -> Path:
    """Where the reader's Arrow output of an upload is kept (by content: read once)."""
    return ctx.settings.data_dir / "cache" / sha256[:2] / sha256


def _read_inputs(folder: Path, settings: Settings, caches: dict[Path, Path] | None = None) -> _Read:
    """What ``worker.engine.pipeline.reconcile`` reads and says about the files, without reconciling."""
    started = datetime.now()
    t0 = time.perf_counter()
    files, problems = discover([folder])
    tables, read_problems, described = read_all(files, settings, caches)
    problems += read_problems
    stacked, input_findings = combine(tables, release=True)
    statuses = file_statuses(described, problems, no_receipts=bool(tables) and stacked["receipts"].empty)
    return _Read(
        stacked=stacked,
        input_findings=input_findings,
        with_returns=any(t.kind == "returns" for t in tables),
        files=statuses,
        problems=problems,
        started_at=started,
        timings={"read": time.perf_counter() - t0},
    )


def _summary(read: _Read, returns: ReturnsSummary | None) -> RunSummary:
    receipts = read.stacked["receipts"]
    return RunSummary(
        period=period_of(receipts),
        files=read.files,
        receipts=len(receipts),
        started_at=read.started_at,
        returns=returns,
        finished_at=datetime.now(),
    )


def _result(read: _Read, receipts: int) -> dict[str, Any]:
    return {
        "receipts": receipts,
        "file_problems": [{"file": p.file, "message": p.message} for p in read.problems],
        "seconds": {k: round(v, 3) for k, v in read.timings.items()},
    }


def _out_dir(ctx: Context, clinic: str, month: str, job_id: int) -> Path:
    return ctx.settings.data_dir / "reports" / clinic / month / f"job-{job_id}"


def _locked_job(s: st.Session, job_id: int) -> st.Job:
    """The job's row, locked for the rest of the transaction (PostgreSQL: FOR UPDATE;
    SQLite's BEGIN IMMEDIATE already holds the database's write lock)."""
    return s.execute(
        select(st.Job).where(st.Job.id == job_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def _finish(
    ctx: Context,
    job_id: int,
    findings: pd.DataFrame,
    outputs: tuple[Path, ...],
    upload_ids: list[int],
    result: dict[str, Any],
) -> None:
    """Store the month's findings and correction list; the uploads reconciled, the job done."""
    with st.session_scope(ctx.engine) as s:
        job = _locked_job(s, job_id)
        if job.status == "done":  # a split month combined twice (a part and the sweeper): once is enough
            return
        assert job.clinic_id and job.claim_month
        clinic, month = job.clinic_id, job.claim_month
        mine = findings[(findings["claim_month"] == month) | (findings["claim_month"] == "")]
        stored = st.replace_findings(s, clinic, month, job_id, mine)
        xlsx, js = outputs
        s.add(
            st.CorrectionList(
                clinic_id=clinic,
                claim_month=month,
                job_id=job_id,
                xlsx_path=str(xlsx.relative_to(ctx.settings.data_dir)),
                json_path=str(js.relative_to(ctx.settings.data_dir)),
            )
        )
        for upload_id in upload_ids:
            upload = s.get(st.Upload, upload_id)
            if upload is not None and upload.status == "accepted":
                upload.status = "reconciled"
        job.status, job.finished_at = "done", st.utcnow()
        job.result = {"findings": stored, **result}


# ------------------------------------------------------------------ split months


def _split(ctx: Context, job_id: int, read: _Read, upload_ids: list[int]) -> None:
    """Write the month's parts, create their jobs and enqueue them; the job stays running."""
    assert ctx.enqueue_part is not None
    n = split.split_parts()
    t0 = time.perf_counter()
    parts = split.partition(read.stacked, n)
    receipts = read.stacked["receipts"]
    meta = {
        "uploads": upload_ids,
        "with_returns": read.with_returns,
        "receipts": len(receipts),
        "period": period_of(receipts),
        "files": [asdict(f) for f in read.files],
        "file_problems": [{"file": p.file, "message": p.message} for p in read.problems],
        "started_at": read.started_at.isoformat(),
        "seconds": {**read.timings, "split": time.perf_counter() - t0},
    }
    split.write_parts(split.job_dir(ctx.settings.data_dir, job_id), parts, read.input_findings, meta)
    with st.session_scope(ctx.engine) as s:
        parent = _locked_job(s, job_id)
        jobs = [
            st.Job(
                kind="part",
                clinic_id=parent.clinic_id,
                claim_month=parent.claim_month,
                parent_id=job_id,
                part_index=k,
                part_count=n,
                status="queued",
                enqueued_at=st.utcnow(),
            )
            for k in range(n)
        ]
        s.add_all(jobs)
        parent.heartbeat_at = st.utcnow()
        s.flush()
        part_ids = [j.id for j in jobs]
    log.info("job %s split into %d parts (%d receipts)", job_id, n, len(receipts))
    for part_id in part_ids:
        ctx.enqueue_part(part_id)


def _resume_split(ctx: Context, job_id: int) -> None:
    """A split job run again (redelivered, or swept as stale): combine its parts when all
    are done, else enqueue those not finished (in this process when nothing can enqueue)."""
    with st.session_scope(ctx.engine) as s:
        parts = s.scalars(select(st.Job).where(st.Job.parent_id == job_id).order_by(st.Job.part_index)).all()
        statuses = {p.id: p.status for p in parts}
        failed = next((p.error or "" for p in parts if p.status == "failed"), None)
        job = s.get(st.Job, job_id)
        assert job is not None
        job.heartbeat_at = st.utcnow()
        if ctx.enqueue_part is not None:
            for p in parts:
                if p.status != "done":
                    p.enqueued_at = st.utcnow()
    if failed is not None:
        fail_job(ctx, job_id, failed or "分割した処理の一部が失敗しました。")
        return
    if all(v == "done" for v in statuses.values()):
        _combine_parts(ctx, job_id)
        return
    for part_id, status in statuses.items():
        if status == "done":
            continue
        if ctx.enqueue_part is not None:
            ctx.enqueue_part(part_id)
        elif start_job(ctx, part_id, None):
            run_part(ctx, part_id)


def run_part(ctx: Context, job_id: int) -> None:
    """Reconcile one part of a split month; the last part to finish combines them all."""
    with st.session_scope(ctx.engine) as s:
        job = s.get(st.Job, job_id)
        assert job is not None and job.parent_id is not None and job.part_index is not None
        parent_id, k, n, attempt = job.parent_id, job.part_index, job.part_count, job.attempts
        parent = s.get(st.Job, parent_id)
        assert parent is not None
        parent.heartbeat_at = st.utcnow()
        combine_only = job.status == "done"  # see start_job: the worker combining it was lost
    if combine_only:
        log.info("part %s of job %s: its worker was lost while combining; combining", job_id, parent_id)
        _resume_split(ctx, parent_id)
        return
    root = split.job_dir(ctx.settings.data_dir, parent_id)
    d = split.part_dir(ctx.settings.data_dir, parent_id, k)
    meta = json.loads((root / "meta.json").read_text())
    names = [f["path"] for f in meta["files"]]
    _fault_injection("part", attempt, names)
    t0 = time.perf_counter()
    tables, pos = split.load_part(d)
    input_findings = split.read_frame(root / "input_findings.parquet")
    result = reconcile_stacked(tables, input_findings, with_returns=meta["with_returns"], keep_input=False)
    split.write_part_result(d, result, pos)
    with st.session_scope(ctx.engine) as s:
        parent = _locked_job(s, parent_id)  # one part at a time sees the others' statuses
        job = s.get(st.Job, job_id)
        assert job is not None
        job.status, job.finished_at = "done", st.utcnow()
        job.result = {
            "findings": len(result.findings),
            "receipts": len(tables["receipts"]),
            "seconds": round(time.perf_counter() - t0, 3),
        }
        parent.heartbeat_at = st.utcnow()
        s.flush()
        statuses = s.scalars(select(st.Job.status).where(st.Job.parent_id == parent_id)).all()
        last = parent.status == "running" and len(statuses) == n and all(x == "done" for x in statuses)
    log.info("part %s (%d of job %s) done%s", job_id, k, parent_id, "; combining" if last else "")
    if last:
        _fault_injection("combine", attempt, names)
        _combine_parts(ctx, parent_id)


def _combine_parts(ctx: Context, job_id: int) -> None:
    """The split month's result from its parts, stored as one run would store it."""
    root = split.job_dir(ctx.settings.data_dir, job_id)
    meta = json.loads((root / "meta.json").read_text())
    with st.session_scope(ctx.engine) as s:
        job = s.get(st.Job, job_id)
        assert job is not None and job.clinic_id and job.claim_month
        clinic, month = job.clinic_id, job.claim_month
    t0 = time.perf_counter()
    combined = split.combine_parts(root, int(meta["part_count"]), bool(meta["with_returns"]))
    summary = RunSummary(
        period=meta["period"],
        files=[FileStatus(**f) for f in meta["files"]],
        receipts=int(meta["receipts"]),
        started_at=datetime.fromisoformat(meta["started_at"]),
        returns=combined.returns,
        finished_at=datetime.now(),
    )
    outputs = write_reports(
        combined.findings, summary, _out_dir(ctx, clinic, month, job_id), reclaims=combined.reclaims
    )
    seconds = {**meta["seconds"], "combine": time.perf_counter() - t0}
    result = {
        "receipts": int(meta["receipts"]),
        "file_problems": meta["file_problems"],
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "parts": int(meta["part_count"]),
        "uploads": sorted(meta["uploads"]),
    }
    _finish(ctx, job_id, combined.findings, outputs, list(meta["uploads"]), result)
    shutil.rmtree(root, ignore_errors=True)
    log.info("job %s done from %d parts: %d findings", job_id, meta["part_count"], len(combined.findings))


def _fault_injection(stage: str, attempt: int, names: list[str]) -> None:
    """Kill this process when a test asks for it (see ``FAULT_KILL_ENV``); no-op otherwise."""
    marker = os.environ.get(FAULT_KILL_ENV)
    times = int(os.environ.get("HENREI_FAULT_KILL_ATTEMPTS", "1000000"))
    at = os.environ.get("HENREI_FAULT_KILL_STAGE", "reconcile")
    if marker and stage == at and attempt <= times and any(marker in n for n in names):
        if os.environ.get("HENREI_FAULT_RAISE"):  # an error in the code instead of a lost process
            raise RuntimeError(f"fault injected: {os.environ['HENREI_FAULT_RAISE']}")
        os.kill(os.getpid(), signal.SIGKILL)


def _link_inputs(staging: Path, inputs: list[tuple[int, Path, str]]) -> dict[Path, int]:
    """A folder of the job's inputs under their original names (hard links, no copies);
    returns each staged path's upload ID."""
    staging.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    staged: dict[Path, int] = {}
    for upload_id, path, name in inputs:
        safe = Path(name).name or f"upload-{upload_id}"
        if safe in used or Path(safe).suffix.lower() not in SUFFIXES:
            safe = f"{upload_id}-{safe}"
        used.add(safe)
        target = staging / safe
        if target.exists():
            target.unlink()
        try:
            os.link(path, target)
        except OSError:
            target.symlink_to(path)
        staged[target] = upload_id
    return staged


def fail_job(ctx: Context, job_id: int, message: str, delivery: str | None = None) -> bool:
    """Fail a job with a stored message; returns whether it was failed.

    With ``delivery`` (a task's failure), only the job that delivery's task started, and
    only while it is queued or running: a copy of the message failing must not fail the
    job another delivery runs or has finished. A part that finished but raised while
    combining fails its month.
    """
    with st.session_scope(ctx.engine) as s:
        peek = s.get(st.Job, job_id)
        if peek is None:
            return False
        parent = _locked_job(s, peek.parent_id) if peek.parent_id is not None else None  # parent, then job
        job = _locked_job(s, job_id)
        mine = delivery is None or _same_task(job.celery_task_id, delivery)
        if not mine:
            return False
        if job.status == "done":
            if job.kind != "part" or parent is None or parent.status != "running" or delivery is None:
                return False
            job.error = message
            _fail_parent(s, job)
            return True
        if job.status not in ("queued", "running"):
            return False
        job.status, job.error, job.finished_at = "failed", message, st.utcnow()
        _fail_parent(s, job)
        _fail_upload(s, job)
        return True


def _same_task(stored: str | None, delivery: str) -> bool:
    a, b = _split_delivery(stored), _split_delivery(delivery)
    return a is not None and b is not None and a[0] == b[0]


def _fail_parent(s: st.Session, job: st.Job) -> None:
    """A failed part fails the split month it belongs to, with the part's message."""
    if job.parent_id is None:
        return
    parent = s.get(st.Job, job.parent_id)
    if parent is not None and parent.status not in ("done", "failed"):
        parent.status, parent.error, parent.finished_at = "failed", job.error, st.utcnow()


def _fail_upload(s: st.Session, job: st.Job) -> None:
    """A register job failed: its upload cannot be read (reconcile jobs leave it out)."""
    if job.kind != "register" or job.upload_id is None:
        return
    upload = s.get(st.Upload, job.upload_id)
    if upload is not None:
        upload.status, upload.error = "failed", job.error


# ------------------------------------------------------------------ nightly and sweeper


def nightly(
    ctx: Context, drop_root: Path, enqueue_register: Enqueue, today: date | None = None, task_id: str | None = None
) -> int | None:
    """The 02:00 run: pick up new or changed files from each clinic's drop folder.

    Returns the nightly run ID, or None when another beat already ran tonight. The same
    task again (Celery's retry after an error, or its message back after a lost worker)
    resumes tonight's unfinished run: the scan is safe to repeat.
    """
    run_date = today or datetime.now(JST).date()
    try:
        with st.session_scope(ctx.engine) as s:
            run = st.NightlyRun(run_date=run_date, status="running", task_id=task_id)
            s.add(run)
            s.flush()
            run_id = run.id
    except IntegrityError:
        with st.session_scope(ctx.engine) as s:
            run = s.scalars(select(st.NightlyRun).where(st.NightlyRun.run_date == run_date)).one()
            resume = task_id is not None and run.task_id == task_id and run.status == "running"
            run_id = run.id
        if not resume:
            log.info("nightly run for %s already exists; skipping", run_date)
            return None
        log.info("nightly run %s resumed by its task", run_id)
    report = scan_drop_folders(ctx, drop_root, enqueue_register)
    with st.session_scope(ctx.engine) as s:
        done = s.get(st.NightlyRun, run_id)
        assert done is not None
        done.status, done.finished_at = "done", st.utcnow()
        done.report = report
    return run_id


def queue_pickup(ctx: Context, enqueue: Enqueue) -> int:
    """A job picking up the drop folders now (``henrei nightly``), besides the 02:00 run."""
    with st.session_scope(ctx.engine) as s:
        job = st.Job(kind="nightly", status="queued", enqueued_at=st.utcnow())
        s.add(job)
        s.flush()
        job_id = job.id
    enqueue(job_id)
    return job_id


def run_pickup(ctx: Context, job_id: int, drop_root: Path, enqueue_register: Enqueue) -> None:
    """The pick-up job: scan the drop folders; its result lists the register jobs queued."""
    report = scan_drop_folders(ctx, drop_root, enqueue_register)
    with st.session_scope(ctx.engine) as s:
        job = s.get(st.Job, job_id)
        assert job is not None
        job.status, job.finished_at, job.result = "done", st.utcnow(), report


#: a drop file modified this recently may still be being written: it waits for the next run
SETTLE_S: Final = float(os.environ.get("HENREI_DROP_SETTLE_S", "60"))


def scan_drop_folders(ctx: Context, drop_root: Path, enqueue_register: Enqueue) -> dict[str, Any]:
    """Upload new or changed files of every clinic's drop folder and queue their reading.

    Returns the run's report: uploads accepted, their register jobs, files left for the
    next run (still being written) and problems (a file that cannot be taken, in Japanese).
    """
    accepted: list[int] = []
    jobs: list[int] = []
    waiting: list[str] = []
    problems: list[str] = []
    now = time.time()
    for clinic_dir in sorted(p for p in drop_root.iterdir() if p.is_dir()) if drop_root.exists() else []:
        for f in sorted(clinic_dir.rglob("*")):
            if not f.is_file() or f.suffix.lower() not in SUFFIXES or f.name.startswith(("~$", ".")):
                continue
            where = f"{clinic_dir.name}/{f.relative_to(clinic_dir)}"
            try:
                if now - f.stat().st_mtime < SETTLE_S:
                    waiting.append(where)
                    continue
                if _seen_unchanged(ctx, clinic_dir.name, drop_root, f):
                    continue
                upload_id, created = accept_upload(ctx, clinic_dir.name, f, source="drop")
                _remember(ctx, clinic_dir.name, drop_root, f, upload_id)
            except ValueError:
                problems.append(f"{where}: フォルダ名「{clinic_dir.name}」は医療機関IDに使えません")
                continue
            except OSError as exc:
                problems.append(f"{where}: ファイルを読めません（{exc.strerror or exc.__class__.__name__}）")
                continue
            if created:
                accepted.append(upload_id)
                jobs.append(queue_register(ctx, upload_id, enqueue_register))
    if waiting:
        log.info("%d drop file(s) still being written; left for the next run", len(waiting))
    return {"uploads": accepted, "jobs": jobs, "waiting": waiting, "problems": problems}


def _seen_unchanged(ctx: Context, clinic: str, root: Path, f: Path) -> bool:
    stat = f.stat()
    rel = str(f.relative_to(root))
    with st.session_scope(ctx.engine) as s:
        seen = s.scalar(select(st.DropFile).where(st.DropFile.clinic_id == clinic, st.DropFile.path == rel))
        return seen is not None and seen.size == stat.st_size and seen.mtime_ns == stat.st_mtime_ns


def _remember(ctx: Context, clinic: str, root: Path, f: Path, upload_id: int) -> None:
    try:
        _remember_once(ctx, clinic, root, f, upload_id)
    except IntegrityError:  # another scan remembered it at the same moment: update that row
        _remember_once(ctx, clinic, root, f, upload_id)


def _remember_once(ctx: Context, clinic: str, root: Path, f: Path, upload_id: int) -> None:
    stat = f.stat()
    rel = str(f.relative_to(root))
    with st.session_scope(ctx.engine) as s:
        upload = s.get(st.Upload, upload_id)
        assert upload is not None
        seen = s.scalar(select(st.DropFile).where(st.DropFile.clinic_id == clinic, st.DropFile.path == rel))
        if seen is None:
            seen = st.DropFile(clinic_id=clinic, path=rel, size=0, mtime_ns=0, sha256="")
            s.add(seen)
        seen.size, seen.mtime_ns, seen.sha256, seen.seen_at = stat.st_size, stat.st_mtime_ns, upload.sha256, st.utcnow()


def sweep(
    ctx: Context,
    enqueue_register: Enqueue,
    enqueue_reconcile: Enqueue,
    enqueue_pickup: Enqueue | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Re-enqueue what the broker may have lost; every accepted upload ends reconciled.

    Uploads accepted without a register job (the process died between the two) get one.
    A job is sent again when it has been queued, or running without a heartbeat
    (``RUNNING_STALE_AFTER``), and no message was sent for it for ``STALE_AFTER`` —
    once per that interval, not on every sweep. A split month whose parts are still
    queued or running is left to its parts (each is swept on its own). ``start_job``
    skips a copy whose job runs elsewhere; a part runs again through the reconcile task.
    """
    now = now or st.utcnow()
    stale = now - STALE_AFTER
    with st.session_scope(ctx.engine) as s:
        has_job = select(st.Job.id).where(st.Job.kind == "register", st.Job.upload_id == st.Upload.id).exists()
        uploads = s.scalars(
            select(st.Upload.id).where(st.Upload.status == "accepted", st.Upload.received_at < stale, ~has_job)
        ).all()
        jobs = s.scalars(
            select(st.Job)
            .where(
                st.Job.kind.in_(("register", "reconcile", "part", "nightly")),
                func.coalesce(st.Job.enqueued_at, st.Job.created_at) < stale,
                (st.Job.status == "queued")
                | ((st.Job.status == "running") & (st.Job.heartbeat_at < now - RUNNING_STALE_AFTER) & ~_parts_open()),
            )
            .order_by(st.Job.id)
            .with_for_update(skip_locked=True, of=st.Job)  # a row another transaction holds: next sweep
        ).all()
        for job in jobs:
            job.enqueued_at = now
        sends = [(job.id, job.kind) for job in jobs]
    for upload_id in uploads:
        queue_register(ctx, upload_id, enqueue_register)
    by_kind = {"register": enqueue_register, "nightly": enqueue_pickup}
    for job_id, kind in sends:
        enqueue = by_kind.get(kind, enqueue_reconcile)
        if enqueue is not None:
            enqueue(job_id)
    removed = remove_leftovers(ctx)
    return {"uploads": len(uploads), "jobs": len(sends), "removed": removed}


def remove_leftovers(ctx: Context) -> int:
    """Remove the working folders (split parts, staging) of jobs that have ended — a failed
    split month, or a cleanup lost with its worker; a running job's folders are kept."""
    folders: dict[int, list[Path]] = {}
    for parent in (ctx.settings.data_dir / "parts", ctx.settings.data_dir / "staging"):
        # job-N, and .job-N.<random>.tmp left by a worker killed while writing the parts
        for d in parent.glob("*job-*") if parent.is_dir() else []:
            name = d.name.removeprefix(".").removeprefix("job-").split(".")[0]
            if name.isdigit() and (d.name.startswith("job-") or d.name.endswith(".tmp")):
                folders.setdefault(int(name), []).append(d)
    if not folders:
        return 0
    with st.session_scope(ctx.engine) as s:
        ended = set(s.scalars(select(st.Job.id).where(st.Job.id.in_(folders), st.Job.status.in_(("done", "failed")))))
    removed = 0
    for job_id in ended:
        for d in folders[job_id]:
            shutil.rmtree(d, ignore_errors=True)
            removed += 1
    if removed:
        log.info("removed %d working folder(s) of ended jobs", removed)
    return removed
