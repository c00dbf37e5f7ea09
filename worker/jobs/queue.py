"""Queueing: the tasks' names, sending a job's message by name, and the one queued
reconcile job of a clinic-month.

Messages are sent with ``send_task`` by name, so neither the CLI nor the job code imports
``tasks/``; a message carries a job ID and nothing else.
"""

from __future__ import annotations

import enum
import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from worker.config import Settings
from worker.jobs.context import Context, Enqueue, EnqueueLater
from worker.jobs.database import Session, session_scope
from worker.jobs.models import Job, JobKind, JobStatus, utcnow

__all__ = [
    "TaskName",
    "celery_context",
    "enqueue",
    "enqueue_later",
    "queue_reconcile",
    "queued_job",
    "queued_reconcile",
]

log = logging.getLogger(__name__)


class TaskName(enum.StrEnum):
    """The Celery tasks (``tasks/``), by the names messages are sent to."""

    REGISTER = "henrei.register_upload"
    RECONCILE = "henrei.reconcile_clinic_month"
    PART = "henrei.reconcile_part"
    PICKUP = "henrei.pickup"
    NIGHTLY = "henrei.nightly"
    SWEEP = "henrei.sweep"
    SURVEY_EXPORT = "henrei.survey_export"
    SURVEY_AGGREGATE = "henrei.survey_aggregate"


def enqueue(name: TaskName) -> Enqueue:
    """A function sending a message ``name(job_id)`` to the broker."""

    def send(job_id: int) -> None:
        from worker.jobs.celery_app import app

        app.send_task(str(name), (job_id,))

    return send


def enqueue_later(name: TaskName) -> EnqueueLater:
    """A function sending a message ``name(job_id)`` that is delivered after ``seconds``."""

    def send(job_id: int, seconds: float) -> None:
        from worker.jobs.celery_app import app

        app.send_task(str(name), (job_id,), countdown=seconds)

    return send


def celery_context(settings: Settings | None = None) -> Context:
    """The context of a worker process: big months are split into part messages, and a
    month's job waits by sending itself again later."""
    return Context(
        settings or Settings.from_env(),
        enqueue_part=enqueue(TaskName.PART),
        enqueue_reconcile_later=enqueue_later(TaskName.RECONCILE),
    )


def queued_job(s: Session, clinic_id: str | None, month: str | None) -> Job | None:
    """The clinic-month's queued reconcile job (at most one: a unique index)."""
    return s.scalar(
        select(Job).where(
            Job.kind == JobKind.RECONCILE,
            Job.clinic_id == clinic_id,
            Job.claim_month == month,
            Job.status == JobStatus.QUEUED,
        )
    )


def queued_reconcile(
    s: Session, clinic_id: str, month: str, *, stale_after: timedelta, always: bool = False
) -> tuple[int, bool]:
    """The queued reconcile job of the clinic-month (a new one when none is queued), and
    whether to send a message for it: a new job, one not sent for ``stale_after``
    (``Settings.sweep_stale``), or
    ``always``; its ``enqueued_at`` is then set.

    Two registrations at once may both find none: the unique index on queued reconcile
    jobs lets one insert and sends the other back to take the job it inserted.
    """
    now = utcnow()
    for _ in range(5):
        job = queued_job(s, clinic_id, month)
        if job is not None:
            send = always or job.enqueued_at is None or job.enqueued_at < now - stale_after
            if send:
                job.enqueued_at = now
            return job.id, send
        try:
            with s.begin_nested():
                job = Job(
                    kind=JobKind.RECONCILE, clinic_id=clinic_id, claim_month=month, status=JobStatus.QUEUED,
                    enqueued_at=now,
                )  # fmt: skip
                s.add(job)
            return job.id, True
        except IntegrityError:
            log.info("a reconcile job of %s %s was queued at the same time; taking it", clinic_id, month)
    raise RuntimeError(f"no queued reconcile job for {clinic_id} {month} after 5 tries")


def queue_reconcile(ctx: Context, clinic_id: str, month: str, enqueue: Enqueue) -> int:
    """A queued reconcile job for the clinic-month (reusing one already queued), enqueued."""
    with session_scope(ctx.engine) as s:
        job_id, _ = queued_reconcile(s, clinic_id, month, stale_after=ctx.settings.sweep_stale, always=True)
    enqueue(job_id)
    return job_id
