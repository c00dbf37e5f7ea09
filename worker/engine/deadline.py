"""The time limit of a whole run (``HENREI_RUN_TIMEOUT_S``): reading, checks and writing.

``with run_deadline(seconds):`` around a run. In the main thread (the CLI, a Celery prefork
or solo worker) a ``SIGALRM`` timer raises :class:`RunTimeout` wherever the run is at the
deadline — reading, normalising, the rules; elsewhere (a thread) the limit is checked
between the stages (:func:`check`). The writing of the results is never cut in the middle
(:func:`uninterrupted`): it starts only while time remains, and once started it finishes,
so a run ends with all its outputs written or none (each is written atomically).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["RunTimeout", "check", "run_deadline", "uninterrupted"]


class RunTimeout(Exception):
    """The run passed its time limit; ``str()`` is the clerk's message (Japanese, no data)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"処理が制限時間（{seconds:g}秒）内に終わらなかったため中止しました。結果は書き出していません。"
            "ファイルを月ごとなどに分けてから、もう一度実行してください。"
        )
        self.seconds = seconds


class _State(threading.local):
    deadline: float | None = None
    seconds: float = 0.0
    alarm: bool = False


_STATE = _State()


def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
    if _STATE.deadline is not None:
        raise RunTimeout(_STATE.seconds)


@contextmanager
def run_deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`RunTimeout` in the block once ``seconds`` have passed (see the module)."""
    if _STATE.deadline is not None:  # a run inside a run: the outer limit holds
        yield
        return
    alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    previous = signal.signal(signal.SIGALRM, _on_alarm) if alarm else None
    _STATE.deadline, _STATE.seconds, _STATE.alarm = time.monotonic() + seconds, seconds, alarm
    if alarm:
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        _STATE.deadline, _STATE.alarm = None, False


def check() -> None:
    """Raise :class:`RunTimeout` when the run's deadline has passed (between stages)."""
    if _STATE.deadline is not None and time.monotonic() >= _STATE.deadline:
        raise RunTimeout(_STATE.seconds)


@contextmanager
def uninterrupted() -> Iterator[None]:
    """A block that starts only before the deadline and is then never cut (the writing);
    the rest of the run after it keeps the time that is left."""
    if _STATE.deadline is None:
        yield
        return
    if _STATE.alarm:
        signal.setitimer(signal.ITIMER_REAL, 0)
    check()
    try:
        yield
    finally:
        left = _STATE.deadline - time.monotonic() if _STATE.deadline is not None else 0.0
        if _STATE.alarm and left > 0:
            signal.setitimer(signal.ITIMER_REAL, left)
        # past the deadline: what was written stands; the alarm stays off for the rest
