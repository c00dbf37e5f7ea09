"""The parent side of the reader server: long-lived, pre-imported child interpreters that read
file after file, and the pool that hands them out (used by ``worker.reading.isolation``).

A :class:`ReaderServer` is a fresh interpreter (``subprocess``: exec, never a bare fork, so it
inherits no thread and no lock of the parent) running ``worker.reading.isolation_child``. It
is started with its address-space limit and a module to import at once (the reader), then
gets one request per file over a pipe and answers with one report line. It is thrown away
and replaced when it fails (a crash, a signal, a target's exception, a timeout: its whole
process group is killed), when its resident memory stays above :data:`RETIRE_RSS_BYTES`
after a file, or after :data:`RETIRE_AFTER_FILES` files.

Servers are started by one long-lived spawner thread: ``PR_SET_PDEATHSIG`` fires when the
*thread* that started a child ends, so a server started by a short-lived reader thread would
be killed with it; the spawner thread lives as long as the process. Idle servers are kept
per address-space limit (at most the number of files read at the same time); a process
forked from ours forgets them (``os.register_at_fork``), and they are killed at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any, Final

from worker.reading import isolation_child
from worker.reading.isolation_child import MAX_REPORT_BYTES
from worker.reading.isolation_outcome import IsolatedFailure, raise_for_outcome

__all__ = ["RETIRE_AFTER_FILES", "RETIRE_RSS_BYTES", "ReaderServer", "close_idle", "give_back", "take", "warm"]

#: a server whose resident memory is above this after a file is replaced (the next file
#: starts from a clean heap; a big workbook leaves a big heap behind)
RETIRE_RSS_BYTES: Final = 512 * 1024**2
#: ... and after this many files in any case
RETIRE_AFTER_FILES: Final = 200
#: bytes of the server's stderr kept for diagnosis (half from the request's start, half from its end)
STDERR_TAIL_BYTES: Final = 8 * 1024
#: polling interval when pidfd_open is unavailable
POLL_S: Final = 0.02
#: how long a server that reported a failure may take to leave before it is killed
LEAVE_S: Final = 5.0

_CANNOT_START = (
    "読み込み処理を開始できませんでした（システムの資源が不足しています）。しばらくしてからもう一度お試しください。"
)


class ReaderServer:
    """One reader child: :meth:`run` one file at a time (not shared between threads)."""

    def __init__(self, preload: str, memory_bytes: int) -> None:
        self.preload = preload
        self.memory_bytes = memory_bytes
        self.files = 0
        self.alive = False
        self._stderr: IO[bytes] = tempfile.TemporaryFile(prefix="henrei-reader-stderr-")  # noqa: SIM115 - lives with the server
        req_read, self._requests = os.pipe()
        self._reports, rep_write = os.pipe()
        cmd = [
            sys.executable,
            "-c",
            f"from {isolation_child.__name__} import served_main; served_main()",
            preload,
            str(memory_bytes),
            str(req_read),
            str(rep_write),
            str(os.getpid()),
        ]
        # the server imports targets by name: give it the parent's import path
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                pass_fds=(req_read, rep_write),
                start_new_session=True,  # its own process group, killed as a whole
                env=env,
            )
        except OSError:
            for fd in (self._requests, self._reports):
                os.close(fd)
            self._stderr.close()
            raise
        finally:
            os.close(req_read)
            os.close(rep_write)
        self.pid = self._proc.pid
        self.alive = True

    # ------------------------------------------------------------------ one file

    def run(
        self, module: str, qualname: str, src: str, out: str, timeout_s: float, options: Mapping[str, Any] | None = None
    ) -> None:
        """``module.qualname(src, out, **options)`` in the server (``options``: plain JSON
        values, e.g. a limit); raise :class:`IsolatedFailure` when it fails (the server is
        then gone: :attr:`alive` is False)."""
        start = self._stderr.seek(0, os.SEEK_END)
        fields = {"module": module, "qualname": qualname, "src": src, "out": out, "options": dict(options or {})}
        request = json.dumps(fields).encode() + b"\n"
        deadline = time.monotonic() + timeout_s
        try:
            with contextlib.suppress(BrokenPipeError):  # it died: the wait below says how
                view = memoryview(request)
                while view:
                    view = view[os.write(self._requests, view) :]
            report, timed_out = self._wait_for_report(deadline)
        except BaseException:
            self.kill()
            raise
        self.files += 1
        if report is not None and not timed_out and report.get("ok") is True:
            return
        if report is not None and not timed_out:
            self._wait_for_exit(time.monotonic() + LEAVE_S)
        status, peak = self._reap()
        raw = json.dumps(report).encode() if report is not None else b""
        raise_for_outcome(raw, status, peak, self._tail(start), timed_out, self.memory_bytes, timeout_s)
        raise AssertionError("unreachable: a failure was not classified")  # pragma: no cover

    def worn(self) -> bool:
        """True when the server should be replaced rather than read another file."""
        if not self.alive or self.files >= RETIRE_AFTER_FILES or self._exited():
            return True
        try:
            pages = int(open(f"/proc/{self.pid}/statm").read().split()[1])  # noqa: SIM115
        except (OSError, ValueError, IndexError):
            return False
        return pages * os.sysconf("SC_PAGE_SIZE") > RETIRE_RSS_BYTES

    def kill(self) -> None:
        """Kill the server's process group and reap it (idempotent)."""
        if self.alive:
            self._reap()
        with contextlib.suppress(OSError):
            self._stderr.close()

    # ------------------------------------------------------------------ internals

    def _exited(self) -> bool:
        with contextlib.suppress(ChildProcessError):
            return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        return True

    def _wait_for_report(self, deadline: float) -> tuple[dict[str, Any] | None, bool]:
        """The report line (None when the server left without one), and whether the deadline
        passed first. The server is left unreaped when it exits, so its pid stays ours."""
        buffer = bytearray()
        pidfd = _pidfd(self.pid)
        try:
            while True:
                if b"\n" in buffer:
                    return _parse(bytes(buffer.split(b"\n", 1)[0])), False
                if self._exited():
                    buffer += _drain(self._reports)
                    return (_parse(bytes(buffer.split(b"\n", 1)[0])) if b"\n" in buffer else None), False
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    _kill_group(self.pid)
                    return None, True
                fds = [self._reports] if pidfd is None else [self._reports, pidfd]
                wait = remaining if pidfd is not None else min(remaining, POLL_S)
                if self._reports in select.select(fds, [], [], wait)[0]:
                    data = os.read(self._reports, 65536)
                    if not data:  # the server closed its end: it is leaving
                        self._wait_for_exit(deadline)
                        continue
                    if len(buffer) < MAX_REPORT_BYTES:
                        buffer += data
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def _wait_for_exit(self, deadline: float) -> None:
        while not self._exited() and time.monotonic() < deadline:
            time.sleep(POLL_S)

    def _reap(self) -> tuple[int, int]:
        """Kill what is left of the group, reap the server: (wait status, peak RSS bytes)."""
        _kill_group(self.pid)  # grandchildren left behind; the unreaped zombie pins the pid
        status, peak = -1, 0
        with contextlib.suppress(ChildProcessError):
            _, status, usage = os.wait4(self.pid, 0)
            peak = usage.ru_maxrss * 1024
            self._proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if self.alive:
            self.alive = False
            for fd in (self._requests, self._reports):
                with contextlib.suppress(OSError):
                    os.close(fd)
        return status, peak

    def _tail(self, start: int) -> str:
        """Head and tail of what the server wrote to stderr since ``start``."""
        half = STDERR_TAIL_BYTES // 2
        try:
            size = self._stderr.seek(0, os.SEEK_END)
            self._stderr.seek(start)
            if size - start <= STDERR_TAIL_BYTES:
                data = self._stderr.read()
            else:
                head = self._stderr.read(half)
                self._stderr.seek(size - half)
                data = head + b"\n[...]\n" + self._stderr.read()
            self._stderr.close()
        except (OSError, ValueError):
            return ""
        return data.decode("utf-8", "replace")


def _parse(line: bytes) -> dict[str, Any]:
    with contextlib.suppress(ValueError):
        loaded = json.loads(line.decode("utf-8", "replace"))
        if isinstance(loaded, dict):
            return loaded
    return {"ok": False, "type": "ProtocolError", "message": ""}


def _pidfd(pid: int) -> int | None:
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        fd: int = opener(pid)
    except OSError:
        return None
    return fd


def _drain(fd: int) -> bytes:
    """What is still in the pipe (never blocks: grandchildren may hold the write end)."""
    out = bytearray()
    while len(out) < MAX_REPORT_BYTES and select.select([fd], [], [], 0)[0]:
        data = os.read(fd, 65536)
        if not data:
            break
        out += data
    return bytes(out)


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------------- the pool


class _Pool:
    """Idle servers by (preload, memory limit); the spawner thread. Reset in a forked child."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: dict[tuple[str, int], list[ReaderServer]] = {}
        self.spawner: ThreadPoolExecutor | None = None

    def spawn(self, preload: str, memory_bytes: int) -> ReaderServer:
        with self.lock:
            if self.spawner is None:
                self.spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="henrei-reader-spawner")
            spawner = self.spawner
        try:
            return spawner.submit(ReaderServer, preload, memory_bytes).result()
        except OSError as exc:
            raise IsolatedFailure(_CANNOT_START, "error", exc_type=type(exc).__name__, detail=str(exc)) from exc

    def forget(self) -> None:
        """In a forked child: the servers and the spawner thread belong to the parent."""
        self.lock = threading.Lock()
        for servers in self.idle.values():
            for server in servers:
                for fd in (server._requests, server._reports):
                    with contextlib.suppress(OSError):
                        os.close(fd)
        self.idle = {}
        self.spawner = None


_POOL = _Pool()
os.register_at_fork(after_in_child=_POOL.forget)


def take(preload: str, memory_bytes: int) -> ReaderServer:
    """An idle live server for this preload and limit, or a new one."""
    with _POOL.lock:
        servers = _POOL.idle.get((preload, memory_bytes), [])
        while servers:
            server = servers.pop()
            if not server.worn():
                return server
            server.kill()
    return _POOL.spawn(preload, memory_bytes)


def give_back(server: ReaderServer, keep: int) -> None:
    """Return a server after a file: kept idle (at most ``keep`` per kind) unless worn."""
    if server.worn():
        server.kill()
        return
    with _POOL.lock:
        servers = _POOL.idle.setdefault((server.preload, server.memory_bytes), [])
        if len(servers) < keep:
            servers.append(server)
            return
    server.kill()


def warm(preload: str, memory_bytes: int, count: int) -> None:
    """Start servers so that ``count`` are idle for this preload and limit (they import while
    the caller goes on: call it as early as possible)."""
    with _POOL.lock:
        missing = count - len(_POOL.idle.get((preload, memory_bytes), []))
    started = [_POOL.spawn(preload, memory_bytes) for _ in range(max(0, missing))]
    with _POOL.lock:
        _POOL.idle.setdefault((preload, memory_bytes), []).extend(started)


@atexit.register
def close_idle() -> None:
    """Kill every idle server (at exit; tests)."""
    with _POOL.lock:
        servers = [s for group in _POOL.idle.values() for s in group]
        _POOL.idle = {}
    for server in servers:
        server.kill()
