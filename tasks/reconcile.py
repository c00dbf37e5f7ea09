"""Task: reconcile one clinic-month (a job ID) and store its findings and correction list."""

from tasks._base import job_task
from worker.jobs import TaskName, run_reconcile

reconcile_clinic_month = job_task(TaskName.RECONCILE)(run_reconcile)
