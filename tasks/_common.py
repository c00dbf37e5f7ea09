"""Shared wiring of the tasks: the service context and how to enqueue by ID."""

from __future__ import annotations

import os
from pathlib import Path

from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import OperationalError as DatabaseError

from worker.config import Settings
from worker.service import Context

#: transient failures worth a retry with backoff (broker or database unreachable)
RETRYABLE: tuple[type[Exception], ...] = (BrokerError, DatabaseError, ConnectionError)


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
