"""Split months: a hospital-sized clinic-month reconciled in parts by several workers.

The reconcile job writes the month's parts (``worker.engine.split``) and one part job per
part; each part job reconciles its part; the last part to finish combines them all and
stores the month as one run would. The result equals the single-process result exactly.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from typing import Any

from sqlalchemy import select

from worker.engine import Inputs, RunInfo, conclude, month_of_list, reconcile_stacked
from worker.engine import split as parts_files  # the parts on disk
from worker.jobs.context import Context
from worker.jobs.database import locked_job, session_scope
from worker.jobs.faults import inject_fault
from worker.jobs.lifecycle import fail_job, start_job
from worker.jobs.models import Job, JobKind, JobStatus, utcnow
from worker.jobs.outcome import job_result, job_writer, store_result

__all__ = ["resume_split", "run_part", "split"]

log = logging.getLogger(__name__)


def split(ctx: Context, job_id: int, read: Inputs, upload_ids: list[int]) -> None:
    """Write the month's parts, create their jobs and enqueue them; the job stays running."""
    assert ctx.enqueue_part is not None
    n = ctx.settings.split_parts
    t0 = time.perf_counter()
    tables = parts_files.partition(read.tables, n)
    info = read.info
    info.timings["split"] = time.perf_counter() - t0
    meta = {"uploads": upload_ids, "info": info.to_json()}
    parts_files.write_parts(parts_files.job_dir(ctx.data_dir, job_id), tables, read.input_findings, meta)
    with session_scope(ctx.engine) as s:
        parent = locked_job(s, job_id)
        jobs = [
            Job(
                kind=JobKind.PART,
                clinic_id=parent.clinic_id,
                claim_month=parent.claim_month,
                parent_id=job_id,
                part_index=k,
                part_count=n,
                status=JobStatus.QUEUED,
                enqueued_at=utcnow(),
            )
            for k in range(n)
        ]
        s.add_all(jobs)
        parent.heartbeat_at = utcnow()
        s.flush()
        part_ids = [j.id for j in jobs]
    log.info("job %s split into %d parts (%d receipts)", job_id, n, info.receipts)
    for part_id in part_ids:
        ctx.enqueue_part(part_id)


def resume_split(ctx: Context, job_id: int) -> None:
    """A split job run again (redelivered, or swept as stale): combine its parts when all
    are done, else enqueue those not finished (in this process when nothing can enqueue)."""
    with session_scope(ctx.engine) as s:
        parts = s.scalars(select(Job).where(Job.parent_id == job_id).order_by(Job.part_index)).all()
        statuses = {p.id: p.status for p in parts}
        failed = next((p.error or "" for p in parts if p.status == JobStatus.FAILED), None)
        s.get_one(Job, job_id).heartbeat_at = utcnow()
        if ctx.enqueue_part is not None:
            for p in parts:
                if p.status != JobStatus.DONE:
                    p.enqueued_at = utcnow()
    if failed is not None:
        fail_job(ctx, job_id, failed or "分割した処理の一部が失敗しました。")
        return
    if all(v == JobStatus.DONE for v in statuses.values()):
        _combine(ctx, job_id)
        return
    for part_id, status in statuses.items():
        if status == JobStatus.DONE:
            continue
        if ctx.enqueue_part is not None:
            ctx.enqueue_part(part_id)
        elif start_job(ctx, part_id, None):
            run_part(ctx, part_id)


def run_part(ctx: Context, job_id: int) -> None:
    """Reconcile one part of a split month; the last part to finish combines them all."""
    with session_scope(ctx.engine) as s:
        job = s.get_one(Job, job_id)
        assert job.parent_id is not None and job.part_index is not None
        parent_id, k, n, attempt = job.parent_id, job.part_index, job.part_count, job.attempts
        s.get_one(Job, parent_id).heartbeat_at = utcnow()
        combine_only = job.status == JobStatus.DONE  # see start_job: the worker combining it was lost
    if combine_only:
        log.info("part %s of job %s: its worker was lost while combining; combining", job_id, parent_id)
        resume_split(ctx, parent_id)
        return
    root = parts_files.job_dir(ctx.data_dir, parent_id)
    d = parts_files.part_dir(ctx.data_dir, parent_id, k)
    info = _run_info(json.loads((root / "meta.json").read_text()))
    inject_fault(ctx.settings, "part", attempt, [f.path for f in info.files])
    t0 = time.perf_counter()
    tables, pos = parts_files.load_part(d)
    input_findings = parts_files.read_frame(root / "input_findings.parquet")
    result = reconcile_stacked(tables, input_findings, with_returns=info.with_returns, keep_input=False)
    parts_files.write_part_result(d, result, pos)
    with session_scope(ctx.engine) as s:
        parent = locked_job(s, parent_id)  # one part at a time sees the others' statuses
        job = s.get_one(Job, job_id)
        job.status, job.finished_at = JobStatus.DONE, utcnow()
        job.result = {
            "findings": len(result.findings),
            "receipts": len(tables["receipts"]),
            "seconds": round(time.perf_counter() - t0, 3),
        }
        parent.heartbeat_at = utcnow()
        s.flush()
        statuses = s.scalars(select(Job.status).where(Job.parent_id == parent_id)).all()
        last = parent.status == JobStatus.RUNNING and len(statuses) == n and all(x == JobStatus.DONE for x in statuses)
    log.info("part %s (%d of job %s) done%s", job_id, k, parent_id, "; combining" if last else "")
    if last:
        inject_fault(ctx.settings, "combine", attempt, [f.path for f in info.files])
        _combine(ctx, parent_id)


def _run_info(meta: dict[str, Any]) -> RunInfo:
    """What the parent read, from its ``meta.json`` (also the flat form the previous
    release wrote, so a month split before an upgrade finishes after it)."""
    if "info" in meta:
        return RunInfo.from_json(meta["info"])
    return RunInfo.from_json(
        {
            "period": meta["period"],
            "files": meta["files"],
            "problems": meta["file_problems"],
            "receipts": meta["receipts"],
            "with_returns": meta["with_returns"],
            "started_at": meta["started_at"],
            "timings": meta["seconds"],
        }
    )


def _combine(ctx: Context, job_id: int) -> None:
    """The split month's result from its parts, concluded and stored as one run would be."""
    root = parts_files.job_dir(ctx.data_dir, job_id)
    meta = json.loads((root / "meta.json").read_text())
    info = _run_info(meta)
    t0 = time.perf_counter()
    n = int(meta["part_count"])
    combined = parts_files.combine_parts(root, n, info.with_returns)
    with session_scope(ctx.engine) as s:
        month = s.get_one(Job, job_id).claim_month
    assert month
    select = month_of_list(month, parts_files.receipt_months_of_parts(root, n))
    writer = job_writer(ctx, job_id)
    outcome = conclude(info, combined, writer, select=select)
    outcome.timings["combine"] = time.perf_counter() - t0
    uploads = [int(u) for u in meta["uploads"]]
    result = job_result(info, outcome, uploads, parts=int(meta["part_count"]))
    store_result(ctx, job_id, outcome, uploads, result, writer.patients)
    shutil.rmtree(root, ignore_errors=True)
    log.info("job %s done from %d parts: %d findings", job_id, meta["part_count"], len(combined.findings))
