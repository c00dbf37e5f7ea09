"""Task: read a stored upload (a register job's ID), find its months, queue their reconciliation."""

from __future__ import annotations

from celery import Task

from tasks._common import RETRYABLE, JobTask, context, delivery, enqueue_reconcile
from worker.jobs import service
from worker.jobs.celery_app import app


@app.task(
    name="henrei.register_upload", base=JobTask, bind=True, autoretry_for=RETRYABLE, retry_backoff=True,
    max_retries=8,
)  # fmt: skip
def register_upload(self: Task, job_id: int) -> None:
    ctx = context()
    if service.start_job(ctx, job_id, delivery(self)):
        service.run_register(ctx, job_id, enqueue_reconcile)
