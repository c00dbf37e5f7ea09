"""Task: re-enqueue work the broker lost (Redis here keeps nothing on disk)."""

from __future__ import annotations

from tasks._common import RETRYABLE, context, enqueue_pickup, enqueue_reconcile, enqueue_register
from worker.jobs import service
from worker.jobs.celery_app import app


@app.task(name="henrei.sweep", autoretry_for=RETRYABLE, retry_backoff=True, max_retries=3)
def sweep() -> None:
    service.sweep(context(), enqueue_register, enqueue_reconcile, enqueue_pickup)
