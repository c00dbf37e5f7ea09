"""Task: reconcile one clinic-month (a job ID) and store its findings and correction list."""

from __future__ import annotations

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from tasks._common import RETRYABLE, context
from worker import service
from worker.celery_app import app


@app.task(name="henrei.reconcile_clinic_month", bind=True, autoretry_for=RETRYABLE, retry_backoff=True, max_retries=8)
def reconcile_clinic_month(self: Task, job_id: int) -> None:
    ctx = context()
    if not service.start_job(ctx, job_id, self.request.id):
        return
    try:
        service.run_reconcile(ctx, job_id)
    except SoftTimeLimitExceeded:
        service.fail_job(
            ctx, job_id, "処理時間の上限を超えたため中止しました。ファイルを分けて再度アップロードしてください。"
        )
