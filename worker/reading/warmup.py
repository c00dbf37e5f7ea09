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

__all__ = ["READER_MODULE", "reader_memory_bytes", "warm_readers"]

#: the module the reader servers import at start (where ``extract_tables`` lives; a test
#: checks they agree)
READER_MODULE: Final = "worker.reading.extract"


def reader_memory_bytes(settings: Settings) -> int:
    """The reader's address-space limit."""
    return settings.reader_memory_mb * 1024 * 1024


def warm_readers(settings: Settings, paths: Sequence[Path]) -> None:
    """Start as many reader servers as will read ``paths`` at the same time (best effort:
    a server that cannot start now is started, or reported, when its file is read)."""
    files, _ = discover(paths)
    count = min(settings.reader_processes, len(files))
    try:
        warm(READER_MODULE, reader_memory_bytes(settings), count)
    except IsolatedFailure:
        return
