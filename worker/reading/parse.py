"""One file checked and parsed into a folder of Arrow files (standard library only: the
read-ahead runs it before the parent has imported pyarrow or pandas).

``parse_into(path, settings, out)`` runs the pre-parse guard (``worker.reading.guard``),
then ``extract_tables(path, out)`` in a reader server (``worker.reading.isolation``) with
the configured limits, and returns the Japanese message of what stopped the file, or None.
Loading the folder's tables is ``worker.reading.read``'s part.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

from worker.config import Settings
from worker.reading.guard import Limits, UnsafeFileError, check_file
from worker.reading.isolation import IsolatedFailure, run_isolated_named
from worker.reading.warmup import READER_MODULE, reader_memory_bytes

__all__ = ["READER_FUNCTION", "SMALL_FILE_BYTES", "check", "parse_into", "run_reader"]

log = logging.getLogger(__name__)

#: the function the reader server runs on a file (in :data:`READER_MODULE`; a test checks it)
READER_FUNCTION: Final = "extract_tables"
#: a file this small that runs the reader out of memory is damaged (a bogus size inside), not big
SMALL_FILE_BYTES: Final = 1024 * 1024
_SMALL_BUT_MEMORY: Final = (
    "ファイルが壊れているため読み込めませんでした（ファイルの中の大きさの情報が正しくありません）。"
    "元のファイルをもう一度保存するか、出力し直してから、もう一度実行してください。"
)


def check(path: Path, settings: Settings) -> str | None:
    """The guard's message for ``path`` (too big, not a workbook, a zip bomb...), or None."""
    try:
        check_file(path, Limits(max_file_bytes=settings.max_file_mb * 1024 * 1024))
    except UnsafeFileError as exc:
        return str(exc)
    except OSError as exc:
        return f"ファイルを開けません（{exc.strerror or exc}）。"
    return None


def run_reader(path: Path, out: Path, settings: Settings) -> None:
    """``extract_tables(path, out)`` in an isolated reader, with the configured limits;
    raises ``IsolatedFailure``."""
    run_isolated_named(
        READER_MODULE,
        READER_FUNCTION,
        str(path),
        str(out),
        memory_bytes=reader_memory_bytes(settings),
        timeout_s=settings.reader_timeout_s,
        keep=settings.reader_processes,
        options={"max_rows": settings.max_rows_per_table},
    )


def failure_message(exc: IsolatedFailure, path: Path) -> str:
    """What the clerk reads about a file the reader failed on (never the library's text)."""
    log.warning("reader failed on a file (%s, %s)", exc.reason, exc.exc_type or "-")
    # the library's text may quote cells and paths: for the developer, at debug level only
    log.debug("reader failure detail: %s", exc.detail)
    if exc.reason == "memory" and _size(path) < SMALL_FILE_BYTES:
        return _SMALL_BUT_MEMORY  # a small file that asks for more is damaged
    return str(exc)


def parse_into(path: Path, settings: Settings, out: Path) -> str | None:
    """Check ``path`` and parse it into the folder ``out``; the message of what stopped it, or None."""
    problem = check(path, settings)
    if problem is not None:
        return problem
    try:
        run_reader(path, out, settings)
    except IsolatedFailure as exc:
        return failure_message(exc, path)
    return None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
