"""Task: the 02:00 JST nightly run (drop folders -> uploads -> reconciliation)."""

from __future__ import annotations

from tasks._common import RETRYABLE, context, drop_root, enqueue_register
from worker import service
from worker.celery_app import app


@app.task(name="henrei.nightly", autoretry_for=RETRYABLE, retry_backoff=True, max_retries=8)
def nightly() -> None:
    service.nightly(context(), drop_root(), enqueue_register)
