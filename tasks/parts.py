"""Task: reconcile one part of a split clinic-month (a part job's ID); the last part combines them."""

from tasks._base import job_task
from worker.jobs import TaskName, run_reconcile

# run_reconcile runs a part job as a part (the sweeper also sends lost parts to the reconcile task)
reconcile_part = job_task(TaskName.PART)(run_reconcile)
