"""What reading back any list the clerk marked needs: open the workbook behind the guard,
find a sheet's header by its text (a clerk may insert lines above it, move or sort
columns), and read cells as text. Used by the correction list (``marked``) and the
settlement list (``settlement_marks``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Final

from python_calamine import CalamineWorkbook

from worker.reading import UnsafeFileError, check_file

__all__ = ["HEADER_ROWS", "NotMarkedListError", "cell", "fold", "get", "header", "keys_in", "open_marked", "peek"]

#: rows looked at for the header (a clerk may have inserted a line above it)
HEADER_ROWS: Final = 5
_KEY: Final = re.compile(r"[0-9a-f]{40}")
_SPACES: Final = re.compile(r"\s+")
_EXCEL: Final = (".xlsx", ".xlsm")


class NotMarkedListError(ValueError):
    """The file is not the henrei list asked for (the message is Japanese, for the clerk)."""


def cell(v: object) -> str:
    """A cell as text: None as "", 12.0 as "12", stripped."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def fold(text: str) -> str:
    """A hand-typed word as compared: NFKC, without any space."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def get(row: Sequence[object], col: int | None) -> object:
    return row[col] if col is not None and col < len(row) else None


def keys_in(text: str, sep: str) -> tuple[str, ...]:
    """The finding keys of a key cell (several joined by ``sep`` on a merged line)."""
    parts = (p.strip().lower() for p in text.split(sep))
    return tuple(k for k in parts if _KEY.fullmatch(k))


def header(rows: Sequence[Sequence[object]], required: Collection[str]) -> tuple[int, dict[str, int]] | None:
    """(row index, {header text: column}) of the first of the top rows holding every
    header of ``required``; None if none does."""
    for i, row in enumerate(rows[:HEADER_ROWS]):
        where = {cell(v): j for j, v in reversed(list(enumerate(row))) if cell(v)}
        if all(r in where for r in required):
            return i, where
    return None


def peek(path: Path, sheet_matches: object, required: Collection[str]) -> bool:
    """Whether the first sheet whose name ``sheet_matches(name)`` accepts has the
    ``required`` headers on top; never raises for a file it cannot open."""
    if path.suffix.lower() not in _EXCEL or not callable(sheet_matches):
        return False
    try:
        check_file(path)
        wb = CalamineWorkbook.from_path(str(path))
        names = [n for n in wb.sheet_names if sheet_matches(n)]
        if not names:
            return False
        rows = wb.get_sheet_by_name(names[0]).to_python(skip_empty_area=False, nrows=HEADER_ROWS)
    except Exception:  # any file that fails the guard or calamine is not a marked list
        return False
    return header(list(rows), required) is not None


def open_marked(path: Path, shown: str, not_ours: str) -> CalamineWorkbook:
    """The workbook at ``path`` after the guard; ``NotMarkedListError`` with ``not_ours``
    (or the guard's reason) when it is not a workbook henrei can read."""
    if path.suffix.lower() not in _EXCEL:
        raise NotMarkedListError(not_ours)
    try:
        check_file(path)  # size, zip bomb, absurd used range: before calamine sees it
    except UnsafeFileError as exc:
        raise NotMarkedListError(f"「{shown}」は読み込めません：{exc}") from exc
    except OSError as exc:
        raise NotMarkedListError(f"「{shown}」を開けません（{exc.strerror or exc}）。") from exc
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # damaged, not a workbook, password-protected …
        raise NotMarkedListError(not_ours) from exc
