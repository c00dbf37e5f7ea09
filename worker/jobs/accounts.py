"""The web page's tables: clinics, their users (roles) and the audit log.

They live with the other tables (one ``Base``, one set of Alembic migrations); the web
package (``worker.web``) holds everything else of accounts: passwords, lockout, sessions.
The audit log holds who, when and what — an action and IDs — never patient data.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from worker.jobs.models import Base, EnumText, JSONDict, UTCDateTime, _one_of, utcnow

__all__ = ["AuditEvent", "Clinic", "Role", "User"]


class Role(enum.StrEnum):
    """What a user may do.

    - clerk: works the findings of their own clinic;
    - clinic_admin: the same, and manages the clinic's clerks;
    - vendor_admin: manages clinics and sees job health across them (no findings);
    - association: reserved for the association page (aggregates only; not built yet).
    """

    CLERK = "clerk"
    CLINIC_ADMIN = "clinic_admin"
    VENDOR_ADMIN = "vendor_admin"
    ASSOCIATION = "association"


class Clinic(Base):
    __tablename__ = "clinics"

    #: the canonical clinic ID (the same as uploads.clinic_id, jobs.clinic_id, ...)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_one_of("role", list(Role)), name="role"),
        # a clinic's user names a clinic; a vendor admin or an association user does not
        CheckConstraint("(role IN ('clerk', 'clinic_admin')) = (clinic_id IS NOT NULL)", name="clinic"),
        Index("ix_users_clinic_id", "clinic_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the login name (unique, NFKC-normalised, lower case)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(Text)
    role: Mapped[Role] = mapped_column(EnumText(Role))
    clinic_id: Mapped[str | None] = mapped_column(ForeignKey("clinics.id"), default=None)
    #: argon2id hash (argon2-cffi's encoded form)
    password_hash: Mapped[str] = mapped_column(Text)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class AuditEvent(Base):
    """One line of the audit log: logins, uploads, downloads, status changes."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_clinic_id_at", "clinic_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the login name as typed for a failed login of an unknown user (never a password)
    login: Mapped[str] = mapped_column(String(64))
    clinic_id: Mapped[str | None] = mapped_column(String(64), default=None)
    #: e.g. login, login_failed, locked, logout, upload, download, status
    action: Mapped[str] = mapped_column(String(32))
    #: IDs and counts only (upload ID, month, document, number of findings, status)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONDict, default=None)
