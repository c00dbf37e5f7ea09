"""The audit log: who did what when (logins, uploads, downloads, status changes).

A line holds the login, the clinic, an action and IDs or counts — never patient data
(no patient ID, name, file content; upload names neither: an upload is named by its ID).
The same event goes to the ``henrei.audit`` logger (English, the same fields).
"""

from __future__ import annotations

import logging
from typing import Any

from worker.jobs import AuditEvent, Engine, session_scope

__all__ = ["audit"]

log = logging.getLogger("henrei.audit")


def audit(engine: Engine, login: str, clinic_id: str | None, action: str, **detail: Any) -> None:
    """Record one event; ``detail`` holds IDs and counts only."""
    with session_scope(engine) as s:
        s.add(AuditEvent(login=login[:64], clinic_id=clinic_id, action=action, detail=detail or None))
    log.info("audit %s by %s clinic=%s %s", action, login[:64], clinic_id, detail or "")
