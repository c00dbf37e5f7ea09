"""Logging in (with lockout), logging out; every event in the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from worker.jobs import Role
from worker.web.accounts import LoginOutcome, SessionUser, authenticate, canonical_login, load_user
from worker.web.app import engine_of, settings_of
from worker.web.audit import audit
from worker.web.sessions import rotate_session

__all__ = ["HANDLERS"]

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def home_of(user: SessionUser) -> str:
    if user.role == Role.VENDOR_ADMIN:
        return "/vendor"
    if user.role == Role.ASSOCIATION:
        return "/association"
    return "/"


@get("/login", dependencies={})
async def login_page(request: Request[Any, Any, Any], expired: int = 0) -> Template:
    minutes = f"{settings_of(request).web_session_minutes:g}"
    note = f"ログインしてください（{minutes}分間操作がないと、自動でログアウトします）。" if expired else ""
    return Template("login.html", context={"error": "", "note": note, "user": None})


@post("/login")
async def login(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    engine, settings = engine_of(request), settings_of(request)
    login_name, password = canonical_login(data.get("login", "")), data.get("password", "")
    outcome, user_id = authenticate(engine, settings, login_name, password)
    user = load_user(engine, user_id) if outcome == LoginOutcome.OK and user_id is not None else None
    if user is None:
        if outcome == LoginOutcome.LOCKED:
            error = (
                f"パスワードを続けて間違えたため、このログイン名は{settings.web_lockout_minutes:g}分間ロックされています。"
                "時間をおいてから、もう一度お試しください（医療機関の管理者は「利用者の管理」で解除できます）。"
            )
        else:
            error = "ログイン名またはパスワードが違います。"
        action = "login_locked" if outcome == LoginOutcome.LOCKED else "login_failed"
        audit(engine, login_name or "-", None, action, user_id=user_id)
        context = {"error": error, "note": "", "user": None, "login": login_name}
        return Template("login.html", context=context, status_code=401)
    request.set_session({"user_id": user.id})
    rotate_session(request)
    audit(engine, user.login, user.clinic_id, "login", user_id=user.id)
    return Redirect(home_of(user))


@post("/logout")
async def logout(request: Request[Any, Any, Any], user: SessionUser) -> Redirect:
    audit(engine_of(request), user.login, user.clinic_id, "logout", user_id=user.id)
    request.clear_session()
    return Redirect("/login")


HANDLERS = [login_page, login, logout]
