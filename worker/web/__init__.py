"""The clerks' web page (``henrei serve``): Litestar, server-rendered Japanese pages with a
little htmx, over the jobs' database. Every query is scoped by the session's clinic."""

from worker.clinic_ids import canonical_clinic_id
from worker.web.accounts import add_user
from worker.web.app import create_app
from worker.web.runner import JobMode, JobRunner

__all__ = ["JobMode", "JobRunner", "add_user", "canonical_clinic_id", "create_app"]
