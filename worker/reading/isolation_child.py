"""The child side of ``worker.reading.isolation``: the reader server, a fresh interpreter
that reads file after file.

``worker.reading.isolation_server`` starts ``python -c "from worker.reading.isolation_child
import served_main; served_main()" <preload module> <memory> <request fd> <report fd>
<parent pid>``. :func:`served_main` dies with its parent, disables core dumps, limits its
own address space (``RLIMIT_AS``), makes pandas unimportable (see :data:`BLOCKED_MODULES`),
imports the preload module, then answers requests: one JSON line per request on the request
pipe (``module``, ``qualname``, ``src``, ``out``, ``options``) → ``target(src, out, **options)``
→ one JSON line on
the report pipe (``{"ok": true}`` or the exception's type, module, message and traceback).
After a failed target it leaves (the parent replaces it: a ``MemoryError`` may leave the heap
in a poor state); at the end of the request pipe (the parent is done with it) it leaves
with status 0. It always leaves through ``os._exit``.
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

__all__ = ["BLOCKED_MODULES", "MAX_REPORT_BYTES", "MAX_REQUEST_BYTES", "served_main"]

#: bytes of one report the parent is willing to read (the child writes no more)
MAX_REPORT_BYTES: Final = 64 * 1024
#: bytes of one request line (two paths and a target name)
MAX_REQUEST_BYTES: Final = 256 * 1024
#: modules the reader never needs and must not load: pyarrow imports pandas (~0.2-0.8 s and
#: ~60 MB) the first time ``pa.array`` sees a Python list, only to ask whether it is a
#: DataFrame. Blocked (an import finder that says it is not installed), pyarrow goes on without.
BLOCKED_MODULES: Final = ("pandas",)

_PR_SET_PDEATHSIG: Final = 1


def served_main() -> None:  # pragma: no cover - runs in the child
    """Entry of the reader server: limits first, then the preload, then request after request."""
    preload, memory, request_fd, report_fd, parent = sys.argv[1:6]
    code = 70
    try:
        try:
            _die_with_parent(int(parent))
            with contextlib.suppress(Exception):
                faulthandler.enable(file=sys.stderr, all_threads=False)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            limit = int(memory) if hard == resource.RLIM_INFINITY else min(int(memory), hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            sys.meta_path.insert(0, _Blocked())
            if preload:
                importlib.import_module(preload)
        except BaseException as exc:  # the first request gets this as its answer
            _write_report(int(report_fd), _describe(exc))
            code = 1
            return
        code = _serve(os.fdopen(int(request_fd), "rb", buffering=0), int(report_fd))
    finally:
        os._exit(code)


class _Blocked:  # pragma: no cover - child
    """An import finder for which :data:`BLOCKED_MODULES` are not installed."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.split(".", 1)[0] in BLOCKED_MODULES:
            raise ModuleNotFoundError(f"No module named {name!r} (not loaded in the reader)", name=name)


def _serve(requests: Any, report_fd: int) -> int:  # pragma: no cover - child
    """Answer requests until the pipe ends (0) or a target fails (1)."""
    pending = b""
    while True:
        while b"\n" not in pending:
            data = requests.read(65536)
            if not data:
                return 0
            pending += data
            if len(pending) > MAX_REQUEST_BYTES:
                return 1
        line, pending = pending.split(b"\n", 1)
        try:
            request = json.loads(line)
            target: Any = importlib.import_module(request["module"])
            for part in str(request["qualname"]).split("."):
                target = getattr(target, part)
            target(request["src"], request["out"], **dict(request.get("options") or {}))
        except BaseException as exc:  # everything goes back to the parent
            _write_report(report_fd, _describe(exc))
            return 1
        _write_report(report_fd, {"ok": True})


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
    """One line: JSON (newlines inside strings are escaped by JSON) and ``\\n``."""
    try:
        data = json.dumps(report, ensure_ascii=False).encode("utf-8", "replace")
    except BaseException:
        data = b""
    if len(data) >= MAX_REPORT_BYTES:
        data = json.dumps({"ok": False, "type": str(report.get("type", "Exception"))}).encode()
    view = memoryview(data + b"\n")
    with contextlib.suppress(OSError):
        while view:
            view = view[os.write(fd, view) :]


def _die_with_parent(parent: int) -> None:  # pragma: no cover - child
    """Ask the kernel to SIGKILL us if the parent's spawning thread (which lives as long as
    the parent process) dies; Linux only, best effort."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(70)
