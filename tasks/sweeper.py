"""Task: re-enqueue work the broker lost (Redis here keeps nothing on disk)."""

from tasks._base import periodic_task
from worker.jobs import Context, TaskName, enqueue, sweep


@periodic_task(TaskName.SWEEP, max_retries=3)
def sweeper(ctx: Context, task_id: str) -> None:
    sweep(ctx, enqueue(TaskName.REGISTER), enqueue(TaskName.RECONCILE), enqueue(TaskName.PICKUP))
