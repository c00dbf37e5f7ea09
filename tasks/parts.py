"""Task: reconcile one part of a split clinic-month (a part job's ID); the last part combines
them (and, with HENREI_SURVEY_AUTO_EXPORT=on, queues the month's survey submission)."""

from tasks._base import job_task
from worker.jobs import Context, TaskName, enqueue, run_reconcile
from worker.survey.jobs import auto_export


def reconcile_part_and_export(ctx: Context, job_id: int) -> None:
    # run_reconcile runs a part job as a part (the sweeper also sends lost parts to the reconcile task)
    run_reconcile(ctx, job_id)
    auto_export(ctx, job_id, enqueue(TaskName.SURVEY_EXPORT))


reconcile_part = job_task(TaskName.PART)(reconcile_part_and_export)
