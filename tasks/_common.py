"""Shared wiring of the tasks: the service context and how to enqueue by ID."""

from __future__ import annotations

import logging
import os
import traceback
from pathlib import Path
from typing import Any

from celery import Task
from celery.exceptions import Ignore, Reject, Retry, SoftTimeLimitExceeded
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import OperationalError as DatabaseError

from worker.config import Settings
from worker.jobs import service
from worker.jobs.service import Context

#: transient failures worth a retry with backoff (broker or database unreachable)
RETRYABLE: tuple[type[Exception], ...] = (BrokerError, DatabaseError, ConnectionError)
#: Celery's own control flow, passed through as raised
_CONTROL: tuple[type[BaseException], ...] = (Retry, Ignore, Reject, SoftTimeLimitExceeded)

log = logging.getLogger(__name__)


class JobError(Exception):
    """A task's error with its text removed: ``args[0]`` is the original exception's type."""


class JobTask(Task):  # type: ignore[misc]
    """A task whose first argument is a job ID: a failure is stored on the job.

    Celery calls ``on_failure`` when the task raised and will not be retried (an error
    outside ``RETRYABLE``, retries used up, the soft time limit). The job is failed with
    a message for the clerk naming only the kind of error — never its text, which may
    quote a patient's data. A lost worker is not a failure here (``acks_late``: the
    message comes back; see ``service.start_job``).
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the task; an error leaves as :class:`JobError` naming only its type, so
        neither Celery's log nor the stored job quotes its text (which may hold patient
        data). Where it happened is logged as file:line frames, without values."""
        try:
            return super().__call__(*args, **kwargs)
        except _CONTROL:
            raise
        except Exception as exc:
            frames = "; ".join(f"{f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(exc.__traceback__))
            log.error("task %s failed with %s at %s", self.name, type(exc).__name__, frames)
            raise JobError(type(exc).__name__) from None

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        if not args:
            return
        if isinstance(exc, SoftTimeLimitExceeded):
            message = "処理時間の上限を超えたため中止しました。ファイルを分けて再度アップロードしてください。"
        else:
            kind = exc.args[0] if isinstance(exc, JobError) and exc.args else type(exc).__name__
            message = f"処理中にエラーが発生したため中止しました（{kind}）。IT担当者（ベンダー）に連絡してください。"
        service.fail_job(context(), int(args[0]), message, delivery=f"{task_id}:{self.request.retries or 0}")


def delivery(task: Task) -> str:
    """The message's name for ``service.start_job``: task ID and retry count."""
    return f"{task.request.id}:{task.request.retries or 0}"


def context() -> Context:
    return Context(Settings.from_env(), enqueue_part=enqueue_part, enqueue_reconcile_later=enqueue_reconcile_later)


def drop_root() -> Path:
    settings = Settings.from_env()
    return Path(os.environ.get("HENREI_DROP_DIR") or settings.data_dir / "drop")


def enqueue_register(job_id: int) -> None:
    from tasks.uploads import register_upload

    register_upload.delay(job_id)


def enqueue_reconcile(job_id: int) -> None:
    from tasks.reconcile import reconcile_clinic_month

    reconcile_clinic_month.delay(job_id)


def enqueue_reconcile_later(job_id: int, seconds: float) -> None:
    from tasks.reconcile import reconcile_clinic_month

    reconcile_clinic_month.apply_async((job_id,), countdown=seconds)


def enqueue_pickup(job_id: int) -> None:
    from tasks.nightly import pickup

    pickup.delay(job_id)


def enqueue_part(job_id: int) -> None:
    from tasks.parts import reconcile_part

    reconcile_part.delay(job_id)
