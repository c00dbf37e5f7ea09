"""The clinic's side of the association survey on the month view (issue 14 item 1): for a
clinic that opted in (``HENREI_SURVEY_CLINICS``), 「調査用の集計を書き出す」 runs the
``survey_export`` job of the month and offers its submission file (counts only, no patient
field) for download; the clinic hands it to its association — henrei sends nothing.
Scoped by the session's clinic like every clinic page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import File, Redirect, Template
from sqlalchemy import select

from worker.jobs import Job, JobKind, JobStatus, session_scope
from worker.survey.clinics import SurveyClinic, survey_clinic
from worker.survey.schema import SubmissionError
from worker.web.accounts import SessionUser
from worker.web.app import engine_of, settings_of
from worker.web.audit import audit
from worker.web.month_data import has_list
from worker.web.routes_months import check_month

__all__ = ["HANDLERS"]

STATE_JA = {
    JobStatus.QUEUED: "待機中",
    JobStatus.RUNNING: "書き出し中",
    JobStatus.DONE: "完了",
    JobStatus.FAILED: "失敗",
}


def _opted_in(request: Request[Any, Any, Any], clinic_id: str) -> SurveyClinic | None:
    try:
        return survey_clinic(settings_of(request), clinic_id)
    except SubmissionError:  # not opted in, or the file cannot be read: no button
        return None


def _month(request: Request[Any, Any, Any], clinic: SessionUser, month: str) -> tuple[str, str]:
    """(clinic, month) when the clinic opted in and has the month's list; else not found."""
    assert clinic.clinic_id
    if not has_list(engine_of(request), clinic.clinic_id, check_month(month)):
        raise NotFoundException()
    if _opted_in(request, clinic.clinic_id) is None:
        raise NotFoundException()
    return clinic.clinic_id, month


def _latest(request: Request[Any, Any, Any], clinic_id: str, month: str, done: bool = False) -> Job | None:
    q = select(Job).where(Job.kind == JobKind.SURVEY_EXPORT, Job.clinic_id == clinic_id, Job.claim_month == month)
    if done:
        q = q.where(Job.status == JobStatus.DONE)
    with session_scope(engine_of(request)) as s:
        return s.scalars(q.order_by(Job.id.desc()).limit(1)).first()


def _file(request: Request[Any, Any, Any], clinic_id: str, job: Job | None) -> Path | None:
    """The export's file, when it is inside the clinic's outbox."""
    rel = (job.result or {}).get("file") if job else None
    if not isinstance(rel, str):
        return None
    data_dir = settings_of(request).data_dir
    root = (data_dir / "survey" / "outbox" / clinic_id).resolve()
    path = (data_dir / rel).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


@get("/months/{month:str}/survey")
async def survey_box(request: Request[Any, Any, Any], clinic: SessionUser, month: str) -> Template:
    """The month view's survey box (loaded by htmx; polls itself while an export runs);
    empty for a clinic that has not opted in."""
    assert clinic.clinic_id
    check_month(month)
    entry = _opted_in(request, clinic.clinic_id)
    if entry is None or not has_list(engine_of(request), clinic.clinic_id, month):
        return Template("survey_box.html", context={"entry": None, "month": month})
    job = _latest(request, clinic.clinic_id, month)
    context = {
        "entry": entry,
        "month": month,
        "job": job,
        "state": STATE_JA[job.status] if job else "",
        "open": job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING),
        "file": _file(request, clinic.clinic_id, _latest(request, clinic.clinic_id, month, done=True)),
    }
    return Template("survey_box.html", context=context)


@post("/months/{month:str}/survey")
async def survey_export(request: Request[Any, Any, Any], clinic: SessionUser, month: str) -> Redirect:
    clinic_id, month = _month(request, clinic, month)
    job_id = request.app.state.runner.survey(JobKind.SURVEY_EXPORT, clinic_id, month)
    audit(engine_of(request), clinic.login, clinic_id, "survey_export", month=month, job_id=job_id)
    return Redirect(f"/months/{month}")


@get("/months/{month:str}/survey/file")
async def survey_file(request: Request[Any, Any, Any], clinic: SessionUser, month: str) -> File:
    clinic_id, month = _month(request, clinic, month)
    job = _latest(request, clinic_id, month, done=True)
    path = _file(request, clinic_id, job)
    if path is None or job is None:
        raise NotFoundException()
    audit(engine_of(request), clinic.login, clinic_id, "download", month=month, document="survey", job_id=job.id)
    return File(path, filename=path.name, content_disposition_type="attachment", media_type="application/json")


HANDLERS = [survey_box, survey_export, survey_file]
