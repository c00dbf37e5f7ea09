"""The clerks' web page (``henrei serve``): Litestar, server-rendered Japanese pages with a
little htmx, over the jobs' database. Every query is scoped by the session's clinic.

Names load on first use (PEP 562), so ``worker.web.cli`` — mounted by ``henrei`` — does not
pull Litestar, SQLAlchemy or pandas into every command's start."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from worker.clinic_ids import canonical_clinic_id
    from worker.web.accounts import add_user
    from worker.web.app import create_app
    from worker.web.runner import JobMode, JobRunner

__all__ = ["JobMode", "JobRunner", "add_user", "canonical_clinic_id", "create_app"]

_WHERE = {
    "canonical_clinic_id": "worker.clinic_ids",
    "add_user": "worker.web.accounts",
    "create_app": "worker.web.app",
    "JobMode": "worker.web.runner",
    "JobRunner": "worker.web.runner",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
