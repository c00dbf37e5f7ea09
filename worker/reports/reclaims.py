"""The returns (返戻) to reclaim, one row per return with Japanese headers, made ready
for both outputs (the 「返戻再請求」 sheet and the "reclaims" list of findings.json)."""

from __future__ import annotations

import math
from typing import Any, Final

import pandas as pd

from worker.reports.excel_safe import SURROGATE_RE

__all__ = ["RECLAIM_POINTS_COLUMN", "RECLAIM_STATUS_COLUMN", "prepare_reclaims"]

#: The one numeric column of the reclaims sheet (number "#,##0", blank where missing).
RECLAIM_POINTS_COLUMN: Final = "請求点数"
#: The column whose value colours a reclaims row (see RECLAIM_FILL).
RECLAIM_STATUS_COLUMN: Final = "再請求"


def prepare_reclaims(reclaims: pd.DataFrame) -> pd.DataFrame:
    """The reclaims as both outputs use them: str headers, whole numbers without ".0".

    「請求点数」 becomes an object column of int/float (finite numbers), str (a value that
    is not a number, kept as text) or None (missing).
    """
    names = [SURROGATE_RE.sub("\ufffd", str(c)) for c in reclaims.columns]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"reclaims has duplicate columns: {', '.join(dup)}")
    df = reclaims.reset_index(drop=True)
    df = df.set_axis(names, axis="columns")
    out: dict[str, pd.Series] = {}
    for i, name in enumerate(names):
        col = df.iloc[:, i]
        if name == RECLAIM_POINTS_COLUMN:
            out[name] = _points_column(col)
        elif pd.api.types.is_float_dtype(col.dtype):
            out[name] = _whole_numbers_as_int(col)
        else:
            out[name] = col
    return pd.DataFrame(out, index=df.index, columns=names)


def _whole_numbers_as_int(col: pd.Series) -> pd.Series:
    """A float column holding only whole numbers (and NA) as Int64, so 12.0 reads "12"."""
    num = pd.to_numeric(col, errors="coerce")
    finite = num[num.notna()]
    if len(finite) and not bool(((finite % 1) == 0).all()):
        return col
    if bool(finite.abs().gt(2**53).any()):
        return col
    return num.astype("Int64")


def _points_column(col: pd.Series) -> pd.Series:
    obj = col.astype(object)
    nums = pd.to_numeric(obj, errors="coerce").astype("float64").tolist()
    values: list[Any] = []
    for v, n in zip(obj.tolist(), nums, strict=True):
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
            values.append(None)
        elif isinstance(v, bool) or not math.isfinite(n):
            values.append(str(v).strip() or None)  # not a number: keep the text (written as text)
        elif isinstance(v, int):
            values.append(v)
        elif n.is_integer() and abs(n) <= 2**53:
            values.append(int(n))
        else:
            values.append(n)
    return pd.Series(values, index=col.index, dtype=object)
