"""What every job function needs: the settings, the database and how to send messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from worker.config import Settings
from worker.jobs.database import Engine, make_engine, upgrade

__all__ = ["Context", "Enqueue", "EnqueueLater", "dispose_engines"]

#: sends a message for a job ID
Enqueue = Callable[[int], None]
#: sends a message for a job ID after a delay (s)
EnqueueLater = Callable[[int, float], None]


@dataclass(frozen=True)
class Context:
    """Settings and an engine on the database, plus the two switches that make a run a
    worker's run: splitting big months and letting a month's job wait."""

    settings: Settings
    #: enqueues one part of a split month (None: months are never split, each runs in-process)
    enqueue_part: Enqueue | None = None
    #: enqueues a reconcile job again after a delay (None: jobs never wait, see ``Settings.defer_s``)
    enqueue_reconcile_later: EnqueueLater | None = None

    @property
    def engine(self) -> Engine:
        return _engine(self.settings.database_url)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir


_ENGINES: dict[str, Engine] = {}


def _engine(url: str) -> Engine:
    """One engine per database URL and process, migrated to the newest schema once."""
    if url not in _ENGINES:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(url)
        upgrade(engine)
        _ENGINES[url] = engine
    return _ENGINES[url]


def dispose_engines(url: str | None = None) -> None:
    """Close the process's engines (of ``url``, or all): tests, and a process about to exit."""
    for key in [url] if url is not None else list(_ENGINES):
        engine = _ENGINES.pop(key, None) if key is not None else None
        if engine is not None:
            engine.dispose()
