"""The reconcile job of a clinic-month: read every upload it needs, run the pipeline,
store the findings and the correction list. A hospital-sized month is split into parts
(``worker.jobs.parts``)."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select

from worker.engine import Inputs, month_of_list, read_inputs, receipt_months, run
from worker.jobs import parts
from worker.jobs.context import Context
from worker.jobs.database import locked_job, session_scope
from worker.jobs.faults import inject_fault
from worker.jobs.models import INPUT_UPLOADS, Job, JobKind, JobStatus, Upload, utcnow
from worker.jobs.outcome import job_result, job_writer, store_result
from worker.jobs.register import LOOKBACK_MONTHS, cache_dir
from worker.reading import SUFFIXES

__all__ = ["run_reconcile"]

log = logging.getLogger(__name__)


def run_reconcile(ctx: Context, job_id: int) -> None:
    """Reconcile one clinic-month from every upload it needs (its window: 12 months before
    and after); store its list's findings and the list (``worker.engine.months``).

    A month with ``Settings.split_receipts`` receipts or more is split by patient into
    parts reconciled by other workers; the job stays running until the last part finishes
    and combines them. A part's job given here runs as a part (the sweeper re-enqueues
    lost parts through the reconcile task).
    """
    with session_scope(ctx.engine) as s:
        job = s.get_one(Job, job_id)
        is_part = job.kind == JobKind.PART
        has_parts = s.scalar(select(Job.id).where(Job.parent_id == job_id).limit(1)) is not None
    if is_part:
        parts.run_part(ctx, job_id)
        return
    if has_parts:  # split by an earlier attempt: carry on with its parts
        parts.resume_split(ctx, job_id)
        return
    with session_scope(ctx.engine) as s:
        job = s.get_one(Job, job_id)
        assert job.clinic_id and job.claim_month
        clinic, month, attempt = job.clinic_id, job.claim_month, job.attempts
        # the window: the 12 months before (再診, returns of earlier claims) and after (the
        # later online checks that show a returned claim's new insurer)
        first = str(pd.Period(month, "M") - LOOKBACK_MONTHS)
        last = str(pd.Period(month, "M") + LOOKBACK_MONTHS)
        uploads = s.scalars(
            select(Upload).where(
                Upload.clinic_id == clinic,
                Upload.status.in_(INPUT_UPLOADS),
                # rows in the window: the upload's months [first_month, claim_month] overlap it
                (Upload.claim_month.is_(None))
                | ((Upload.claim_month >= first) & (func.coalesce(Upload.first_month, Upload.claim_month) <= last)),
            )
        ).all()
        inputs = [(u.id, ctx.data_dir / u.stored_path, u.original_name) for u in uploads]
        caches = {u.id: cache_dir(ctx, u.sha256) for u in uploads}
    inject_fault(ctx.settings, "reconcile", attempt, [name for _, _, name in inputs])
    upload_ids = sorted(upload_id for upload_id, _, _ in inputs)
    if _already_reconciled(ctx, job_id, upload_ids):
        return
    staging = ctx.data_dir / "staging" / f"job-{job_id}"
    staged = _link_inputs(staging, inputs)
    try:
        read = read_inputs([staging], ctx.settings, {p: caches[i] for p, i in staged.items()})
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    receipts = read.tables["receipts"]
    in_month = int((receipts["claim_month"].dt.strftime("%Y-%m") == month).sum())
    # the month's list: its summary counts the month's receipts (the files read are all listed)
    read.info = dataclasses.replace(read.info, period=month, receipts=in_month)
    if ctx.enqueue_part is not None and in_month >= ctx.settings.split_receipts:
        parts.split(ctx, job_id, read, upload_ids)
        return
    _run_and_store(ctx, job_id, month, read, upload_ids)


def _run_and_store(ctx: Context, job_id: int, month: str, read: Inputs, upload_ids: list[int]) -> None:
    """Run the month's inputs; write and store the month's list (``worker.engine.months``)."""
    select = month_of_list(month, receipt_months(read.tables["receipts"]))
    writer = job_writer(ctx, job_id)
    outcome = run(read, writer, select=select)
    log.info("job %s done: %d receipts, %d findings", job_id, read.info.receipts, len(outcome.findings))
    store_result(ctx, job_id, outcome, upload_ids, job_result(read.info, outcome, upload_ids), writer.patients)


def _already_reconciled(ctx: Context, job_id: int, upload_ids: list[int]) -> bool:
    """Finish the job without work when a run of the same month with the same uploads
    finished after it was queued (it was queued while that run was reading them)."""
    with session_scope(ctx.engine) as s:
        job = locked_job(s, job_id)
        done = s.scalars(
            select(Job)
            .where(
                Job.kind == JobKind.RECONCILE,
                Job.clinic_id == job.clinic_id,
                Job.claim_month == job.claim_month,
                Job.status == JobStatus.DONE,
                Job.finished_at > job.created_at,
                Job.id != job_id,
            )
            .order_by(Job.finished_at.desc())
        ).first()
        if done is None or not done.result or done.result.get("uploads") != upload_ids:
            return False
        job.status, job.finished_at = JobStatus.DONE, utcnow()
        job.result = {"same_as": done.id, "uploads": upload_ids, "findings": done.result.get("findings")}
    log.info("job %s: job %s already reconciled the same uploads", job_id, done.id)
    return True


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
