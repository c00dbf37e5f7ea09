"""Start the reader processes early, and decide how files share them (standard library only:
import it before pandas).

The CLI calls :func:`warm_readers` first thing in a run, so that the reader servers'
interpreter start and imports (pyarrow, calamine: ~0.2-0.5 s) overlap the CLI's own imports
of the engine and pandas instead of following them.

Memory: a reader holds a whole sheet's cells while it parses (about 18 times an .xlsx file's
size: 1.9 GB for a 108 MB file of 1,000,000 receipts), and the parent then holds the tables
it handed over. So a file of :data:`BIG_FILE_BYTES` or more is read alone (no other reader
runs meanwhile), big files first (while the parent holds the least), and only the smaller
files are read side by side (:class:`ReadGate`, :func:`read_order`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from worker.config import Settings
from worker.reading.discovery import discover
from worker.reading.isolation import IsolatedFailure, warm

__all__ = [
    "BIG_FILE_BYTES",
    "READER_MODULE",
    "SMALL_INPUT_BYTES",
    "ReadGate",
    "file_size",
    "is_big",
    "is_small_input",
    "read_order",
    "reader_memory_bytes",
    "readers_for",
    "warm_readers",
]

#: the module the reader servers import at start (where ``read_checked`` lives: the guard,
#: then ``extract_tables``; a test checks they agree)
READER_MODULE: Final = "worker.reading.checked"
#: inputs smaller than this in all are read by one reader: each reader's start costs ~0.3 s
#: of CPU (on 2 cores, that of the parent's own imports), more than reading them takes
SMALL_INPUT_BYTES: Final = 4 * 1024 * 1024
#: a file this big or bigger is read alone: its reader peaks near 0.6 GB or more (an .xlsx
#: file of 32 MiB holds about 300,000 receipts), two of them side by side would double it
BIG_FILE_BYTES: Final = 32 * 1024 * 1024


def reader_memory_bytes(settings: Settings) -> int:
    """The reader's address-space limit."""
    return settings.reader_memory_mb * 1024 * 1024


def file_size(path: Path) -> int:
    """``path``'s size in bytes (0 when it cannot be read: the reader reports that, per file)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def is_small_input(files: Sequence[Path]) -> bool:
    """True when ``files`` together are under :data:`SMALL_INPUT_BYTES` (one reader reads them)."""
    return sum(file_size(f) for f in files) < SMALL_INPUT_BYTES


def is_big(path: Path) -> bool:
    """True when ``path`` is read alone (see :data:`BIG_FILE_BYTES`)."""
    return file_size(path) >= BIG_FILE_BYTES


def read_order(files: Sequence[Path]) -> list[int]:
    """Indexes of ``files`` in the order they are read: biggest first (stable for equal sizes)."""
    sizes = [file_size(f) for f in files]
    return sorted(range(len(files)), key=lambda i: -sizes[i])


def readers_for(settings: Settings, files: Sequence[Path]) -> int:
    """How many readers read ``files`` at the same time: one for small inputs, else up to
    ``HENREI_READER_PROCESSES`` for the files below :data:`BIG_FILE_BYTES` (big ones are read
    alone), never more than there are such files."""
    if is_small_input(files):
        return 1
    sizes = [file_size(f) for f in files]
    side_by_side = sum(1 for s in sizes if s < BIG_FILE_BYTES)
    return max(1, min(settings.reader_processes, side_by_side))


class ReadGate:
    """Lets big files be read alone and small ones side by side (a readers-writer lock:
    a big file waits until no file is being read and holds the others off meanwhile; a small
    file waits while a big one waits)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._reading = 0
        self._alone = False
        self._waiting_alone = 0

    @contextmanager
    def slot(self, path: Path) -> Iterator[None]:
        """Hold a place to read ``path`` (alone when it is big)."""
        alone = is_big(path)
        with self._cond:
            if alone:
                self._waiting_alone += 1
                self._cond.wait_for(lambda: self._reading == 0)
                self._waiting_alone -= 1
            else:
                self._cond.wait_for(lambda: not self._alone and self._waiting_alone == 0)
            self._reading += 1
            self._alone = alone
        try:
            yield
        finally:
            with self._cond:
                self._reading -= 1
                if alone:
                    self._alone = False
                self._cond.notify_all()


def warm_readers(settings: Settings, paths: Sequence[Path]) -> None:
    """Start as many reader servers as will read ``paths`` at the same time (best effort:
    a server that cannot start now is started, or reported, when its file is read)."""
    files, _ = discover(paths)
    if not files:
        return
    count = readers_for(settings, files)
    try:
        warm(READER_MODULE, reader_memory_bytes(settings), count)
    except IsolatedFailure:
        return
