"""What a reader server runs on one file: the pre-parse guard, then the extraction — both in
the reader child, so the guard's scan of a big workbook (~0.5 s per 100,000 rows) runs
beside the other readers instead of on the parent's one interpreter lock.

The guard refusing a file is no failure of the reader: its Japanese message is written to
``refused.json`` in the output folder (:func:`refusal` reads it back), word for word what
the parent showed when it ran the guard itself (``worker.reading.parse.run_reader`` raises
it as ``RefusedFile``).
"""

from __future__ import annotations

import json
from pathlib import Path

from worker.reading.extract import extract_tables
from worker.reading.guard import Limits, UnsafeFileError, check_file
from worker.reading.parse import REFUSED_FILE

__all__ = ["extract_tables", "read_checked"]


def read_checked(src: str, out: str, max_rows: int = 0, max_file_bytes: int = Limits().max_file_bytes) -> None:
    """Child-process entry: check ``src`` with the guard, then write its tables into ``out``
    (``extract_tables``), or the guard's message into ``out/refused.json``."""
    dest = Path(out)
    try:
        check_file(Path(src), Limits(max_file_bytes=max_file_bytes))
    except UnsafeFileError as exc:
        _refuse(dest, str(exc))
        return
    except OSError as exc:
        _refuse(dest, f"ファイルを開けません（{exc.strerror or exc}）。")
        return
    extract_tables(src, out, max_rows)


def _refuse(dest: Path, message: str) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / REFUSED_FILE).write_text(json.dumps({"message": message}, ensure_ascii=False), encoding="utf-8")
