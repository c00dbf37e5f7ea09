"""The sweeper (every ``Settings.sweep_every_s`` from ``henrei beat``): send again what
the broker lost — Redis here keeps nothing on disk — and remove ended jobs' folders."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from worker.jobs.context import Context, Enqueue
from worker.jobs.database import session_scope
from worker.jobs.lifecycle import parts_open
from worker.jobs.models import ENDED, Job, JobKind, JobStatus, Upload, UploadStatus, utcnow
from worker.jobs.queue import TaskName
from worker.jobs.queue import enqueue as enqueue_by_name
from worker.jobs.register import queue_register

__all__ = ["remove_leftovers", "sweep"]

log = logging.getLogger(__name__)


def sweep(
    ctx: Context,
    enqueue_register: Enqueue,
    enqueue_reconcile: Enqueue,
    enqueue_pickup: Enqueue | None = None,
    now: datetime | None = None,
    enqueue_kinds: Mapping[JobKind, Enqueue] | None = None,
) -> dict[str, int]:
    """Re-enqueue what the broker may have lost; every accepted upload ends reconciled.

    Uploads accepted without a register job (the process died between the two) get one.
    A queued job is sent again when no message was sent for it for ``sweep_stale``; a
    running job whose heartbeat (``worker.jobs.heartbeat``) is older than ``running_stale``
    — its process died — when no message was sent for that long; once per interval, not on
    every sweep. A split month whose parts are still
    queued or running is left to its parts (each is swept on its own). ``start_job``
    skips a copy whose job runs elsewhere; a part runs again through the reconcile task.
    """
    now = now or utcnow()
    stale = now - ctx.settings.sweep_stale
    with session_scope(ctx.engine) as s:
        has_job = select(Job.id).where(Job.kind == JobKind.REGISTER, Job.upload_id == Upload.id).exists()
        uploads = s.scalars(
            select(Upload.id).where(Upload.status == UploadStatus.ACCEPTED, Upload.received_at < stale, ~has_job)
        ).all()
        lost = now - ctx.settings.running_stale
        sent = func.coalesce(Job.enqueued_at, Job.created_at)
        jobs = s.scalars(
            select(Job)
            .where(
                Job.kind.in_(list(JobKind)),
                ((Job.status == JobStatus.QUEUED) & (sent < stale))
                # a running job whose heartbeat stopped: its process died (the message was sent
                # before it started, so only the heartbeat decides, once per running_stale)
                | ((Job.status == JobStatus.RUNNING) & (Job.heartbeat_at < lost) & (sent < lost) & ~parts_open()),
            )
            .order_by(Job.id)
            .with_for_update(skip_locked=True, of=Job)  # a row another transaction holds: next sweep
        ).all()
        for job in jobs:
            job.enqueued_at = now
        sends = [(job.id, job.kind) for job in jobs]
    for upload_id in uploads:
        queue_register(ctx, upload_id, enqueue_register)
    by_kind = {
        JobKind.REGISTER: enqueue_register,
        JobKind.NIGHTLY: enqueue_pickup,
        JobKind.SURVEY_EXPORT: enqueue_by_name(TaskName.SURVEY_EXPORT),
        JobKind.SURVEY_AGGREGATE: enqueue_by_name(TaskName.SURVEY_AGGREGATE),
    }
    by_kind.update(enqueue_kinds or {})  # e.g. the page's in-process survey jobs: no broker to send to
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
    with session_scope(ctx.engine) as s:
        ended = set(s.scalars(select(Job.id).where(Job.id.in_(folders), Job.status.in_(ENDED))))
    removed = 0
    for job_id in ended:
        for d in folders[job_id]:
            shutil.rmtree(d, ignore_errors=True)
            removed += 1
    if removed:
        log.info("removed %d working folder(s) of ended jobs", removed)
    return removed
