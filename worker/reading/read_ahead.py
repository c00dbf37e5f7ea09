"""Read a small month's files ahead, while the CLI imports the engine (standard library only:
import it before pandas).

A clerk's month is a few small files: the reader parses them in ~0.1-0.2 s, and the CLI's
own imports of pandas and the engine take ~0.3-0.4 s. :func:`start` hands every file to the
reader server at once, from a thread of its own, so that parsing runs on the other core
during those imports; ``read_file`` then loads each file's parsed output (:func:`taken`)
instead of parsing it again. It applies only to inputs read by one reader anyway (all
files together under ``SMALL_INPUT_BYTES``: no big-file gate, no memory question) and to
runs without a read cache (the CLI; the worker reads uploads through its cache).

The same checks, limits and messages apply: each file goes through
``worker.reading.parse.parse_into`` exactly as it would later. A file whose read-ahead
was made with other settings, or failed unexpectedly, is read again the usual way.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from worker.config import Settings
from worker.reading.discovery import discover
from worker.reading.parse import parse_into
from worker.reading.warmup import is_small_input, read_order

__all__ = ["start", "taken"]

log = logging.getLogger(__name__)


@dataclass
class _Ahead:
    """One file read ahead: its scratch folder and, once ``done``, the outcome."""

    settings: Settings
    folder: Path
    done: threading.Event = field(default_factory=threading.Event)
    #: the Japanese message of what stopped the file (None: its tables are in ``folder``)
    problem: str | None = None
    #: the read-ahead itself went wrong (not the file): read it again the usual way
    failed: bool = False


_LOCK = threading.Lock()
_PENDING: dict[Path, _Ahead] = {}


def start(settings: Settings, paths: Sequence[Path]) -> int:
    """Start parsing the files of ``paths`` (files or folders) when they are all small;
    return how many files are being read ahead (0: none, they are read when asked)."""
    files, _ = discover(paths)
    if not files or not is_small_input(files):
        return 0
    items: list[tuple[Path, _Ahead]] = []
    with _LOCK:
        for i in read_order(files):
            path = files[i]
            if path in _PENDING:
                continue
            ahead = _Ahead(settings, Path(tempfile.mkdtemp(prefix=".henrei-read-")))
            _PENDING[path] = ahead
            items.append((path, ahead))
    # not a daemon: the interpreter waits for it at exit, then ``_discard`` removes what is left
    threading.Thread(target=_read, args=(items,), name="henrei-read-ahead").start()
    return len(items)


def _read(items: list[tuple[Path, _Ahead]]) -> None:
    for path, ahead in items:
        try:
            ahead.problem = parse_into(path, ahead.settings, ahead.folder)
        except BaseException:  # e.g. no reader could start: the usual read says so, per file
            log.warning("read-ahead failed; the file is read again", exc_info=True)
            ahead.failed = True
        finally:
            ahead.done.set()


@contextmanager
def taken(path: Path, settings: Settings) -> Iterator[Path | str | None]:
    """What the read-ahead made of ``path`` for ``settings``: the folder of its tables, the
    message of the problem that stopped it, or None (not read ahead: read it now). Waits
    for it to finish; the folder is removed on leaving."""
    with _LOCK:
        ahead = _PENDING.pop(path, None)
    if ahead is None:
        yield None
        return
    try:
        ahead.done.wait()
        if ahead.failed or ahead.settings != settings:
            yield None
        else:
            yield ahead.folder if ahead.problem is None else ahead.problem
    finally:
        shutil.rmtree(ahead.folder, ignore_errors=True)


@atexit.register
def _discard() -> None:
    """Remove the folders of files read ahead but never taken (a run that stopped early)."""
    with _LOCK:
        left = list(_PENDING.values())
        _PENDING.clear()
    for ahead in left:
        ahead.done.wait(timeout=5)
        shutil.rmtree(ahead.folder, ignore_errors=True)
