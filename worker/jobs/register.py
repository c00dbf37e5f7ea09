"""Uploads and their register jobs: keep a file, read it once, queue its months' runs."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from worker.jobs.context import Context, Enqueue
from worker.jobs.database import Session, session_scope
from worker.jobs.lifecycle import reading
from worker.jobs.marked_lists import import_marked_list, is_marked_list
from worker.jobs.models import OPEN, Job, JobKind, JobStatus, Upload, UploadSource, UploadStatus, utcnow
from worker.jobs.queue import queued_reconcile
from worker.jobs.upload_store import store_upload
from worker.normalise import months_of
from worker.reading import FileProblem, read_file

__all__ = ["LOOKBACK_MONTHS", "accept_upload", "cache_dir", "queue_register", "register_upload", "run_register"]

log = logging.getLogger(__name__)

#: months before a job's month whose uploads are read too (再診, returns of earlier claims)
LOOKBACK_MONTHS = 12


def cache_dir(ctx: Context, sha256: str) -> Path:
    """Where the reader's Arrow output of an upload is kept (by content: read once)."""
    return ctx.data_dir / "cache" / sha256[:2] / sha256


def accept_upload(
    ctx: Context, clinic_id: str, path: Path, *, source: UploadSource = UploadSource.UPLOAD
) -> tuple[int, bool]:
    """Store a file once by content; returns (upload id, whether it is new)."""
    with session_scope(ctx.engine) as s:
        upload, created = store_upload(s, ctx.data_dir, clinic_id, path, source=source)
        s.flush()
        return upload.id, created


def queue_register(ctx: Context, upload_id: int, enqueue: Enqueue) -> int:
    """A queued job reading the upload (reusing one not finished); returns its ID.

    This is the job ID ``henrei upload`` prints: ``henrei status --job ID`` follows it to
    the reconcile jobs it queues.
    """
    with session_scope(ctx.engine) as s:
        upload = s.get(Upload, upload_id)
        if upload is None:
            raise LookupError(f"upload {upload_id} does not exist")
        job = s.scalar(
            select(Job).where(Job.kind == JobKind.REGISTER, Job.upload_id == upload_id, Job.status.in_(OPEN))
        )
        if job is None:
            job = Job(kind=JobKind.REGISTER, clinic_id=upload.clinic_id, upload_id=upload_id, status=JobStatus.QUEUED)
            s.add(job)
        job.enqueued_at = utcnow()
        s.flush()
        job_id = job.id
    enqueue(job_id)
    return job_id


def run_register(ctx: Context, job_id: int, enqueue_reconcile: Enqueue) -> None:
    """The register job: read its upload and queue the reconcile jobs of its months.

    The job is finished in the transaction that queues them, so a reconcile job waiting
    for its clinic's files can start as soon as its message arrives.
    """
    with session_scope(ctx.engine) as s:
        job = s.get_one(Job, job_id)
        assert job.upload_id is not None
        upload_id = job.upload_id
    for reconcile_id in _register(ctx, upload_id, job_id):
        enqueue_reconcile(reconcile_id)


def register_upload(ctx: Context, upload_id: int, enqueue_reconcile: Enqueue) -> list[int]:
    """Read an upload, find its claim months and queue a reconcile job per month (no
    register job: in-process). A file that cannot be read fails with the clerk's message
    stored on the upload. Returns the reconcile job IDs enqueued."""
    jobs = _register(ctx, upload_id, None)
    for reconcile_id in jobs:
        enqueue_reconcile(reconcile_id)
    return jobs


def _register(ctx: Context, upload_id: int, register_job_id: int | None) -> list[int]:
    """Read the upload (its Arrow output kept by content), store its months and queue (in
    the database) a reconcile job per month it has; finish the register job, if any, in
    the same transaction. Returns the reconcile job IDs to enqueue: while other files of
    the clinic are being read, not one whose message was sent less than ``sweep_stale``
    ago (it is waiting in the queue or for its files; a lost one is sent again by the
    sweeper); the clinic's last file read sends them all, so they start at once."""
    with session_scope(ctx.engine) as s:
        upload = s.get(Upload, upload_id)
        if upload is None:
            raise LookupError(f"upload {upload_id} does not exist")
        clinic, path, name = upload.clinic_id, ctx.data_dir / upload.stored_path, upload.original_name
        cache = cache_dir(ctx, upload.sha256)
    if is_marked_list(path):  # a correction list handed back: the clerk's marks, not an input
        import_marked_list(ctx, upload_id, register_job_id, path, name)
        return []
    read = read_file(path, ctx.settings, display=name, cache_dir=cache)
    with session_scope(ctx.engine) as s:
        upload = s.get_one(Upload, upload_id)
        job = s.get(Job, register_job_id) if register_job_id is not None else None
        if isinstance(read, FileProblem):
            upload.status, upload.error = UploadStatus.FAILED, read.message
            if job is not None:
                job.status, job.error, job.finished_at = JobStatus.FAILED, read.message, utcnow()
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
        last = not reading(s, clinic, besides=register_job_id)
        stale = ctx.settings.sweep_stale
        queued = [queued_reconcile(s, clinic, m, always=last, stale_after=stale) for m in months]
        if job is not None:
            job.status, job.finished_at = JobStatus.DONE, utcnow()
            job.claim_month = upload.claim_month
            job.result = {"months": months, "jobs": [job_id for job_id, _ in queued]}
    return [job_id for job_id, send in queued if send]


def _latest_months(s: Session, clinic_id: str) -> list[str]:
    latest = s.scalar(
        select(Upload.claim_month)
        .where(Upload.clinic_id == clinic_id, Upload.claim_month.is_not(None))
        .order_by(Upload.claim_month.desc())
        .limit(1)
    )
    return [latest] if latest else []


def _later_months(s: Session, clinic_id: str, month: str) -> list[str]:
    """The clinic's months after ``month`` whose window (``LOOKBACK_MONTHS``) includes it."""
    last = str(pd.Period(month, "M") + LOOKBACK_MONTHS)
    return list(
        s.scalars(
            select(Upload.claim_month)
            .where(
                Upload.clinic_id == clinic_id,
                Upload.status != UploadStatus.FAILED,
                Upload.claim_month > month,
                Upload.claim_month <= last,
            )
            .distinct()
        )
    )
