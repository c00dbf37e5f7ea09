"""Start the reader processes early (standard library only: import it before pandas).

The CLI calls :func:`warm_readers` first thing in a run, so that the reader servers'
interpreter start and imports (pyarrow, calamine: ~0.2-0.5 s) overlap the CLI's own imports
of the engine and pandas instead of following them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from worker.config import Settings
from worker.reading.discovery import discover
from worker.reading.isolation import IsolatedFailure, warm

__all__ = ["READER_MODULE", "SMALL_INPUT_BYTES", "reader_memory_bytes", "readers_for", "warm_readers"]

#: the module the reader servers import at start (where ``extract_tables`` lives; a test
#: checks they agree)
READER_MODULE: Final = "worker.reading.extract"
#: inputs smaller than this in all are read by one reader: each reader's start costs ~0.3 s
#: of CPU (on 2 cores, that of the parent's own imports), more than reading them takes
SMALL_INPUT_BYTES: Final = 4 * 1024 * 1024


def reader_memory_bytes(settings: Settings) -> int:
    """The reader's address-space limit."""
    return settings.reader_memory_mb * 1024 * 1024


def readers_for(settings: Settings, files: Sequence[Path]) -> int:
    """How many readers read ``files`` at the same time: one for small inputs, else up to
    ``HENREI_READER_PROCESSES``, never more than there are files."""
    try:
        total = sum(f.stat().st_size for f in files)
    except OSError:  # the reader reports it, per file
        total = SMALL_INPUT_BYTES
    count = settings.reader_processes if total >= SMALL_INPUT_BYTES else 1
    return max(1, min(count, len(files)))


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
