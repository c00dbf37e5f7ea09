"""Task: reconcile one clinic-month (a job ID) and store its findings and correction list;
then, with HENREI_SURVEY_AUTO_EXPORT=on, queue its survey submission (opted-in clinics)."""

from tasks._base import job_task
from worker.jobs import Context, TaskName, enqueue, run_reconcile
from worker.survey.jobs import auto_export


def reconcile_and_export(ctx: Context, job_id: int) -> None:
    run_reconcile(ctx, job_id)
    auto_export(ctx, job_id, enqueue(TaskName.SURVEY_EXPORT))


reconcile_clinic_month = job_task(TaskName.RECONCILE)(reconcile_and_export)
