"""Task: aggregate the survey inbox into the association's report (a job ID)."""

from tasks._base import job_task
from worker.jobs import TaskName
from worker.survey.jobs import run_survey_aggregate

survey_aggregate = job_task(TaskName.SURVEY_AGGREGATE)(run_survey_aggregate)
