"""Run a file reader in a child process that may crash, abort, run out of memory or hang.

``run_isolated(target, src, out, memory_bytes=..., timeout_s=...)`` starts a fresh Python
interpreter that limits its own address space (``RLIMIT_AS``) and disables core dumps,
then imports ``target`` by name and calls ``target(src, out)``; the target writes its
result to the path ``out`` and the caller reads it afterwards. Whatever happens in the
child, the parent gets either a normal return or an :class:`IsolatedFailure` whose
``str()`` is a Japanese message for the clerk and whose ``reason`` is one of:

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
* The child is a new interpreter (``subprocess``; what runs in it is
  ``worker.reading.isolation_child``), not a fork: a fork of a multi-threaded parent (the
  reader threads, a progress display) can inherit a lock another thread held at that
  instant — the import lock, a logging lock — and hang; this was seen here under load.
  The cost is ~0.3 s of interpreter start per file. The parent waits for the child
  without reaping it (``waitid(WNOWAIT)``) so that killing its process group can never hit
  a recycled pid, and reaps it with ``wait4`` to read its peak RSS. Works from any thread.
* The child leads a new process group (session), so grandchildren it starts are killed
  with it; ``PR_SET_PDEATHSIG`` kills it if the parent dies first.
* ``RLIMIT_AS`` bounds the child's *address space*, set before it imports anything heavy.
* The child's stderr goes to a temporary file; its last few KB are kept in
  ``IsolatedFailure.detail`` (for logs, never for clerks) and used to classify crashes.
* No zombie is left behind: every path, including an exception or KeyboardInterrupt in the
  parent while waiting, kills the group and reaps the child.
* The parent never relies on EOF of the report pipe (a sibling child forked by another
  thread at the same moment inherits its write end); it waits for the child itself
  (``pidfd`` when available, else a 20 ms poll).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any, Final

from worker.reading import isolation_child
from worker.reading.isolation_child import MAX_REPORT_BYTES

__all__ = ["IsolatedFailure", "run_isolated"]

#: bytes of the child's stderr kept for diagnosis (half from its start, half from its end)
STDERR_TAIL_BYTES: Final = 8 * 1024
#: a SIGKILLed child whose peak RSS reached this share of the limit is counted as memory
OOM_RSS_SHARE: Final = 0.9
#: polling interval when pidfd_open is unavailable
POLL_S: Final = 0.02

_MEMORY_MARKERS: Final = (
    "memory allocation of",  # Rust's default alloc error handler
    "MemoryError",
    "Cannot allocate memory",
    "std::bad_alloc",
    "out of memory",
    "Out of memory",
)
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff60]")


class IsolatedFailure(Exception):
    """str(exc) is a Japanese clerk-readable message;
    .reason in {"crashed","memory","timeout","error"}.

    ``exc_type`` is the name of the exception raised in the child (reason ``"error"`` or
    ``"memory"`` from ``MemoryError``), ``detail`` a technical description for logs
    (traceback, signal, stderr tail), ``exit_status`` the raw wait status (None when the
    child could not be started).
    """

    def __init__(
        self,
        message: str,
        reason: str,
        *,
        exc_type: str | None = None,
        detail: str = "",
        exit_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.exc_type = exc_type
        self.detail = detail
        self.exit_status = exit_status


def run_isolated(
    target: Callable[[str, str], None],
    src: str,
    out: str,
    *,
    memory_bytes: int,
    timeout_s: float,
) -> None:
    """Run ``target(src, out)`` in a child process; raise :class:`IsolatedFailure` if it fails."""
    if memory_bytes <= 0 or timeout_s <= 0:
        raise ValueError("memory_bytes and timeout_s must be positive")
    with tempfile.TemporaryFile(prefix="henrei-child-stderr-") as stderr_file:
        read_fd, write_fd = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # or the child would repeat buffered output
            with contextlib.suppress(Exception):
                stream.flush()
        cmd = [
            sys.executable,
            "-c",
            f"from {isolation_child.__name__} import spawned_main; spawned_main()",
            target.__module__,
            target.__qualname__,
            src,
            out,
            str(memory_bytes),
            str(write_fd),
            str(os.getpid()),
        ]
        # the child imports the target by name: give it the parent's import path
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr_file,
                pass_fds=(write_fd,),
                start_new_session=True,  # its own process group, killed as a whole
                env=env,
            )
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            raise IsolatedFailure(
                "読み込み処理を開始できませんでした（システムの資源が不足しています）。"
                "しばらくしてからもう一度お試しください。",
                "error",
                exc_type=type(exc).__name__,
                detail=str(exc),
            ) from exc
        pid = proc.pid
        os.close(write_fd)
        reaped = False
        try:
            report, timed_out = _wait_for_exit(pid, read_fd, time.monotonic() + timeout_s)
            _kill_group(pid)  # grandchildren left behind; the unreaped zombie pins the pid
            _, status, usage = os.wait4(pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
            reaped = True
            report += _drain(read_fd)
        finally:
            if not reaped:
                _kill_group(pid)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
                proc.returncode = -1
            os.close(read_fd)
        stderr_tail = _tail(stderr_file)
    _raise_for_outcome(report, status, usage.ru_maxrss * 1024, stderr_tail, timed_out, memory_bytes, timeout_s)


def _pidfd(pid: int) -> int | None:
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        fd: int = opener(pid)
    except OSError:
        return None
    return fd


def _wait_for_exit(pid: int, read_fd: int, deadline: float) -> tuple[bytes, bool]:
    """Collect the child's report until it exits (left unreaped) or the deadline passes
    (then its group is killed). Returns (report bytes, timed out?)."""
    report = bytearray()
    eof = False
    pidfd = _pidfd(pid)
    try:
        while True:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return bytes(report), False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill_group(pid)
                return bytes(report), True
            fds = [] if eof else [read_fd]
            if pidfd is not None:
                fds.append(pidfd)
                wait = remaining
            else:
                wait = min(remaining, POLL_S)
            ready = select.select(fds, [], [], wait)[0] if fds else []
            if not fds:
                time.sleep(wait)
            if read_fd in ready:
                data = os.read(read_fd, 65536)
                if not data:
                    eof = True
                elif len(report) < MAX_REPORT_BYTES:
                    report += data
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _drain(read_fd: int) -> bytes:
    """What is still in the pipe (never blocks: grandchildren may hold the write end)."""
    out = bytearray()
    while len(out) < MAX_REPORT_BYTES and select.select([read_fd], [], [], 0)[0]:
        data = os.read(read_fd, 65536)
        if not data:
            break
        out += data
    return bytes(out)


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def _tail(stderr_file: Any) -> str:
    """Head and tail of the child's stderr (an allocator's message comes first, a long
    backtrace after it)."""
    half = STDERR_TAIL_BYTES // 2
    try:
        size = stderr_file.seek(0, os.SEEK_END)
        stderr_file.seek(0)
        if size <= STDERR_TAIL_BYTES:
            data: bytes = stderr_file.read()
        else:
            head = stderr_file.read(half)
            stderr_file.seek(size - half)
            data = head + b"\n[...]\n" + stderr_file.read()
    except OSError:
        return ""
    return data.decode("utf-8", "replace")


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"シグナル{sig}"


def _mb(n: int) -> str:
    return f"{n / 1024**3:g}GB" if n >= 1024**3 and n % (1024**3) == 0 else f"{n // 1024**2}MB"


def _memory_failure(memory_bytes: int, detail: str, status: int | None, exc_type: str | None) -> IsolatedFailure:
    return IsolatedFailure(
        "ファイルの読み込みに必要なメモリが上限"
        f"（{_mb(memory_bytes)}）を超えたため中止しました。"
        "ファイルが大きすぎるか、シートに不要な範囲が含まれている可能性があります。"
        "不要なシート・行・列を削除するか、ファイルを分割してください。",
        "memory",
        exc_type=exc_type,
        detail=detail,
        exit_status=status,
    )


def _raise_for_outcome(
    raw_report: bytes,
    status: int,
    peak_rss: int,
    stderr_tail: str,
    timed_out: bool,
    memory_bytes: int,
    timeout_s: float,
) -> None:
    report: dict[str, Any] = {}
    if raw_report:
        with contextlib.suppress(ValueError):
            loaded = json.loads(raw_report.decode("utf-8", "replace"))
            if isinstance(loaded, dict):
                report = loaded
    stderr_note = f"\n--- child stderr (tail) ---\n{stderr_tail}" if stderr_tail else ""

    if timed_out:
        raise IsolatedFailure(
            f"ファイルの読み込みが制限時間（{timeout_s:g}秒）内に終わらなかったため中止しました。"
            "ファイルを分割するか、不要なデータを削除してください。",
            "timeout",
            detail=f"killed after {timeout_s:g}s" + stderr_note,
            exit_status=status,
        )
    exited_ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    if report.get("ok") is True and exited_ok:
        return
    if report.get("ok") is False:
        exc_type = str(report.get("type") or "Exception")
        message = str(report.get("message") or "")
        detail = str(report.get("traceback") or f"{exc_type}: {message}") + stderr_note
        if exc_type == "MemoryError":
            raise _memory_failure(memory_bytes, detail, status, exc_type)
        raise IsolatedFailure(
            _error_message(exc_type, message), "error", exc_type=exc_type, detail=detail, exit_status=status
        )

    # No report: the child died or left without saying anything.
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        how = f"killed by {_signal_name(sig)}"
    else:
        sig = 0
        how = f"exited with status {os.WEXITSTATUS(status)} without a report"
    detail = f"{how}; peak RSS {peak_rss // 1024**2} MB{stderr_note}"
    if any(marker in stderr_tail for marker in _MEMORY_MARKERS) or (
        sig == signal.SIGKILL and peak_rss >= OOM_RSS_SHARE * memory_bytes
    ):
        raise _memory_failure(memory_bytes, detail, status, None)
    what = f"（{_signal_name(sig)}）" if sig else ""
    raise IsolatedFailure(
        f"ファイルの読み込み処理が異常終了しました{what}。"
        "ファイルが壊れているか、対応していない形式の可能性があります。"
        "Excelで開いて保存し直してから、もう一度お試しください。",
        "crashed",
        detail=detail,
        exit_status=status,
    )


def _error_message(exc_type: str, message: str) -> str:
    text = " ".join(message.split())
    if len(text) > 300:
        text = text[:300] + "…"
    if text and _JAPANESE.search(text):  # already written for the clerk (our own readers)
        return f"ファイルを読み込めませんでした：{text}"
    shown = f"{exc_type}: {text}" if text else exc_type
    return f"ファイルを読み込めませんでした（{shown}）。ファイルが壊れているか、対応していない形式の可能性があります。"
