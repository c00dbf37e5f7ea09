"""A running job's heartbeat, refreshed by the process doing the work.

While a task runs its job, a daemon thread of the same process sets ``jobs.heartbeat_at``
every ``HENREI_HEARTBEAT_S`` (30 s). When the process dies — SIGKILL, an OOM kill, a
container restart — the beats stop with it, and after ``HENREI_RUNNING_STALE_S`` (90 s: three
missed beats) the sweeper (``henrei beat``, every ``HENREI_SWEEP_EVERY_S``) sends the job
again; ``start_job`` lets the new delivery take it over as a lost worker. A process that is
alive but stuck keeps beating: the task time limit ends that one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import update

from worker.jobs.context import Context
from worker.jobs.database import session_scope
from worker.jobs.models import Job, JobStatus, utcnow

__all__ = ["beat_once", "heartbeat"]

log = logging.getLogger(__name__)


def beat_once(ctx: Context, job_id: int) -> bool:
    """Refresh the job's heartbeat if it is running; whether it is."""
    with session_scope(ctx.engine) as s:
        done = s.execute(
            update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING).values(heartbeat_at=utcnow())
        )
        return bool(getattr(done, "rowcount", 0))


@contextmanager
def heartbeat(ctx: Context, job_id: int) -> Iterator[None]:
    """Beat for ``job_id`` every ``heartbeat_s`` until the block ends (or the job stops running)."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(ctx.settings.heartbeat_s):
            try:
                if not beat_once(ctx, job_id):
                    return
            except Exception as exc:  # a database hiccup: try again at the next beat
                log.warning("heartbeat of job %s failed (%s)", job_id, type(exc).__name__)

    thread = threading.Thread(target=run, name=f"henrei-heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
