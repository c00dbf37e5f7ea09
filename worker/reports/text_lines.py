"""Long Japanese text in lines of a given width, broken only between its parts.

A message such as a run's warning holds values (months, counts, file names, category
labels) that must not be split over two lines, on a terminal or on a printed sheet.
Japanese has no spaces to break at, so a text is cut into parts after 、。： and spaces
(a value never contains them), and parts are packed into lines by their display width
(East Asian wide and full-width characters count 2). A part wider than a line gets a
line of its own, whole.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

__all__ = ["display_width", "fit_lines", "phrases"]

_AFTER: Final = re.compile(r"(?<=[、。：])|(?<= )")


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal (wide and full-width characters count 2)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def phrases(text: str) -> list[str]:
    """``text`` cut after each 、。： and space: the points where a line may break."""
    return [p for p in _AFTER.split(text) if p]


def fit_lines(parts: Iterable[str], width: int, indent: str = "") -> list[str]:
    """Pack ``parts`` (each kept whole) into lines of at most ``width`` columns; every line
    after the first starts with ``indent``. Trailing spaces are dropped."""
    lines: list[str] = []
    line = ""
    for part in parts:
        if line and display_width(line + part.rstrip()) > width:
            lines.append(line.rstrip())
            line = indent
        line += part.lstrip() if line and not line.strip() else part  # no spaces after the indent
    if line.strip():
        lines.append(line.rstrip())
    return lines
