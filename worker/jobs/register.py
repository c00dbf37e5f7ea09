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
from worker.jobs.models import (
    INPUT_UPLOADS,
    OPEN,
    Finding,
    Job,
    JobKind,
    JobStatus,
    Upload,
    UploadSource,
    UploadStatus,
    utcnow,
)
from worker.jobs.queue import queued_reconcile
from worker.jobs.settlement_marks import import_settlement_list
from worker.jobs.upload_store import store_upload
from worker.normalise import months_of
from worker.reading import FileProblem, read_file
from worker.reports import is_settlement_list

__all__ = ["LOOKBACK_MONTHS", "accept_upload", "cache_dir", "queue_register", "register_upload", "run_register"]

log = logging.getLogger(__name__)

#: months before a job's month whose uploads are read too (再診, returns of earlier claims)
LOOKBACK_MONTHS = 12


def cache_dir(ctx: Context, sha256: str) -> Path:
    """Where the reader's Arrow output of an upload is kept (by content: read once)."""
    return ctx.data_dir / "cache" / sha256[:2] / sha256


def accept_upload(
    ctx: Context,
    clinic_id: str,
    path: Path,
    *,
    source: UploadSource = UploadSource.UPLOAD,
    original_name: str | None = None,
) -> tuple[int, bool]:
    """Store a file once by content; returns (upload id, whether it is new). ``original_name``
    (the name the clerk's file had; default: the path's) is shown, never used as a path."""
    with session_scope(ctx.engine) as s:
        upload, created = store_upload(s, ctx.data_dir, clinic_id, path, source=source, original_name=original_name)
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
    the database) a reconcile job per month whose list it changes (``_months_to_queue``);
    finish the register job, if any, in
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
    if is_settlement_list(path):  # a settlement list handed back, likewise
        import_settlement_list(ctx, upload_id, register_job_id, path, name)
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
        by_kind: dict[str, set[str]] = {}
        rows: dict[str, int] = {}  # rows per kind of table: what the file held (the web page shows it)
        for t in read:
            by_kind.setdefault(t.kind, set()).update(months_of(t))
            rows[t.kind] = rows.get(t.kind, 0) + len(t.frame)
        every = sorted(set().union(*by_kind.values()))
        upload.claim_month = every[-1] if every else None
        upload.first_month = every[0] if every else None
        upload.receipt_months = ",".join(sorted(by_kind.get("receipts", set())))
        s.flush()
        months, waiting = _months_to_queue(s, clinic, by_kind)
        # the clinic's last file read sends its months' jobs at once (they may be waiting on it)
        last = not reading(s, clinic, besides=register_job_id)
        stale = ctx.settings.sweep_stale
        queued = [queued_reconcile(s, clinic, m, always=last, stale_after=stale) for m in months]
        if job is not None:
            job.status, job.finished_at = JobStatus.DONE, utcnow()
            job.claim_month = upload.claim_month
            job.result = {"months": months, "jobs": [job_id for job_id, _ in queued], "tables": rows}
            if waiting:
                job.result["returns_waiting"] = waiting
    return [job_id for job_id, send in queued if send]


def _months_to_queue(s: Session, clinic_id: str, by_kind: dict[str, set[str]]) -> tuple[list[str], list[str]]:
    """The months whose lists an upload changes (its months by table kind), and the months
    of its returns no list shows yet.

    - Receipts, online checks: their months, and the clinic's later months with receipts
      whose window (``LOOKBACK_MONTHS``) includes them (再診; a return of such a month no
      claim matched moves from a later list to this month's).
    - Returns: the month of each return's list (``worker.engine.months``): the first month
      on or after its 診療年月 with receipts uploaded (within the window) — never a month
      without receipts, whose list would show every return as unmatched. A return of a
      month with no receipts on or after it waits: the first such month's upload queues it.
    - Online checks also: the earlier months (within the window) whose list holds a
      matched return (its 返戻再請求 names the new insurer a later check shows).
    - Nothing with a month (card records; returns without 診療年月): the clinic's latest
      month with receipts again.
    """
    dated = sorted(set().union(*(m for kind, m in by_kind.items() if kind != "returns")))
    returns = sorted(by_kind.get("returns", set()))
    with_receipts = _receipt_months(s, clinic_id)
    months = set(dated)
    if dated:
        last = str(pd.Period(dated[-1], "M") + LOOKBACK_MONTHS)
        months.update(m for m in with_receipts if dated[-1] < m <= last)
    waiting = []
    for r in returns:
        last = str(pd.Period(r, "M") + LOOKBACK_MONTHS)
        home = next((m for m in with_receipts if r <= m <= last), None)
        if home is None:
            waiting.append(r)
        else:
            months.add(home)
    checked = sorted(by_kind.get("online", set()))
    if checked:  # a later online check may show a returned claim's new insurer
        since = str(pd.Period(checked[0], "M") - LOOKBACK_MONTHS)
        months.update(_months_with_returned(s, clinic_id, since, checked[-1]))
    if not dated and not returns:
        months.update(with_receipts[-1:])
    return sorted(months), waiting


def _months_with_returned(s: Session, clinic_id: str, first: str, before: str) -> list[str]:
    """The clinic's months in [first, before) whose list holds a matched return."""
    return list(
        s.scalars(
            select(Finding.run_month)
            .where(
                Finding.clinic_id == clinic_id,
                Finding.category == "returned",
                Finding.run_month >= first,
                Finding.run_month < before,
            )
            .distinct()
        )
    )


def _receipt_months(s: Session, clinic_id: str) -> list[str]:
    """The months of the clinic's uploaded receipts, sorted (an upload read before receipt
    months were kept: its months)."""
    months: set[str] = set()
    rows = s.execute(
        select(Upload.receipt_months, Upload.first_month, Upload.claim_month).where(
            Upload.clinic_id == clinic_id, Upload.status.in_(INPUT_UPLOADS), Upload.claim_month.is_not(None)
        )
    )
    for kept, first, last in rows:
        months.update(filter(None, kept.split(",") if kept is not None else (first, last)))
    return sorted(months)
