"""Task: write a clinic-month's survey submission (a job ID)."""

from tasks._base import job_task
from worker.jobs import TaskName
from worker.survey.jobs import run_survey_export

survey_export = job_task(TaskName.SURVEY_EXPORT)(run_survey_export)
