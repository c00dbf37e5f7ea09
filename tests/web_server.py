"""A real ``henrei serve`` for the web tests: its own data folder, in-process jobs, a free
port, users made with ``henrei users add``; stopped (its process group) at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HENREI = [sys.executable, "-m", "worker.cli"]
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = {
    "clerk-a": "password-a-123",
    "clerk-b": "password-b-123",
    "clerk-c": "password-c-123",
    "vendor": "password-v-123",
    "admin-a": "password-aa-123",
    "admin-b": "password-bb-123",
    "assoc": "password-as-123",
}


@dataclass(frozen=True)
class Server:
    url: str
    data_dir: Path
    env: dict[str, str]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def henrei_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HENREI_") or k.startswith("HENREI_TEST_")}
    env.update({"HENREI_DATA_DIR": str(data_dir), "HENREI_WEB_JOBS": "inprocess", **extra})
    return env


def add_user(env: dict[str, str], login: str, clinic: str | None, role: str = "clerk", clinic_name: str = "") -> None:
    args = [*HENREI, "users", "add", login, "--role", role, "--password-stdin"]
    if clinic:
        args += ["--clinic", clinic]
    if clinic_name:
        args += ["--clinic-name", clinic_name]
    done = subprocess.run(args, input=PASSWORD[login] + "\n", env=env, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def screenshot(page: object, name: str) -> None:
    """With HENREI_TEST_SCREENSHOTS=<folder>: the page at 1366×768 as <folder>/web-<name>.png
    (the README's pictures: ``HENREI_TEST_SCREENSHOTS=docs/images pytest tests/test_web.py``)."""
    folder = os.environ.get("HENREI_TEST_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"web-{name}.png"))  # type: ignore[attr-defined]


@contextmanager
def serve(data_dir: Path, **extra: str) -> Iterator[Server]:
    port = _free_port()
    env = henrei_env(data_dir, HENREI_WEB_PORT=str(port), **extra)
    log = (data_dir / "serve.log").open("wb")
    proc = subprocess.Popen([*HENREI, "serve"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/login", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((data_dir / "serve.log").read_text()) from None
                time.sleep(0.3)
        yield Server(url, data_dir, env)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
