"""Task: reconcile one part of a split clinic-month (a part job's ID); the last part combines them."""

from __future__ import annotations

from celery import Task

from tasks._common import RETRYABLE, JobTask, context, delivery
from worker.jobs import service
from worker.jobs.celery_app import app


@app.task(
    name="henrei.reconcile_part", base=JobTask, bind=True, autoretry_for=RETRYABLE, retry_backoff=True, max_retries=8
)
def reconcile_part(self: Task, job_id: int) -> None:
    ctx = context()
    if service.start_job(ctx, job_id, delivery(self)):
        service.run_part(ctx, job_id)
