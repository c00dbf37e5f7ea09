"""One file checked and parsed into a folder of Arrow files (standard library only: the
read-ahead runs it before the parent has imported pyarrow or pandas).

``parse_into(path, settings, out)`` runs ``worker.reading.checked.read_checked`` — the
pre-parse guard (``worker.reading.guard``), then ``extract_tables`` — in a reader server
(``worker.reading.isolation``) with the configured limits, and returns the Japanese message
of what stopped the file, or None. Loading the folder's tables is ``worker.reading.read``'s
part.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Final

from worker.config import Settings
from worker.reading.isolation import IsolatedFailure, run_isolated_named
from worker.reading.warmup import READER_MODULE, file_size, reader_memory_bytes

__all__ = [
    "READER_FUNCTION",
    "REFUSED_FILE",
    "SMALL_FILE_BYTES",
    "RefusedFile",
    "failure_message",
    "parse_into",
    "run_reader",
]

log = logging.getLogger(__name__)

#: the function the reader server runs on a file (in :data:`READER_MODULE`; a test checks it)
READER_FUNCTION: Final = "read_checked"
#: the file in the output folder holding the guard's message (no tables are written then)
REFUSED_FILE: Final = "refused.json"
#: a file this small that runs the reader out of memory is damaged (a bogus size inside), not big
SMALL_FILE_BYTES: Final = 1024 * 1024
_SMALL_BUT_MEMORY: Final = (
    "ファイルが壊れているため読み込めませんでした（ファイルの中の大きさの情報が正しくありません）。"
    "元のファイルをもう一度保存するか、出力し直してから、もう一度実行してください。"
)


class RefusedFile(Exception):
    """The guard refused the file (too big, not a workbook, a zip bomb...); ``str()`` is its
    Japanese message for the clerk."""


def run_reader(path: Path, out: Path, settings: Settings) -> None:
    """``read_checked(path, out)`` in an isolated reader, with the configured limits; raises
    ``IsolatedFailure`` when the reader fails, ``RefusedFile`` when the guard refused it."""
    run_isolated_named(
        READER_MODULE,
        READER_FUNCTION,
        str(path),
        str(out),
        memory_bytes=reader_memory_bytes(settings),
        timeout_s=settings.reader_timeout_s,
        keep=settings.reader_processes,
        options={"max_rows": settings.max_rows_per_table, "max_file_bytes": settings.max_file_mb * 1024 * 1024},
    )
    try:
        refused = (out / REFUSED_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    raise RefusedFile(str(json.loads(refused)["message"]))


def failure_message(exc: IsolatedFailure, path: Path) -> str:
    """What the clerk reads about a file the reader failed on (never the library's text)."""
    log.warning("reader failed on a file (%s, %s)", exc.reason, exc.exc_type or "-")
    # the library's text may quote cells and paths: for the developer, at debug level only
    log.debug("reader failure detail: %s", exc.detail)
    if exc.reason == "memory" and file_size(path) < SMALL_FILE_BYTES:
        return _SMALL_BUT_MEMORY  # a small file that asks for more is damaged
    return str(exc)


def parse_into(path: Path, settings: Settings, out: Path) -> str | None:
    """Check ``path`` and parse it into the folder ``out``; the message of what stopped it, or None."""
    try:
        run_reader(path, out, settings)
    except RefusedFile as exc:
        return str(exc)
    except IsolatedFailure as exc:
        return failure_message(exc, path)
    return None
