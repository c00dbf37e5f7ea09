"""The child side of ``worker.reading.isolation``: what runs in the fresh interpreter.

``run_isolated`` starts ``python -c "from worker.reading.isolation_child import
spawned_main; spawned_main()" <module> <qualname> <src> <out> <memory> <fd> <parent pid>``.
:func:`spawned_main` dies with its parent, disables core dumps, limits its own address
space (``RLIMIT_AS``), imports the target by module and qualified name, calls
``target(src, out)`` and writes a JSON report (``{"ok": true}`` or the exception's type,
module, message and traceback) to the pipe ``fd``, then leaves with ``os._exit``.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import importlib
import json
import os
import resource
import signal
import sys
import traceback
from typing import Any, Final

__all__ = ["MAX_REPORT_BYTES", "spawned_main"]

#: bytes of the child's report the parent is willing to read (the child writes no more)
MAX_REPORT_BYTES: Final = 64 * 1024

_PR_SET_PDEATHSIG: Final = 1


def spawned_main() -> None:  # pragma: no cover - runs in the child
    """Entry of the child interpreter: a fresh process (no locks inherited from the parent's
    threads, unlike a fork), which sets its limits first, then imports and runs the target."""
    module, qualname, src, out, memory, write_fd, parent = sys.argv[1:8]
    code = 70
    try:
        report: dict[str, Any]
        try:
            _die_with_parent(int(parent))
            with contextlib.suppress(Exception):
                faulthandler.enable(file=sys.stderr, all_threads=False)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            limit = int(memory) if hard == resource.RLIM_INFINITY else min(int(memory), hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            target = importlib.import_module(module)
            for part in qualname.split("."):
                target = getattr(target, part)
            target(src, out)  # type: ignore[operator]
            report, code = {"ok": True}, 0
        except BaseException as exc:  # everything goes back to the parent
            report, code = _describe(exc), 1
        _write_report(int(write_fd), report)
    finally:
        os._exit(code)


def _describe(exc: BaseException) -> dict[str, Any]:  # pragma: no cover - child
    try:
        return {
            "ok": False,
            "type": type(exc).__name__,
            "module": type(exc).__module__,
            "message": str(exc)[:4000],
            "traceback": "".join(traceback.format_exception(exc))[-8000:],
        }
    except BaseException:
        return {"ok": False, "type": type(exc).__name__, "message": ""}


def _write_report(fd: int, report: dict[str, Any]) -> None:  # pragma: no cover - child
    try:
        data = json.dumps(report, ensure_ascii=False).encode("utf-8", "replace")
    except BaseException:
        data = json.dumps({"ok": False, "type": str(report.get("type", "Exception"))}).encode()
    view = memoryview(data[:MAX_REPORT_BYTES])
    with contextlib.suppress(OSError):
        while view:
            view = view[os.write(fd, view) :]


def _die_with_parent(parent: int) -> None:  # pragma: no cover - child
    """Ask the kernel to SIGKILL us if the parent (thread) dies; Linux only, best effort."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(70)
