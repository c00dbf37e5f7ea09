"""The clinic admin's page: the clinic's users, adding a clerk, unlocking a locked login.
Only users of the admin's own clinic are listed or changed."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy import select

from worker.jobs import Role, User, session_scope, utcnow
from worker.web.accounts import SessionUser, add_user
from worker.web.app import engine_of
from worker.web.audit import audit

__all__ = ["HANDLERS"]

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
ROLE_JA = {Role.CLERK: "事務", Role.CLINIC_ADMIN: "医療機関の管理者"}


def _admin(user: SessionUser) -> str:
    if user.role != Role.CLINIC_ADMIN or not user.clinic_id:
        raise PermissionDeniedException()
    return user.clinic_id


def _page(request: Request[Any, Any, Any], user: SessionUser, error: str = "", done: str = "") -> Template:
    clinic_id = _admin(user)
    now = utcnow()
    with session_scope(engine_of(request)) as s:
        users = [
            {
                "id": u.id,
                "login": u.login,
                "name": u.display_name,
                "role": ROLE_JA.get(u.role, str(u.role)),
                "locked": u.locked_until is not None and u.locked_until > now,
                "last": u.last_login_at,
            }
            for u in s.scalars(select(User).where(User.clinic_id == clinic_id).order_by(User.login))
        ]
    context = {"user": user, "mode": request.app.state.runner.mode_ja, "users": users, "error": error, "done": done}
    return Template("users.html", context=context, status_code=400 if error else 200)


@get("/users")
async def users_page(request: Request[Any, Any, Any], clinic: SessionUser) -> Template:
    return _page(request, clinic)


@post("/users")
async def add_clerk(request: Request[Any, Any, Any], clinic: SessionUser, data: Form) -> Template:
    clinic_id = _admin(clinic)
    try:
        user_id = add_user(
            engine_of(request), data.get("login", ""), data.get("password", ""), Role.CLERK,
            clinic_id=clinic_id, display_name=(data.get("display_name") or "").strip() or None,
        )  # fmt: skip
    except ValueError as exc:
        return _page(request, clinic, error=str(exc))
    audit(engine_of(request), clinic.login, clinic_id, "user_add", user_id=user_id)
    return _page(request, clinic, done="事務の方を追加しました。")


@post("/users/{user_id:int}/unlock")
async def unlock(request: Request[Any, Any, Any], clinic: SessionUser, user_id: int) -> Redirect:
    clinic_id = _admin(clinic)
    with session_scope(engine_of(request)) as s:
        u = s.scalar(select(User).where(User.id == user_id, User.clinic_id == clinic_id))
        if u is None:
            raise NotFoundException()
        u.locked_until, u.failed_logins = None, 0
    audit(engine_of(request), clinic.login, clinic_id, "unlock", user_id=user_id)
    return Redirect("/users")


HANDLERS = [users_page, add_clerk, unlock]
