"""Run a file reader in a child process that may crash, abort, run out of memory or hang.

``run_isolated(target, src, out, memory_bytes=..., timeout_s=...)`` calls ``target(src, out)``
in a reader server: a child interpreter with its own address-space limit (``RLIMIT_AS``), no
core dumps, its own process group, dying with its parent. The target writes its result to
the path ``out`` and the caller reads it afterwards. Whatever happens in the child, the
caller gets either a normal return or an :class:`IsolatedFailure` whose ``str()`` is a
Japanese message for the clerk and whose ``reason`` is one of:

``"error"``    the target raised; ``exc_type`` and the message come back through a pipe
``"memory"``   the target raised ``MemoryError``, or the child died with an allocator's
               out-of-memory message on stderr (Rust's ``memory allocation of N bytes
               failed`` + abort, C++ ``bad_alloc``...), or was SIGKILLed with its peak RSS
               near the limit (the kernel OOM killer)
``"crashed"``  any other death: a signal (SIGABRT, SIGSEGV, SIGBUS, SIGKILL...) or an exit
               without reporting a result
``"timeout"``  still running after ``timeout_s``: the child's whole process group is killed

Design notes
------------
* The child is a fresh interpreter (``subprocess``: exec), never a bare fork: a fork of a
  multi-threaded parent (the reader threads, a progress display) can inherit a lock another
  thread held at that instant — the import lock, a logging lock — and hang; this was seen
  here under load.
* It is long-lived (``worker.reading.isolation_server``): started once with the target's
  module already imported, it reads file after file over a pipe, so a file costs a pipe round
  trip instead of an interpreter start and the reader's imports (~0.3-1.3 s each before).
  It is replaced after any failure, after a file that left it holding more than
  ``RETIRE_RSS_BYTES`` resident, and after ``RETIRE_AFTER_FILES`` files. The limits hold per
  file as before: the address-space limit is the process's, the timeout kills the group.
* The parent waits for a failed child without reaping it (``waitid(WNOWAIT)``) so that
  killing its process group can never hit a recycled pid, and reaps it with ``wait4`` to read
  its peak RSS. Works from any thread.
* The child's stderr goes to a temporary file; the part written during the failed file (its
  first and last 4 KB) is kept in ``IsolatedFailure.detail`` (for logs, never for clerks) and
  used to classify crashes.
* No zombie is left behind: every path, including an exception or KeyboardInterrupt in the
  parent while waiting, kills the group and reaps the child.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from worker.reading.isolation_outcome import IsolatedFailure
from worker.reading.isolation_server import give_back, take, warm

__all__ = ["IsolatedFailure", "run_isolated", "run_isolated_named", "warm"]


def run_isolated(
    target: Callable[..., None],
    src: str,
    out: str,
    *,
    memory_bytes: int,
    timeout_s: float,
    keep: int = 2,
    options: Mapping[str, Any] | None = None,
) -> None:
    """Run ``target(src, out, **options)`` in a reader server; raise :class:`IsolatedFailure`
    if it fails. ``options``: keyword arguments as plain JSON values (e.g. a row limit).

    ``keep``: how many idle servers of this kind to keep for later files (the number of
    files read at the same time)."""
    run_isolated_named(
        target.__module__,
        target.__qualname__,
        src,
        out,
        memory_bytes=memory_bytes,
        timeout_s=timeout_s,
        keep=keep,
        options=options,
    )


def run_isolated_named(
    module: str,
    qualname: str,
    src: str,
    out: str,
    *,
    memory_bytes: int,
    timeout_s: float,
    keep: int = 2,
    options: Mapping[str, Any] | None = None,
) -> None:
    """``run_isolated`` of the function ``module.qualname``, named rather than imported (the
    caller need not import the reader's module and what it imports)."""
    if memory_bytes <= 0 or timeout_s <= 0:
        raise ValueError("memory_bytes and timeout_s must be positive")
    server = take(module, memory_bytes)
    try:
        server.run(module, qualname, src, out, timeout_s, options)
    finally:
        give_back(server, keep)
