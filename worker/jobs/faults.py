"""Fault injection for the worker tests (``Settings.fault_*``); a no-op unless set.

An upload whose name contains ``HENREI_FAULT_KILL_MARKER`` kills the worker process that
handles it, on the first ``HENREI_FAULT_KILL_ATTEMPTS`` attempts (default: every attempt —
a poison file), at the stage ``HENREI_FAULT_KILL_STAGE`` names: "reconcile" (before
reading), "part" (a part of a split month, before its rules) or "combine" (the last part,
combining). With ``HENREI_FAULT_RAISE`` the code raises instead (an error, not a lost
process); with ``HENREI_FAULT_HANG_S`` it sleeps that long instead (a job a test kills
from outside while it runs, as an OOM kill or a container restart would).
"""

from __future__ import annotations

import os
import signal
import time

from worker.config import Settings

__all__ = ["inject_fault"]


def inject_fault(settings: Settings, stage: str, attempt: int, names: list[str]) -> None:
    """Kill this process (or raise) when a test asks for it at ``stage``; no-op otherwise."""
    marker = settings.fault_kill_marker
    if not marker or stage != settings.fault_kill_stage or attempt > settings.fault_kill_attempts:
        return
    if any(marker in n for n in names):
        if settings.fault_hang_s:
            time.sleep(settings.fault_hang_s)
            return
        if settings.fault_raise:
            raise RuntimeError(f"fault injected: {settings.fault_raise}")
        os.kill(os.getpid(), signal.SIGKILL)
