"""The clinic's home (upload, jobs, months), the upload itself, live job progress, the
month view, its returns and its documents. Every query is scoped by the session's clinic."""

from __future__ import annotations

import re
import tempfile
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import File, Redirect, Template

from worker.jobs import accept_upload
from worker.web.accounts import SessionUser
from worker.web.app import engine_of, settings_of
from worker.web.audit import audit
from worker.web.chart import category_chart, months_chart
from worker.web.month_data import (
    DOCUMENTS,
    clinic_months,
    document_path,
    marks_after_list,
    month_returns,
    month_summary,
    recent_jobs,
    upload_jobs,
)
from worker.web.runner import JobRunner

__all__ = ["HANDLERS", "check_month"]

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def check_month(month: str) -> str:
    if not _MONTH.match(month):
        raise NotFoundException()
    return month


def _runner(request: Request[Any, Any, Any]) -> JobRunner:
    runner: JobRunner = request.app.state.runner
    return runner


def _base(request: Request[Any, Any, Any], user: SessionUser, **context: Any) -> dict[str, Any]:
    return {"user": user, "mode": _runner(request).mode_ja, **context}


@get("/")
async def home(request: Request[Any, Any, Any], clinic: SessionUser) -> Template:
    assert clinic.clinic_id
    engine = engine_of(request)
    context = _base(
        request,
        clinic,
        months=clinic_months(engine, clinic.clinic_id),
        jobs=recent_jobs(engine, clinic.clinic_id, limit=8),
        max_mb=settings_of(request).max_file_mb,
    )
    return Template("home.html", context=context)


def display_name(raw: str | None) -> str:
    """The file's own name as shown (a folder upload sends "folder/file.xlsx"): the last
    part, NFC, without control characters, at most 120 characters. Never used as a path."""
    name = PureWindowsPath(PurePosixPath(raw or "").name).name
    name = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C")
    return name[:120] or "（名前のないファイル）"


@post("/upload")
async def upload(
    request: Request[Any, Any, Any],
    clinic: SessionUser,
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template:
    """Each file: stored once by content, its register job queued; the result per file."""
    assert clinic.clinic_id
    settings, runner = settings_of(request), _runner(request)
    limit = settings.max_file_mb * 1024 * 1024
    results: list[dict[str, Any]] = []
    job_ids: list[int] = []
    tmp_dir = settings.data_dir / "uploads" / ".tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    sent = data.get("files")
    files = [f for f in (sent if isinstance(sent, list) else [sent]) if isinstance(f, UploadFile) and f.filename]
    for f in files:
        name = display_name(f.filename)
        fd, tmp_name = tempfile.mkstemp(prefix="web-", suffix=".part", dir=tmp_dir)
        tmp = Path(tmp_name)
        try:
            size, too_big = 0, False
            with open(fd, "wb") as out:
                while chunk := await f.read(1 << 20):
                    size += len(chunk)
                    if size > limit:
                        too_big = True
                        break
                    out.write(chunk)
            if too_big:
                results.append(
                    {"name": name, "error": f"ファイルが大きすぎます（1ファイル {settings.max_file_mb}MB まで）。"}
                )
                continue
            if size == 0:
                results.append({"name": name, "error": "空のファイルです。"})
                continue
            upload_id, created = accept_upload(runner.ctx, clinic.clinic_id, tmp, original_name=name)
        finally:
            tmp.unlink(missing_ok=True)
            await f.close()
        if not created:
            results.append({"name": name, "note": "同じ内容のファイルはすでに受け付けています（1回として扱います）。"})
            continue
        job_id = runner.submit(upload_id)
        job_ids.append(job_id)
        results.append({"name": name, "job": job_id})
        audit(
            engine_of(request), clinic.login, clinic.clinic_id, "upload", upload_id=upload_id, job_id=job_id, size=size
        )
    jobs = upload_jobs(engine_of(request), clinic.clinic_id, job_ids) if job_ids else []
    ids = ",".join(map(str, job_ids))
    return Template("upload_result.html", context={"results": results, "jobs": jobs, "ids": ids, "polling": bool(jobs)})


@get("/jobs")
async def jobs_fragment(request: Request[Any, Any, Any], clinic: SessionUser, ids: str = "") -> Template:
    """The jobs' states (htmx polls this every 2 s while any job is open)."""
    assert clinic.clinic_id
    wanted = [int(x) for x in ids.split(",") if x.isdigit()][:50] if ids else None
    engine = engine_of(request)
    if not wanted:  # the home page's right column: months and the latest jobs
        context = {"months": clinic_months(engine, clinic.clinic_id), "jobs": recent_jobs(engine, clinic.clinic_id, 8)}
        return Template("home_status.html", context=context)
    jobs = upload_jobs(engine, clinic.clinic_id, wanted)
    missing: dict[str, list[str]] = {}
    for month in sorted({j.month for j in jobs if j.kind == "照合" and j.done and j.month}):
        summary = month_summary(engine, settings_of(request).data_dir, clinic.clinic_id, month)
        if summary is not None:
            missing[month] = summary.missing
    open_jobs = any(not (j.done or j.failed) for j in jobs)
    return Template("jobs.html", context={"jobs": jobs, "ids": ids, "polling": open_jobs, "missing": missing})


@get("/months/{month:str}")
async def month_view(request: Request[Any, Any, Any], clinic: SessionUser, month: str) -> Template:
    assert clinic.clinic_id
    summary = month_summary(engine_of(request), settings_of(request).data_dir, clinic.clinic_id, check_month(month))
    if summary is None:
        raise NotFoundException()
    context = _base(
        request,
        clinic,
        s=summary,
        marks_after=marks_after_list(engine_of(request), clinic.clinic_id, month),
        rebuilding=job if (job := request.query_params.get("job", "")).isdigit() else "",
        chart=category_chart(summary.by_category),
        months=months_chart(summary.last_months, month),
        documents={
            k: label
            for k, (_, label) in DOCUMENTS.items()
            if document_path(engine_of(request), settings_of(request).data_dir, clinic.clinic_id, month, k)
        },
    )
    return Template("month.html", context=context)


@post("/months/{month:str}/rebuild")
async def rebuild(request: Request[Any, Any, Any], clinic: SessionUser, month: str) -> Redirect:
    """Make the month's documents again, with the statuses set on the page since."""
    assert clinic.clinic_id
    if month_summary(engine_of(request), settings_of(request).data_dir, clinic.clinic_id, check_month(month)) is None:
        raise NotFoundException()
    job_id = _runner(request).rebuild(clinic.clinic_id, month)
    audit(engine_of(request), clinic.login, clinic.clinic_id, "rebuild", month=month, job_id=job_id)
    return Redirect(f"/months/{month}?job={job_id}")


@get("/months/{month:str}/returns")
async def returns_view(request: Request[Any, Any, Any], clinic: SessionUser, month: str) -> Template:
    assert clinic.clinic_id
    rows = month_returns(engine_of(request), settings_of(request).data_dir, clinic.clinic_id, check_month(month))
    if rows is None:
        raise NotFoundException()
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return Template("returns.html", context=_base(request, clinic, month=month, rows=rows, columns=columns))


@get("/months/{month:str}/documents/{doc:str}")
async def download(request: Request[Any, Any, Any], clinic: SessionUser, month: str, doc: str) -> File:
    assert clinic.clinic_id
    path = document_path(engine_of(request), settings_of(request).data_dir, clinic.clinic_id, check_month(month), doc)
    if path is None:
        raise NotFoundException()
    audit(engine_of(request), clinic.login, clinic.clinic_id, "download", month=month, document=doc)
    stem, suffix = DOCUMENTS[doc][0].rsplit(".", 1)
    return File(path, filename=f"{stem}_{month}.{suffix}", content_disposition_type="attachment")


HANDLERS = [home, upload, jobs_fragment, month_view, rebuild, returns_view, download]
