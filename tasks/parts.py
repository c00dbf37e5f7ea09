"""Task: reconcile one part of a split clinic-month (a part job's ID); the last part combines them."""

from __future__ import annotations

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from tasks._common import RETRYABLE, context
from worker import service
from worker.celery_app import app


@app.task(name="henrei.reconcile_part", bind=True, autoretry_for=RETRYABLE, retry_backoff=True, max_retries=8)
def reconcile_part(self: Task, job_id: int) -> None:
    ctx = context()
    if not service.start_job(ctx, job_id, self.request.id):
        return
    try:
        service.run_part(ctx, job_id)
    except SoftTimeLimitExceeded:
        service.fail_job(
            ctx, job_id, "処理時間の上限を超えたため中止しました。ファイルを分けて再度アップロードしてください。"
        )
