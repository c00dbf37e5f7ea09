"""The Litestar application: sessions, CSRF, templates, static files, security headers,
error pages, and who may see what (the session's user, loaded on every request).

Security comes from the framework's parts, configured here, not written by hand:
server-side sessions (``FileStore`` under the data folder; the cookie holds a random ID,
HttpOnly, SameSite=Lax, Secure behind HTTPS; a login ends after
``web_session_minutes`` without a request), CSRF (a token in every form and in htmx's
headers; a state-changing request without it is refused with 403), and one
``after_request`` hook adding the security headers to every response.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final

from litestar import Litestar, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.stores.file import FileStore
from litestar.template.config import TemplateConfig

from worker.config import Settings
from worker.files import publish
from worker.jobs import Engine
from worker.web.accounts import CLINIC_ROLES, SessionUser, load_user
from worker.web.runner import JobRunner
from worker.web.sessions import RotatingSessionConfig

__all__ = ["clinic_user", "create_app", "current_user", "engine_of", "settings_of"]

log = logging.getLogger(__name__)
HERE: Final = Path(__file__).resolve().parent
JST: Final = timezone(timedelta(hours=9))
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _secret(data_dir: Path) -> str:
    """The CSRF secret, made once per data folder (0600), so tokens survive a restart."""
    path = data_dir / "web" / "secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32), encoding="ascii")
        publish(tmp, path, mode=0o600)
    return path.read_text(encoding="ascii").strip()


def engine_of(request: ASGIConnection[Any, Any, Any, Any]) -> Engine:
    runner: JobRunner = request.app.state.runner
    return runner.ctx.engine


def settings_of(request: ASGIConnection[Any, Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def current_user(request: Request[Any, Any, Any]) -> SessionUser:
    """The logged-in user (loaded again on every request); otherwise off to the login page."""
    user_id = request.session.get("user_id") if request.session else None
    user = load_user(engine_of(request), int(user_id)) if isinstance(user_id, int) else None
    if user is None:
        raise NotAuthorizedException()
    return user


async def clinic_user(request: Request[Any, Any, Any]) -> SessionUser:
    """A user of one clinic (clerk or clinic admin): the pages of a clinic's data. For any
    other user (vendor admin, association) they do not exist (404), as another clinic's."""
    user = await current_user(request)
    if user.role not in CLINIC_ROLES or not user.clinic_id:
        raise NotFoundException()
    return user


def _security_headers(response: Response[Any]) -> Response[Any]:
    h = response.headers
    h["Content-Security-Policy"] = CSP
    h["X-Frame-Options"] = "DENY"
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "no-referrer"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    h.setdefault("Cache-Control", "no-store")
    return response


def _hsts(response: Response[Any]) -> Response[Any]:
    response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return _security_headers(response)


def _is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def _not_logged_in(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    if _is_htmx(request):  # a poll after the session expired: the whole page goes to the login
        return _security_headers(Response(content="", status_code=401, headers={"HX-Redirect": "/login"}))
    # the browser drops an expired session's cookie too: the login page says why it may show
    return _security_headers(Redirect("/login?expired=1"))


def _error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status >= 500:
        log.error("request failed with %s", type(exc).__name__)  # the type only: no values
    messages = {
        403: "この操作は行えません（画面を開き直してから、もう一度お試しください）。",
        404: "ページが見つかりません。",
        413: "ファイルが大きすぎます。",
    }
    text = messages.get(status, "エラーが発生しました。IT担当者（ベンダー）に連絡してください。")
    page = Template("error.html", context={"status": status, "message": text, "user": None}, status_code=status)
    return _security_headers(page)


async def _forget_expired_sessions(app: Litestar) -> None:
    """Remove the session files of logins that expired while the page was stopped."""
    store = app.stores.get("sessions")
    if isinstance(store, FileStore):
        await store.delete_expired()


def jst(value: datetime | None) -> str:
    """A stored UTC time as the clerk reads it (Japan time)."""
    if value is None:
        return ""
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M")


def _filters(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["jst"] = jst
    engine.engine.autoescape = True


def create_app(settings: Settings, runner: JobRunner | None = None) -> Litestar:
    """The page for ``settings`` (its data folder and database); jobs go to ``runner``."""
    from worker.web import (
        routes_admin,
        routes_association,
        routes_auth,
        routes_findings,
        routes_months,
        routes_survey_export,
        routes_users,
    )

    runner = runner or JobRunner(settings)
    https = settings.web_https == "on"
    sessions = RotatingSessionConfig(
        max_age=int(settings.web_session_minutes * 60),
        renew_on_access=True,
        httponly=True,
        samesite="lax",
        secure=https,
    )
    csrf = CSRFConfig(
        secret=_secret(settings.data_dir), cookie_secure=https, cookie_httponly=True, cookie_samesite="lax"
    )
    return Litestar(
        route_handlers=[
            *routes_auth.HANDLERS,
            *routes_months.HANDLERS,
            *routes_findings.HANDLERS,
            *routes_admin.HANDLERS,
            *routes_association.HANDLERS,
            *routes_survey_export.HANDLERS,
            *routes_users.HANDLERS,
            create_static_files_router(path="/static", directories=[HERE / "static"], send_as_attachment=False),
        ],
        middleware=[sessions.middleware],
        csrf_config=csrf,
        stores={"sessions": FileStore(settings.data_dir / "web" / "sessions", create_directories=True)},
        template_config=TemplateConfig(
            directory=HERE / "templates", engine=JinjaTemplateEngine, engine_callback=_filters
        ),
        dependencies={"user": Provide(current_user), "clinic": Provide(clinic_user)},
        after_request=_hsts if https else _security_headers,
        exception_handlers={NotAuthorizedException: _not_logged_in, HTTPException: _error_page, Exception: _error_page},
        state=State({"settings": settings, "runner": runner}),
        request_max_body_size=settings.max_file_mb * 1024 * 1024 * 10,
        on_startup=[_forget_expired_sessions],
        on_shutdown=[runner.close],
        debug=False,
    )
