"""Task: read a stored upload (a register job's ID), find its months, queue their reconciliation."""

from __future__ import annotations

from celery import Task

from tasks._common import RETRYABLE, context, enqueue_reconcile
from worker import service
from worker.celery_app import app


@app.task(name="henrei.register_upload", bind=True, autoretry_for=RETRYABLE, retry_backoff=True, max_retries=8)
def register_upload(self: Task, job_id: int) -> None:
    ctx = context()
    if service.start_job(ctx, job_id, self.request.id):
        service.run_register(ctx, job_id, enqueue_reconcile)
