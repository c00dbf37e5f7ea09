"""The one way a task is made: :func:`job_task` for a job's task, :func:`periodic_task`
for beat's. Both set the name (``TaskName``), the retry policy (broker or database
unreachable: exponential backoff) and error scrubbing; a job's task also passes the start
gate (``start_job`` with this message's :class:`Delivery`) and fails its job on a final
error. Task modules are a few lines over these; none imports another.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any, Final

from celery import Task
from celery.exceptions import Ignore, Reject, Retry, SoftTimeLimitExceeded
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import OperationalError as DatabaseError

from worker.engine.deadline import RunTimeout, run_deadline
from worker.jobs import Context, Delivery, TaskName, celery_context, fail_job, heartbeat, start_job
from worker.jobs.celery_app import app

__all__ = ["JobError", "job_task", "periodic_task"]

#: transient failures worth a retry with backoff (broker or database unreachable)
RETRYABLE: Final[tuple[type[Exception], ...]] = (BrokerError, DatabaseError, ConnectionError)
#: Celery's own control flow, passed through as raised
_CONTROL: Final[tuple[type[BaseException], ...]] = (Retry, Ignore, Reject, SoftTimeLimitExceeded)

log = logging.getLogger(__name__)


class JobError(Exception):
    """A task's error with its text removed: ``args[0]`` is the original exception's type;
    ``args[1]``, when there, a message of ours for the clerk (no data: ``RunTimeout``)."""


class ScrubbedTask(Task):  # type: ignore[misc]
    """A task whose error leaves as :class:`JobError` naming only its type, so neither
    Celery's log nor the stored job quotes its text (which may hold patient data). Where
    it happened is logged as file:line frames, without values."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except _CONTROL:
            raise
        except Exception as exc:
            frames = "; ".join(f"{f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(exc.__traceback__))
            log.error("task %s failed with %s at %s", self.name, type(exc).__name__, frames)
            said = (str(exc),) if isinstance(exc, RunTimeout) else ()  # our own words, never data
            raise JobError(type(exc).__name__, *said) from None


class JobTask(ScrubbedTask):
    """A task whose first argument is a job ID: a failure is stored on the job.

    Celery calls ``on_failure`` when the task raised and will not be retried (an error
    outside ``RETRYABLE``, retries used up, the soft time limit). The job is failed with
    a message for the clerk naming only the kind of error. A lost worker is not a failure
    here (``acks_late``: the message comes back; see ``start_job``).
    """

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        if not args:
            return
        if isinstance(exc, SoftTimeLimitExceeded):
            message = "処理時間の上限を超えたため中止しました。ファイルを分けて再度アップロードしてください。"
        elif isinstance(exc, JobError) and len(exc.args) > 1:
            message = str(exc.args[1])  # the run's time limit (HENREI_RUN_TIMEOUT_S)
        else:
            kind = exc.args[0] if isinstance(exc, JobError) and exc.args else type(exc).__name__
            message = f"処理中にエラーが発生したため中止しました（{kind}）。IT担当者（ベンダー）に連絡してください。"
        fail_job(celery_context(), int(args[0]), message, Delivery(task_id, self.request.retries or 0))


def delivery(task: Task) -> Delivery:
    """This message's delivery: task ID and retry count."""
    return Delivery(task.request.id, task.request.retries or 0)


def job_task(name: TaskName) -> Callable[[Callable[[Context, int], None]], Task]:
    """Register ``run(ctx, job_id)`` as the task ``name(job_id)``: it runs when
    ``start_job`` lets this delivery start the job."""

    def register(run: Callable[[Context, int], None]) -> Task:
        @app.task(
            name=str(name), base=JobTask, bind=True, autoretry_for=RETRYABLE, retry_backoff=True, max_retries=8
        )  # fmt: skip
        def task(self: Task, job_id: int) -> None:
            ctx = celery_context()
            if start_job(ctx, job_id, delivery(self)):
                # beats while this process works; stops when it dies. The run's time limit
                # (HENREI_RUN_TIMEOUT_S) fails the job with its message (not retried)
                with heartbeat(ctx, job_id), run_deadline(ctx.settings.run_timeout_s):
                    run(ctx, job_id)

        return task

    return register


def periodic_task(name: TaskName, *, max_retries: int = 8) -> Callable[[Callable[[Context, str], None]], Task]:
    """Register ``run(ctx, task_id)`` as beat's task ``name()`` (no job ID)."""

    def register(run: Callable[[Context, str], None]) -> Task:
        @app.task(
            name=str(name), base=ScrubbedTask, bind=True, autoretry_for=RETRYABLE, retry_backoff=True,
            max_retries=max_retries,
        )  # fmt: skip
        def task(self: Task) -> None:
            run(celery_context(), self.request.id)

        return task

    return register
