"""Task: reconcile one clinic-month (a job ID) and store its findings and correction list."""

from __future__ import annotations

from celery import Task

from tasks._common import RETRYABLE, JobTask, context, delivery
from worker.jobs import service
from worker.jobs.celery_app import app


@app.task(
    name="henrei.reconcile_clinic_month", base=JobTask, bind=True, autoretry_for=RETRYABLE, retry_backoff=True,
    max_retries=8,
)  # fmt: skip
def reconcile_clinic_month(self: Task, job_id: int) -> None:
    ctx = context()
    if service.start_job(ctx, job_id, delivery(self)):
        service.run_reconcile(ctx, job_id)
