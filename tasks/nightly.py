"""Tasks: the 02:00 JST nightly run (beat), and a pick-up of the drop folders now (a job ID)."""

from tasks._base import job_task, periodic_task
from worker.jobs import Context, TaskName, enqueue, run_pickup
from worker.jobs import nightly as nightly_run


@periodic_task(TaskName.NIGHTLY)
def nightly(ctx: Context, task_id: str) -> None:
    nightly_run(ctx, enqueue(TaskName.REGISTER), task_id=task_id)


@job_task(TaskName.PICKUP)
def pickup(ctx: Context, job_id: int) -> None:
    run_pickup(ctx, job_id, enqueue(TaskName.REGISTER))
