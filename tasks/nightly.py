"""Tasks: the 02:00 JST nightly run (beat), and a pick-up of the drop folders now (a job ID)."""

from __future__ import annotations

from celery import Task

from tasks._common import RETRYABLE, JobTask, context, delivery, drop_root, enqueue_register
from worker.jobs import service
from worker.jobs.celery_app import app


@app.task(name="henrei.nightly", bind=True, autoretry_for=RETRYABLE, retry_backoff=True, max_retries=8)
def nightly(self: Task) -> None:
    service.nightly(context(), drop_root(), enqueue_register, task_id=self.request.id)


@app.task(name="henrei.pickup", base=JobTask, bind=True, autoretry_for=RETRYABLE, retry_backoff=True, max_retries=8)
def pickup(self: Task, job_id: int) -> None:
    ctx = context()
    if service.start_job(ctx, job_id, delivery(self)):
        service.run_pickup(ctx, job_id, drop_root(), enqueue_register)
