"""Clinics and users: creating them, logging in (with lockout), loading the session's user."""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from worker.clinic_ids import canonical_clinic_id
from worker.config import Settings
from worker.jobs import Clinic, Engine, Role, User, session_scope, utcnow
from worker.web.passwords import hash_password, needs_rehash, verify_password, waste_time

__all__ = ["CLINIC_ROLES", "LoginOutcome", "SessionUser", "add_user", "authenticate", "canonical_login", "load_user"]

#: roles whose user belongs to one clinic
CLINIC_ROLES = (Role.CLERK, Role.CLINIC_ADMIN)


class LoginOutcome(enum.StrEnum):
    OK = "ok"
    BAD = "bad"  # unknown login or wrong password (the page says the same for both)
    LOCKED = "locked"


@dataclass(frozen=True)
class SessionUser:
    """The logged-in user as the pages use it (loaded from the database on every request)."""

    id: int
    login: str
    display_name: str
    role: Role
    clinic_id: str | None
    clinic_name: str


def canonical_login(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw).strip().lower()[:64]


def add_user(
    engine: Engine,
    login: str,
    password: str,
    role: Role,
    *,
    clinic_id: str | None = None,
    clinic_name: str | None = None,
    display_name: str | None = None,
) -> int:
    """Create a user (and its clinic, when new); returns its ID. Raises ValueError (Japanese)."""
    name = canonical_login(login)
    if not name:
        raise ValueError("ログイン名を指定してください。")
    if role in CLINIC_ROLES and not clinic_id:
        raise ValueError("医療機関の利用者には医療機関IDが必要です（--clinic）。")
    if role not in CLINIC_ROLES and clinic_id:
        raise ValueError("この役割の利用者は医療機関に属しません（--clinic は指定しないでください）。")
    clinic = canonical_clinic_id(clinic_id) if clinic_id else None
    hashed = hash_password(password)
    with session_scope(engine) as s:
        if s.scalar(select(User.id).where(User.login == name)) is not None:
            raise ValueError(f"ログイン名「{name}」はすでに使われています。")
        if clinic is not None and s.get(Clinic, clinic) is None:
            s.add(Clinic(id=clinic, name=clinic_name or clinic))
        elif clinic is not None and clinic_name:
            s.get_one(Clinic, clinic).name = clinic_name
        user = User(login=name, display_name=display_name or name, role=role, clinic_id=clinic, password_hash=hashed)
        s.add(user)
        s.flush()
        return user.id


def authenticate(engine: Engine, settings: Settings, login: str, password: str) -> tuple[LoginOutcome, int | None]:
    """Check a login; count failures and lock the login after ``web_lockout_failures`` in a
    row for ``web_lockout_minutes`` (a locked login is refused even with the right password).
    Returns the outcome and the user's ID (None when the login is unknown)."""
    name = canonical_login(login)
    now = utcnow()
    with session_scope(engine) as s:
        user = s.scalar(select(User).where(User.login == name))
        if user is None:
            waste_time(password)
            return LoginOutcome.BAD, None
        if user.locked_until is not None and user.locked_until > now:
            return LoginOutcome.LOCKED, user.id
        if not verify_password(user.password_hash, password):
            user.failed_logins += 1
            if user.failed_logins >= settings.web_lockout_failures:
                user.locked_until = now + timedelta(minutes=settings.web_lockout_minutes)
                user.failed_logins = 0
                return LoginOutcome.LOCKED, user.id
            return LoginOutcome.BAD, user.id
        user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return LoginOutcome.OK, user.id


def load_user(engine: Engine, user_id: int) -> SessionUser | None:
    """The session's user, or None when it no longer exists or is locked."""
    with session_scope(engine) as s:
        user = s.get(User, user_id)
        if user is None or (user.locked_until is not None and user.locked_until > utcnow()):
            return None
        clinic = s.get(Clinic, user.clinic_id) if user.clinic_id else None
        return SessionUser(
            user.id, user.login, user.display_name, user.role, user.clinic_id, clinic.name if clinic else ""
        )
