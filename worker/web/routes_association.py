"""The association's page (issue 14): aggregates only, never a clinic's findings.

An association user (role ``association``, no clinic) uploads the submission files its
member clinics sent (each checked against the schema at once: a bad one is refused with
its reason, the others kept), starts the aggregate (the ``survey_aggregate`` job over the
inbox, ``worker.survey.jobs``), and sees the latest aggregate's tables as published —
suppression applied (``summary.json``) — with survey.xlsx and summary.json to download.
Every page here is 404 for anyone else, and a clinic page is 404 for an association user
(``worker.web.app.clinic_user``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Final

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import File, Redirect, Template
from sqlalchemy import select

from worker.files import atomic_file
from worker.jobs import Job, JobKind, JobStatus, Role, session_scope
from worker.survey.jobs import inbox
from worker.survey.schema import SubmissionError, decode_envelope
from worker.survey.submission import submission_name
from worker.web.accounts import SessionUser
from worker.web.app import current_user, engine_of, settings_of
from worker.web.audit import audit
from worker.web.routes_months import display_name

__all__ = ["HANDLERS", "association_user"]

#: a submission is a few KiB; anything far larger is not one
MAX_SUBMISSION_BYTES: Final = 1 << 20
#: downloads of the latest aggregate: name in the URL -> (the job result's key, file name)
DOCUMENTS: Final = {"survey": ("xlsx", "survey.xlsx"), "summary": ("json", "summary.json")}
STATE_JA: Final = {
    JobStatus.QUEUED: "待機中",
    JobStatus.RUNNING: "集計中",
    JobStatus.DONE: "完了",
    JobStatus.FAILED: "失敗",
}


async def association_user(request: Request[Any, Any, Any]) -> SessionUser:
    """The association's user; for anyone else these pages do not exist (404)."""
    user = await current_user(request)
    if user.role != Role.ASSOCIATION:
        raise NotFoundException()
    return user


_ASSOC: Final = {"assoc": Provide(association_user)}


def _jobs(request: Request[Any, Any, Any], limit: int = 5) -> list[Job]:
    with session_scope(engine_of(request)) as s:
        return list(
            s.scalars(
                select(Job).where(Job.kind == JobKind.SURVEY_AGGREGATE).order_by(Job.id.desc()).limit(limit)
            ).all()
        )


def _latest_done(request: Request[Any, Any, Any]) -> Job | None:
    with session_scope(engine_of(request)) as s:
        return s.scalars(
            select(Job)
            .where(Job.kind == JobKind.SURVEY_AGGREGATE, Job.status == JobStatus.DONE)
            .order_by(Job.id.desc())
            .limit(1)
        ).first()


def _report_file(request: Request[Any, Any, Any], job: Job, key: str) -> Path | None:
    """A file of the aggregate's result, when it is inside the data folder's survey reports."""
    rel = (job.result or {}).get(key)
    if not isinstance(rel, str):
        return None
    root = (settings_of(request).data_dir / "survey" / "reports").resolve()
    path = (settings_of(request).data_dir / rel).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def _summary(request: Request[Any, Any, Any], job: Job | None) -> dict[str, Any] | None:
    path = _report_file(request, job, "json") if job else None
    if path is None:
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _page(request: Request[Any, Any, Any], user: SessionUser, **extra: Any) -> Template:
    folder = inbox(request.app.state.runner.ctx)
    latest = _latest_done(request)
    context = {
        "user": user,
        "mode": request.app.state.runner.mode_ja,
        "inbox_files": sum(1 for _ in folder.glob("*.json")) if folder.is_dir() else 0,
        "jobs": [(j, STATE_JA[j.status]) for j in _jobs(request)],
        "latest": latest,
        "summary": _summary(request, latest),
        "results": [],
        "watch": "",
        **extra,
    }
    context["polling"] = any(j.status in (JobStatus.QUEUED, JobStatus.RUNNING) for j, _ in context["jobs"])
    return Template("association.html", context=context)


@get("/association", dependencies=_ASSOC)
async def association(request: Request[Any, Any, Any], assoc: SessionUser) -> Template:
    return _page(request, assoc)


@get("/association/jobs", dependencies=_ASSOC)
async def association_jobs(request: Request[Any, Any, Any], assoc: SessionUser) -> Template:
    """The aggregate jobs' states (htmx polls this while one is open)."""
    jobs = [(j, STATE_JA[j.status]) for j in _jobs(request)]
    polling = any(j.status in (JobStatus.QUEUED, JobStatus.RUNNING) for j, _ in jobs)
    return Template("association_jobs.html", context={"jobs": jobs, "polling": polling})


def _store(folder: Path, data: bytes) -> tuple[str, str]:
    """Validate one submission's bytes and keep it in the inbox under a name of its own
    content (never the upload's name); returns (clinic, month). Raises SubmissionError."""
    env = decode_envelope(data)
    sub = env.submission
    folder.mkdir(parents=True, exist_ok=True)
    stem = submission_name(sub).removesuffix(".json")
    path = folder / f"{stem}-{hashlib.sha256(data).hexdigest()[:16]}.json"
    if not path.exists():
        with atomic_file(path) as tmp:
            tmp.write_bytes(data)
    return sub.clinic, sub.month


@post("/association/upload", dependencies=_ASSOC)
async def association_upload(
    request: Request[Any, Any, Any],
    assoc: SessionUser,
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template:
    """Each file checked against the submission schema now; the good ones into the inbox."""
    folder = inbox(request.app.state.runner.ctx)
    sent = data.get("files")
    files = [f for f in (sent if isinstance(sent, list) else [sent]) if isinstance(f, UploadFile) and f.filename]
    results: list[dict[str, str]] = []
    for f in files:
        name = display_name(f.filename)
        raw = await f.read(MAX_SUBMISSION_BYTES + 1)
        await f.close()
        if len(raw) > MAX_SUBMISSION_BYTES:
            results.append({"name": name, "error": "提出ファイルにしては大きすぎます（1MB まで）。"})
            continue
        try:
            clinic, month = _store(folder, raw)
        except SubmissionError as exc:
            results.append({"name": name, "error": f"取り込めません：{exc}"})
            continue
        results.append({"name": name, "ok": f"会員番号 {clinic}・{month} 診療分"})
    accepted = sum(1 for r in results if "ok" in r)
    audit(engine_of(request), assoc.login, None, "survey_upload", files=len(results), accepted=accepted)
    return _page(request, assoc, results=results)


@post("/association/aggregate", dependencies=_ASSOC)
async def association_aggregate(request: Request[Any, Any, Any], assoc: SessionUser) -> Redirect:
    job_id = request.app.state.runner.survey(JobKind.SURVEY_AGGREGATE)
    audit(engine_of(request), assoc.login, None, "survey_aggregate", job_id=job_id)
    return Redirect("/association")


@get("/association/documents/{doc:str}", dependencies=_ASSOC)
async def association_download(request: Request[Any, Any, Any], assoc: SessionUser, doc: str) -> File:
    latest = _latest_done(request)
    if doc not in DOCUMENTS or latest is None:
        raise NotFoundException()
    key, filename = DOCUMENTS[doc]
    path = _report_file(request, latest, key)
    if path is None:
        raise NotFoundException()
    audit(engine_of(request), assoc.login, None, "download", document=f"survey_{doc}", job_id=latest.id)
    return File(path, filename=filename, content_disposition_type="attachment")


HANDLERS = [association, association_jobs, association_upload, association_aggregate, association_download]
