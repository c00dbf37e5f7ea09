"""The worker's application logic, called by the thin Celery tasks (``tasks/``).

Everything here takes IDs, works against the database (``worker.storage``) and the data
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

import logging
import os
import shutil
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from worker import storage as st
from worker.config import Settings
from worker.engine import combine
from worker.pipeline import reconcile
from worker.reading import SUFFIXES, read_file
from worker.tables import FileProblem

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
#: first ``HENREI_FAULT_KILL_ATTEMPTS`` attempts (default: every attempt — a poison file)
FAULT_KILL_ENV: Final = "HENREI_FAULT_KILL_MARKER"

Enqueue = Callable[[int], None]


@dataclass(frozen=True)
class Context:
    """What every service call needs: settings and an engine on the database."""

    settings: Settings

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


def _months(tables: Iterable[pd.DataFrame]) -> set[str]:
    months: set[str] = set()
    for t in tables:
        for col in ("claim_month", "checked_on"):
            if col in t and len(t):
                months |= set(t[col].dropna().dt.strftime("%Y-%m"))
    return months


def register_upload(ctx: Context, upload_id: int, enqueue_reconcile: Enqueue) -> list[int]:
    """Read an upload, find its claim months and queue a reconcile job per month.

    A file that cannot be read fails here with the clerk's message stored on the upload.
    Returns the reconcile job IDs queued.
    """
    with st.session_scope(ctx.engine) as s:
        upload = s.get(st.Upload, upload_id)
        if upload is None:
            raise LookupError(f"upload {upload_id} does not exist")
        clinic, path, name = upload.clinic_id, ctx.settings.data_dir / upload.stored_path, upload.original_name
    read = read_file(path, ctx.settings, display=name)
    if isinstance(read, FileProblem):
        with st.session_scope(ctx.engine) as s:
            upload = s.get(st.Upload, upload_id)
            assert upload is not None
            upload.status, upload.error = "failed", read.message
        log.warning("upload %s failed to read", upload_id)
        return []
    stacked, _ = combine(read)
    months = sorted(_months(stacked.values()))
    with st.session_scope(ctx.engine) as s:
        upload = s.get(st.Upload, upload_id)
        assert upload is not None
        upload.claim_month = months[-1] if months else None
    if not months:  # card records only: reconcile the clinic's latest month again
        months = _latest_months(ctx, clinic)
    return [queue_reconcile(ctx, clinic, m, enqueue_reconcile) for m in months]


def _latest_months(ctx: Context, clinic_id: str) -> list[str]:
    with st.session_scope(ctx.engine) as s:
        latest = s.scalar(
            select(st.Upload.claim_month)
            .where(st.Upload.clinic_id == clinic_id, st.Upload.claim_month.is_not(None))
            .order_by(st.Upload.claim_month.desc())
            .limit(1)
        )
    return [latest] if latest else []


def queue_reconcile(ctx: Context, clinic_id: str, month: str, enqueue: Enqueue) -> int:
    """A queued reconcile job for the clinic-month (reusing one already queued)."""
    with st.session_scope(ctx.engine) as s:
        job = s.scalar(
            select(st.Job).where(
                st.Job.kind == "reconcile",
                st.Job.clinic_id == clinic_id,
                st.Job.claim_month == month,
                st.Job.status == "queued",
            )
        )
        if job is None:
            job = st.Job(kind="reconcile", clinic_id=clinic_id, claim_month=month, status="queued")
            s.add(job)
            s.flush()
        job_id = job.id
    enqueue(job_id)
    return job_id


# ------------------------------------------------------------------ reconcile


def _month_window(month: str) -> tuple[str, str]:
    first = pd.Period(month, "M") - LOOKBACK_MONTHS
    return str(first), month


def start_job(ctx: Context, job_id: int, task_id: str | None) -> bool:
    """Count this attempt; False (and the job failed) when its workers kept dying."""
    with st.session_scope(ctx.engine) as s:
        job = s.get(st.Job, job_id)
        if job is None or job.status == "done" or job.status == "failed":
            return False
        if job.status == "running":
            same_message = task_id is not None and task_id == job.celery_task_id
            fresh = job.heartbeat_at is not None and st.utcnow() - job.heartbeat_at < RUNNING_STALE_AFTER
            if not same_message and fresh:
                log.info("job %s is running elsewhere; duplicate delivery skipped", job_id)
                return False
            # the message came back (acks_late) or the run went stale: its worker was lost
            job.lost_workers += 1
        if job.lost_workers >= MAX_LOST_WORKERS:
            job.status = "failed"
            job.finished_at = st.utcnow()
            job.error = (
                f"処理中に作業プロセスが{job.lost_workers}回停止したため中止しました"
                "（入力ファイルが原因の可能性があります）。ファイルを確認して再アップロードしてください。"
            )
            log.error("job %s failed after %d lost workers", job_id, job.lost_workers)
            return False
        job.status, job.attempts = "running", job.attempts + 1
        job.started_at = job.heartbeat_at = st.utcnow()
        job.celery_task_id = task_id
    return True


def run_reconcile(ctx: Context, job_id: int) -> None:
    """Reconcile one clinic-month from every upload it needs; store findings and the list."""
    with st.session_scope(ctx.engine) as s:
        job = s.get(st.Job, job_id)
        assert job is not None and job.clinic_id and job.claim_month
        clinic, month, attempt = job.clinic_id, job.claim_month, job.attempts
        first, last = _month_window(month)
        uploads = s.scalars(
            select(st.Upload).where(
                st.Upload.clinic_id == clinic,
                st.Upload.status != "failed",
                (st.Upload.claim_month.is_(None))
                | ((st.Upload.claim_month >= first) & (st.Upload.claim_month <= last)),
            )
        ).all()
        inputs = [(u.id, ctx.settings.data_dir / u.stored_path, u.original_name) for u in uploads]
    _fault_injection(attempt, [name for _, _, name in inputs])
    out_dir = ctx.settings.data_dir / "reports" / clinic / month / f"job-{job_id}"
    staging = ctx.settings.data_dir / "staging" / f"job-{job_id}"
    _link_inputs(staging, inputs)
    try:
        result = reconcile([staging], out_dir, ctx.settings)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    found = result.findings
    mine = found[(found["claim_month"] == month) | (found["claim_month"] == "")]
    with st.session_scope(ctx.engine) as s:
        stored = st.replace_findings(s, clinic, month, job_id, mine)
        xlsx, js = result.outputs
        s.add(
            st.CorrectionList(
                clinic_id=clinic,
                claim_month=month,
                job_id=job_id,
                xlsx_path=str(xlsx.relative_to(ctx.settings.data_dir)),
                json_path=str(js.relative_to(ctx.settings.data_dir)),
            )
        )
        for upload_id, _, _ in inputs:
            upload = s.get(st.Upload, upload_id)
            if upload is not None and upload.status == "accepted":
                upload.status = "reconciled"
        job = s.get(st.Job, job_id)
        assert job is not None
        job.status, job.finished_at = "done", st.utcnow()
        job.result = {
            "findings": stored,
            "receipts": result.summary.receipts,
            "file_problems": [{"file": p.file, "message": p.message} for p in result.problems],
            "seconds": {k: round(v, 3) for k, v in result.timings.items()},
        }


def _fault_injection(attempt: int, names: list[str]) -> None:
    """Kill this process when a test asks for it (see ``FAULT_KILL_ENV``); no-op otherwise."""
    marker = os.environ.get(FAULT_KILL_ENV)
    times = int(os.environ.get("HENREI_FAULT_KILL_ATTEMPTS", "1000000"))
    if marker and attempt <= times and any(marker in n for n in names):
        os.kill(os.getpid(), signal.SIGKILL)


def _link_inputs(staging: Path, inputs: list[tuple[int, Path, str]]) -> None:
    """A folder of the job's inputs under their original names (hard links, no copies)."""
    staging.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
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


def fail_job(ctx: Context, job_id: int, message: str) -> None:
    with st.session_scope(ctx.engine) as s:
        job = s.get(st.Job, job_id)
        if job is not None:
            job.status, job.error, job.finished_at = "failed", message, st.utcnow()


# ------------------------------------------------------------------ nightly and sweeper


def nightly(ctx: Context, drop_root: Path, enqueue_register: Enqueue, today: date | None = None) -> int | None:
    """The 02:00 run: pick up new or changed files from each clinic's drop folder.

    Returns the nightly run ID, or None when another beat already ran tonight.
    """
    run_date = today or datetime.now(JST).date()
    try:
        with st.session_scope(ctx.engine) as s:
            run = st.NightlyRun(run_date=run_date, status="running")
            s.add(run)
            s.flush()
            run_id = run.id
    except IntegrityError:
        log.info("nightly run for %s already exists; skipping", run_date)
        return None
    accepted: list[int] = []
    problems: list[str] = []
    for clinic_dir in sorted(p for p in drop_root.iterdir() if p.is_dir()) if drop_root.exists() else []:
        for f in sorted(clinic_dir.rglob("*")):
            if not f.is_file() or f.suffix.lower() not in SUFFIXES or f.name.startswith(("~$", ".")):
                continue
            try:
                if _seen_unchanged(ctx, clinic_dir.name, drop_root, f):
                    continue
                upload_id, created = accept_upload(ctx, clinic_dir.name, f, source="drop")
                _remember(ctx, clinic_dir.name, drop_root, f, upload_id)
            except (OSError, ValueError) as exc:
                problems.append(f"{clinic_dir.name}/{f.name}: {exc}")
                continue
            if created:
                accepted.append(upload_id)
                enqueue_register(upload_id)
    with st.session_scope(ctx.engine) as s:
        done = s.get(st.NightlyRun, run_id)
        assert done is not None
        done.status, done.finished_at = "done", st.utcnow()
        done.report = {"uploads": accepted, "problems": problems}
    return run_id


def _seen_unchanged(ctx: Context, clinic: str, root: Path, f: Path) -> bool:
    stat = f.stat()
    rel = str(f.relative_to(root))
    with st.session_scope(ctx.engine) as s:
        seen = s.scalar(select(st.DropFile).where(st.DropFile.clinic_id == clinic, st.DropFile.path == rel))
        return seen is not None and seen.size == stat.st_size and seen.mtime_ns == stat.st_mtime_ns


def _remember(ctx: Context, clinic: str, root: Path, f: Path, upload_id: int) -> None:
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
    ctx: Context, enqueue_register: Enqueue, enqueue_reconcile: Enqueue, now: datetime | None = None
) -> dict[str, int]:
    """Re-enqueue what the broker may have lost; every accepted upload ends reconciled."""
    now = now or st.utcnow()
    stale = now - STALE_AFTER
    with st.session_scope(ctx.engine) as s:
        # registered uploads have their month (their jobs are swept below); the others never were
        uploads = s.scalars(
            select(st.Upload.id).where(
                st.Upload.status == "accepted", st.Upload.claim_month.is_(None), st.Upload.received_at < stale
            )
        ).all()
        jobs = s.scalars(
            select(st.Job.id).where(
                st.Job.kind == "reconcile",
                ((st.Job.status == "queued") & (st.Job.created_at < stale))
                | ((st.Job.status == "running") & (st.Job.heartbeat_at < now - RUNNING_STALE_AFTER)),
            )
        ).all()
    for upload_id in uploads:
        enqueue_register(upload_id)
    for job_id in jobs:
        enqueue_reconcile(job_id)
    return {"uploads": len(uploads), "jobs": len(jobs)}
