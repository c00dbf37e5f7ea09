"""The job lifecycle: start, wait, retry vs lost worker, fail, supersede — in one place.

A job is ``queued`` → ``running`` → ``done`` | ``failed`` (:class:`JobStatus`). Every
message that may run a job goes through :func:`start_job`, which decides under locks
(the month's start lock, then the parent's row, then the job's row: one order everywhere)
whether this message runs it now. Each message is named by its :class:`Delivery` (Celery
task ID + retry count), stored on the job when it starts:

- the same delivery again: its worker was lost (``acks_late``: the message came back);
- the same task with more retries: Celery's retry after an error (not a lost worker);
- another task ID while the job runs with a fresh heartbeat: a duplicate, skipped.

A job whose worker died ``MAX_LOST_WORKERS`` times (a poison input) is failed with a
stored message instead of being redelivered forever. A failure fails only the job its own
delivery started (:func:`fail_job`), never one another copy runs or has finished.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from worker.jobs.context import Context
from worker.jobs.database import Session, lock_month_jobs, locked_job, session_scope
from worker.jobs.models import ENDED, OPEN, Job, JobKind, JobStatus, Upload, UploadStatus, utcnow
from worker.jobs.queue import queued_job

__all__ = ["MAX_LOST_WORKERS", "Delivery", "fail_job", "parts_open", "reading", "start_job"]

log = logging.getLogger(__name__)

#: a job whose worker process died this many times is failed (poison input)
MAX_LOST_WORKERS: Final = 3
ENDED_MONTH_MESSAGE: Final = "同じ月の照合が終了したため、この分割処理は中止しました。"


@dataclass(frozen=True)
class Delivery:
    """One delivery of a task's message: its Celery task ID and how often Celery retried it.

    Stored on the job as ``"<task id>:<retries>"`` (:meth:`__str__`, :meth:`parse`).
    """

    task_id: str
    retries: int = 0

    def __str__(self) -> str:
        return f"{self.task_id}:{self.retries}"

    @classmethod
    def parse(cls, stored: str | None) -> Delivery | None:
        if not stored:
            return None
        task_id, _, retries = stored.rpartition(":")
        return cls(task_id, int(retries)) if task_id and retries.isdigit() else cls(stored, 0)

    def same_task(self, other: Delivery | None) -> bool:
        return other is not None and other.task_id == self.task_id

    def is_retry_of(self, other: Delivery | None) -> bool:
        """Celery's retry of the task that started the job (same task ID, more retries)."""
        return other is not None and other.task_id == self.task_id and self.retries > other.retries


def start_job(ctx: Context, job_id: int, delivery: Delivery | None) -> bool:
    """Count this attempt and mark the job running; False when it must not run now.

    ``delivery`` names the message (None: in-process, no message). False when the job is
    finished, runs elsewhere, kept killing its workers (then it is failed with a stored
    message), is a part of a split month that has ended, or is a reconcile job that has to
    wait (:func:`_must_wait`; a queued one is sent again after ``Settings.defer_s``, a lost
    one by the sweeper). True also for a finished part whose worker was lost while
    combining the month: the part's run then only combines.
    """
    with session_scope(ctx.engine) as s:
        peek = s.get(Job, job_id)
        if peek is None:
            return False
        # one lock order everywhere: a month's start decisions, the parent, then the job
        if peek.kind == JobKind.RECONCILE and peek.clinic_id and peek.claim_month:
            lock_month_jobs(s, peek.clinic_id, peek.claim_month)
        parent = locked_job(s, peek.parent_id) if peek.parent_id is not None else None
        job = locked_job(s, job_id)  # re-read under the lock: a duplicate message sees the first's start
        if job.status == JobStatus.FAILED:
            return False
        stored = Delivery.parse(job.celery_task_id)
        same = delivery is not None and delivery == stored
        retry = delivery is not None and delivery.is_retry_of(stored)
        if parent is not None and parent.status in ENDED:
            if job.status in OPEN:
                job.status, job.finished_at = JobStatus.FAILED, utcnow()
                job.error = parent.error or ENDED_MONTH_MESSAGE
            return False
        if job.status == JobStatus.DONE:
            return _restart_finished_part(s, job, parent, same=same, retry=retry)
        lost = False
        if job.status == JobStatus.RUNNING and not retry:
            fresh = job.heartbeat_at is not None and utcnow() - job.heartbeat_at < ctx.settings.running_stale
            if not same and fresh:
                log.info("job %s is running elsewhere; duplicate delivery skipped", job_id)
                return False
            lost = True  # the message came back (acks_late) or the run went stale: its worker was lost
        waits = ctx.enqueue_reconcile_later is not None and job.kind == JobKind.RECONCILE
        if waits and _must_wait(ctx, s, job, registrations=job.status == JobStatus.QUEUED):
            if job.status == JobStatus.RUNNING:  # lost while another run of the month started: back in line
                _requeue_or_supersede(s, job)
            if job.status == JobStatus.QUEUED and ctx.enqueue_reconcile_later is not None:
                job.enqueued_at = utcnow()
                ctx.enqueue_reconcile_later(job_id, ctx.settings.defer_s)
            return False
        if lost:
            job.lost_workers += 1
        if job.lost_workers >= MAX_LOST_WORKERS:
            job.status, job.finished_at = JobStatus.FAILED, utcnow()
            job.error = lost_workers_message(job.lost_workers)
            log.error("job %s failed after %d lost workers", job_id, job.lost_workers)
            _fail_parent(s, job)
            _fail_upload(s, job)
            return False
        job.status, job.attempts = JobStatus.RUNNING, job.attempts + 1
        job.started_at = job.heartbeat_at = utcnow()
        job.celery_task_id = str(delivery) if delivery is not None else None
    return True


def _restart_finished_part(s: Session, job: Job, parent: Job | None, *, same: bool, retry: bool) -> bool:
    """A finished part's message back: its worker was lost while combining the month
    (or Celery retried the combine). Run it again to combine, unless that keeps failing."""
    if job.kind != JobKind.PART or not (same or retry) or parent is None:
        return False
    job.attempts, job.lost_workers = job.attempts + 1, job.lost_workers + (0 if retry else 1)
    if job.lost_workers < MAX_LOST_WORKERS:
        return True
    job.error = lost_workers_message(job.lost_workers)
    _fail_parent(s, job)
    return False


def _requeue_or_supersede(s: Session, job: Job) -> None:
    """A running reconcile job that lost its worker and must wait for another run of its
    month: queued again, or — when a queued job of the month exists (it reads at least
    the same uploads) — finished as superseded by it."""
    queued = queued_job(s, job.clinic_id, job.claim_month)
    if queued is None:
        try:
            with s.begin_nested():  # a registration may queue one at this moment (unique index)
                job.status, job.heartbeat_at = JobStatus.QUEUED, None
            return
        except IntegrityError:
            s.refresh(job)
            queued = queued_job(s, job.clinic_id, job.claim_month)
    job.status, job.finished_at = JobStatus.DONE, utcnow()
    job.result = {"same_as": queued.id if queued is not None else None}


def lost_workers_message(times: int) -> str:
    return (
        f"処理中に作業プロセスが{times}回停止したため中止しました"
        "（入力ファイルが原因の可能性があります）。ファイルを確認して再アップロードしてください。"
    )


def parts_open() -> Exists:
    """SQL: the job (``Job``) is a split month with parts still queued or running."""
    part = aliased(Job)
    return select(part.id).where(part.parent_id == Job.id, part.status.in_(OPEN)).exists()


def reading(s: Session, clinic_id: str | None, *, besides: int | None = None, since: datetime | None = None) -> bool:
    """Whether files of the clinic are still being read (register jobs queued or running),
    not counting job ``besides``, nor jobs created before ``since``."""
    q = select(Job.id).where(Job.kind == JobKind.REGISTER, Job.clinic_id == clinic_id, Job.status.in_(OPEN))
    if besides is not None:
        q = q.where(Job.id != besides)
    if since is not None:
        q = q.where(Job.created_at > since)
    return s.scalar(q.limit(1)) is not None


def _must_wait(ctx: Context, s: Session, job: Job, *, registrations: bool) -> bool:
    """Whether a reconcile job should wait: its month is being reconciled by another job
    (two runs at once could store the older inputs' findings last), or — with
    ``registrations`` — files of its clinic are still being read (it would read them
    itself, and run again after). The caller holds the month's lock (``lock_month_jobs``)."""
    now = utcnow()
    other_running = s.scalar(
        select(Job.id)
        .where(
            Job.kind == JobKind.RECONCILE,
            Job.clinic_id == job.clinic_id,
            Job.claim_month == job.claim_month,
            Job.id != job.id,
            Job.status == JobStatus.RUNNING,
            (Job.heartbeat_at > now - ctx.settings.running_stale) | parts_open(),  # a split month waits on its parts
        )
        .limit(1)
    )
    if other_running is not None:
        return True
    if not registrations or now - job.created_at >= ctx.settings.max_defer:
        return False
    return reading(s, job.clinic_id, since=now - ctx.settings.max_defer)


def fail_job(ctx: Context, job_id: int, message: str, delivery: Delivery | None = None) -> bool:
    """Fail a job with a stored message; returns whether it was failed.

    With ``delivery`` (a task's failure), only the job that delivery's task started, and
    only while it is queued or running: a copy of the message failing must not fail the
    job another delivery runs or has finished. A part that finished but raised while
    combining fails its month.
    """
    with session_scope(ctx.engine) as s:
        peek = s.get(Job, job_id)
        if peek is None:
            return False
        parent = locked_job(s, peek.parent_id) if peek.parent_id is not None else None  # parent, then job
        job = locked_job(s, job_id)
        if delivery is not None and not delivery.same_task(Delivery.parse(job.celery_task_id)):
            return False
        if job.status == JobStatus.DONE:
            if job.kind != JobKind.PART or parent is None or parent.status != JobStatus.RUNNING or delivery is None:
                return False
            job.error = message
            _fail_parent(s, job)
            return True
        if job.status not in OPEN:
            return False
        job.status, job.error, job.finished_at = JobStatus.FAILED, message, utcnow()
        _fail_parent(s, job)
        _fail_upload(s, job)
        return True


def _fail_parent(s: Session, job: Job) -> None:
    """A failed part fails the split month it belongs to, with the part's message."""
    if job.parent_id is None:
        return
    parent = s.get(Job, job.parent_id)
    if parent is not None and parent.status not in ENDED:
        parent.status, parent.error, parent.finished_at = JobStatus.FAILED, job.error, utcnow()


def _fail_upload(s: Session, job: Job) -> None:
    """A register job failed: its upload cannot be read (reconcile jobs leave it out)."""
    if job.kind != JobKind.REGISTER or job.upload_id is None:
        return
    upload = s.get(Upload, job.upload_id)
    if upload is not None:
        upload.status, upload.error = UploadStatus.FAILED, job.error
