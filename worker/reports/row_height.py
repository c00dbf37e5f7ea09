"""Row heights for wrapped text, estimated from the text and the column widths.

Excel fits a row to its wrapped text by itself, LibreOffice (and so a PDF made with it)
does not: each row gets the height its longest cell needs. The estimate is vectorised
(a month can have 100k+ lines) and errs on the tall side: a full-width character takes
about 2.1 of a column's width units (the width of "0" in Calibri 11), any other about
one, and each paragraph of a text starts a new line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

__all__ = ["LINE_PT", "MAX_ROW_PT", "row_heights", "text_lines"]

#: Points per line of 11 pt text (Japanese fonts' line height), and the row's padding.
LINE_PT: Final = 15.5
_PAD_PT: Final = 3.5
#: Excel's highest row.
MAX_ROW_PT: Final = 409.0
#: Extra width units of a wide character (full-width, CJK, ●, ※ ...) over a narrow one.
_WIDE_EXTRA: Final = 1.1
_WIDE: Final = (
    "[\u1100-\u115f\u2010-\u2027\u2030-\u203b\u2190-\u21ff\u2460-\u24ff\u2500-\u27bf"
    "\u2e80-\u303f\u3040-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"
)


def text_lines(text: pd.Series, width: float) -> np.ndarray:
    """An upper estimate of the lines each text takes wrapped in a column ``width`` wide
    (each of its paragraphs, split at line breaks, starts a new line)."""
    s = text.astype(str).reset_index(drop=True)
    has_break = s.str.contains("\n", regex=False)
    lines = _paragraph_lines(s, width)
    if bool(has_break.any()):
        parts = s[has_break].str.split("\n").explode()
        lines[has_break.to_numpy()] = _paragraph_lines(parts, width).groupby(level=0).sum().to_numpy()
    return lines.to_numpy(dtype="float64")


def _paragraph_lines(s: pd.Series, width: float) -> pd.Series:
    units = s.str.len().astype("float64") + _WIDE_EXTRA * s.str.count(_WIDE).astype("float64")
    per_line = max(1.0, 0.94 * width)  # 6 %: a line may end early (。 never starts a line)
    return pd.Series(np.ceil((units / per_line).to_numpy(dtype="float64")), index=s.index).clip(lower=1.0)


def row_heights(columns: Sequence[tuple[pd.Series, float]], n: int) -> list[float | None]:
    """Each row's height in points (None: one line, the default height) for the wrapped
    text ``columns`` (the text, the column's width) of ``n`` rows."""
    lines = np.ones(n, dtype="float64")
    for text, width in columns:
        lines = np.maximum(lines, text_lines(text, width))
    heights = np.minimum(lines * LINE_PT + _PAD_PT, MAX_ROW_PT)
    return [None if k <= 1 else float(h) for k, h in zip(lines.tolist(), heights.tolist(), strict=True)]
