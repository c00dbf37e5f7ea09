"""The vendor admin's page: job health across clinics (counts only, no findings)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.exceptions import PermissionDeniedException
from litestar.response import Template
from sqlalchemy import func, select

from worker.jobs import Clinic, Job, JobKind, JobStatus, Role, session_scope
from worker.web.accounts import SessionUser
from worker.web.app import engine_of

__all__ = ["HANDLERS"]


@get("/vendor")
async def vendor(request: Request[Any, Any, Any], user: SessionUser) -> Template:
    """Per clinic: jobs open, failed, done, and the last finished — counts only."""
    if user.role != Role.VENDOR_ADMIN:
        raise PermissionDeniedException()
    with session_scope(engine_of(request)) as s:
        names = dict(s.execute(select(Clinic.id, Clinic.name)).all())
        rows = s.execute(
            select(Job.clinic_id, Job.status, func.count(), func.max(Job.finished_at))
            .where(Job.kind.in_([JobKind.REGISTER, JobKind.RECONCILE, JobKind.PART]), Job.clinic_id.is_not(None))
            .group_by(Job.clinic_id, Job.status)
        ).all()
    health: dict[str, dict[str, Any]] = {
        c: {"name": n, "open": 0, "failed": 0, "done": 0, "last": None} for c, n in names.items()
    }
    for clinic_id, status, n, last in rows:
        assert clinic_id is not None
        h = health.setdefault(clinic_id, {"name": clinic_id, "open": 0, "failed": 0, "done": 0, "last": None})
        key = {JobStatus.FAILED: "failed", JobStatus.DONE: "done"}.get(status, "open")
        h[key] += int(n)
        if last is not None and (h["last"] is None or last > h["last"]):
            h["last"] = last
    context = {"user": user, "mode": request.app.state.runner.mode_ja, "health": sorted(health.items())}
    return Template("vendor.html", context=context)


HANDLERS = [vendor]
