"""Task: read a stored upload (a register job's ID), find its months, queue their reconciliation."""

from tasks._base import job_task
from worker.jobs import Context, TaskName, enqueue, run_register


@job_task(TaskName.REGISTER)
def register_upload(ctx: Context, job_id: int) -> None:
    run_register(ctx, job_id, enqueue(TaskName.RECONCILE))
