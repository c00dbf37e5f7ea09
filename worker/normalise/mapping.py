"""Applying a parser to a column once per distinct value (``pd.factorize``): a column of a
million receipts with a few thousand distinct dates costs a few thousand Python calls.
The parsers themselves are in ``worker.normalise.values`` and ``worker.normalise.dates``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def nfkc(text: str) -> str:
    """NFKC-normalise and strip (full-width digits and letters become ASCII)."""
    return unicodedata.normalize("NFKC", text).strip()


def map_distinct(col: pd.Series, parse: Callable[[str], Any], dtype: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Apply ``parse`` once per distinct value; return (values, invalid mask).

    ``parse`` returns the parsed value, or raises ``ValueError`` for an unreadable value.
    Missing and blank cells stay missing and are not invalid.
    """
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    parsed: list[Any] = []
    bad = np.zeros(len(uniques) + 1, dtype=bool)
    for i, u in enumerate(uniques):
        text = str(u)
        if not text.strip():
            parsed.append(None)
            continue
        try:
            parsed.append(parse(text))
        except ValueError:
            parsed.append(None)
            bad[i] = True
    parsed.append(None)  # the slot for missing cells (code -1)
    arr = np.empty(len(parsed), dtype=object)
    arr[:] = parsed
    taken = arr[codes]
    values = pd.Series(taken, index=col.index, dtype=dtype) if dtype else pd.Series(taken, index=col.index)
    invalid = pd.Series(bad[codes], index=col.index)
    return values, invalid


#: a vectorised parser of distinct texts: (values, read) — values where ``read`` is True
FastParse = Callable[[pa.Array], tuple[np.ndarray, np.ndarray]]


def map_array(
    col: pd.Series, parse: Callable[[str], Any], dtype: str, missing: Any, fast: FastParse | None = None
) -> tuple[np.ndarray, pd.Series]:
    """Like ``map_distinct`` but the result is a numpy array of ``dtype`` (for dates, numbers).

    ``fast`` reads the distinct values of the common form in one vectorised call; only the
    others go through ``parse`` (so ``fast`` must give what ``parse`` gives, or leave it)."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    distinct = np.asarray(uniques, dtype=object)
    out = np.full(len(distinct) + 1, missing, dtype=dtype)
    bad = np.zeros(len(distinct) + 1, dtype=bool)
    todo: Any = range(len(distinct))
    if fast is not None and len(distinct):
        try:
            texts = pa.array(distinct, type=pa.large_string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: each value its own way
            texts = None
        if texts is not None:
            values, read = fast(texts)
            out[: len(distinct)][read] = values[read]
            todo = np.flatnonzero(~read).tolist()
    for i in todo:
        text = str(distinct[i])
        if not text.strip():
            continue
        try:
            out[i] = parse(text)
        except ValueError:
            bad[i] = True
    return out[codes], pd.Series(bad[codes], index=col.index)


#: text that NFKC leaves unchanged: printable ASCII, hiragana, full-width katakana, CJK
#: unified ideographs. Values made only of these skip the per-value Python path.
NFKC_STABLE: Final = r"^[\x20-\x7E\x{3041}-\x{3096}\x{30A1}-\x{30FA}\x{30FC}\x{4E00}-\x{9FFF}々]*$"
#: identifiers that need no cleaning at all (no spaces, no ".0", no full-width)
PLAIN_ID: Final = r"^[0-9A-Za-z\-]*$"


def map_text(col: pd.Series, parse: Callable[[str], str], stable: str | None = None) -> pd.Series:
    """``parse`` once per distinct value into a ``str`` column ('' when blank).

    With ``stable`` (a regex), values matching it are only trimmed, vectorised in Arrow;
    only the others go through ``parse`` — a million clean IDs cost no Python call.
    """
    if stable is None or len(col) == 0:
        values, _ = map_distinct(col, parse, dtype="str")
        return values.fillna("")
    arr = pa.array(col, from_pandas=True)
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    # the ideographic space is the only NFKC change common in names: fold it in Arrow
    arr = pc.replace_substring(arr, "\u3000", " ")
    ok = pc.fill_null(pc.match_substring_regex(arr, stable), True)
    out = pc.fill_null(pc.utf8_trim_whitespace(arr), "")
    slow = np.flatnonzero(is_slow := ~ok.to_numpy(zero_copy_only=False))
    if len(slow):  # parsed, and put in place in Arrow: no Python string per row of the column
        sub = pd.Series(arr.take(pa.array(slow)).to_numpy(zero_copy_only=False), index=col.index[slow])
        fixed = pa.array(map_distinct(sub, parse, dtype="str")[0].fillna("").to_numpy(dtype=object), pa.large_string())
        whole = out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out
        out = pc.replace_with_mask(whole, pa.array(is_slow), fixed)
    return pd.Series(out.to_pandas().array, index=col.index, dtype="str")  # by position, whatever the index
