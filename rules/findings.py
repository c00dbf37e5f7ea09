"""The shape of a finding (CONTRACT §2) and helpers to build findings from column masks.

The categories themselves are declared by the rule modules (``rules.registry``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Final, Literal

import numpy as np
import pandas as pd

Severity = Literal["error", "warning", "info"]

SEVERITY_ORDER: Final[Mapping[str, int]] = {"error": 0, "warning": 1, "info": 2}

#: Columns of a findings table, in CONTRACT order.
FINDING_COLUMNS: Final[tuple[str, ...]] = (
    "source_file",
    "sheet",
    "row",
    "patient_id",
    "claim_month",
    "category",
    "rule_id",
    "severity",
    "expected",
    "actual",
    "message",
    "action",
    "copay_diff_yen",
)

SEVERITY_LABELS_JA: Final[Mapping[str, str]] = {"error": "要修正", "warning": "要確認", "info": "参考"}


_EMPTY: pd.DataFrame | None = None


def empty_findings() -> pd.DataFrame:
    """An empty findings table with the right columns (a copy of one built once: most rules
    find nothing in a small month, and building a frame costs ~2 ms)."""
    global _EMPTY
    if _EMPTY is None:
        _EMPTY = pd.DataFrame({c: pd.Series(dtype="object") for c in FINDING_COLUMNS})
    return _EMPTY.copy()


Text = str | pd.Series | Callable[[pd.DataFrame], "pd.Series | str"] | None


def _on_rows(value: pd.Series, table: pd.DataFrame, sub: pd.DataFrame, rows: np.ndarray) -> pd.Series:
    """``value`` on the selected rows, in their order: a column of ``table`` (taken by position)
    or a column of the selected rows ``sub`` (as it is); anything else aligned by label."""
    if value.index is sub.index or (len(value) == len(rows) and value.index.equals(sub.index)):
        return value
    if value.index is table.index or (len(value) == len(table) and value.index.equals(table.index)):
        return value.iloc[rows]
    return value.reindex(sub.index)


def _texts(value: Text, table: pd.DataFrame, sub: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """A text argument on the selected rows as an object array ('' for missing): a constant,
    a column, or f(selected rows)."""
    if callable(value):
        value = value(sub)
    if value is None:
        value = ""
    if isinstance(value, str):
        return np.full(len(rows), value, dtype=object)
    out = np.array(_on_rows(value, table, sub, rows).astype("object"), dtype=object)
    out[pd.isna(out)] = ""
    return out


def _object(values: np.ndarray, index: pd.RangeIndex) -> pd.Series:
    return pd.Series(values, index=index, dtype="object", copy=False)


def make_findings(
    table: pd.DataFrame,
    mask: pd.Series | np.ndarray,
    *,
    category: str,
    rule_id: str,
    severity: Severity,
    message: Text,
    action: Text,
    expected: Text = None,
    actual: Text = None,
    copay_diff_yen: pd.Series | Callable[[pd.DataFrame], pd.Series] | None = None,
    reads: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Findings for the rows of ``table`` selected by ``mask``.

    ``table`` must carry ``_file``, ``_sheet``, ``_row``, ``patient_id`` and ``claim_month``
    (the row's origin). Text arguments are one string for all rows, a column, or — best on
    large tables — a function of the selected rows, so text is only built for findings.
    ``reads``: the columns those functions read (default: all); the selected rows are then
    taken from these columns alone, which on a wide table is most of the fixed cost of a
    call. Should a function read another column, the call is made again with every column.
    The table is built from NumPy arrays of the selected rows (no index alignment).
    """
    from rules.registry import CATEGORIES  # here: the registry imports the rule modules, which import this

    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    rows = np.flatnonzero(np.asarray(mask, dtype=bool))
    if not len(rows):
        return empty_findings()
    texts = {"expected": expected, "actual": actual, "message": message, "action": action}
    if reads is not None:
        with contextlib.suppress(KeyError):
            sub = columns_of(table, rows, reads)
            return _findings(table, sub, rows, texts, copay_diff_yen, category, rule_id, severity)
    return _findings(table, table.iloc[rows], rows, texts, copay_diff_yen, category, rule_id, severity)


#: the columns every finding takes from its row
ORIGIN_COLUMNS: Final = ("_file", "_sheet", "_row", "patient_id", "claim_month")


def columns_of(table: pd.DataFrame, rows: np.ndarray, reads: Sequence[str]) -> pd.DataFrame:
    """The rows at positions ``rows`` of ``table``, with the origin columns and ``reads`` alone
    (those of them that ``table`` has): on a wide table, far cheaper than every column."""
    return table[[c for c in dict.fromkeys([*ORIGIN_COLUMNS, *reads]) if c in table.columns]].iloc[rows]


def _findings(
    table: pd.DataFrame,
    sub: pd.DataFrame,
    rows: np.ndarray,
    texts: Mapping[str, Text],
    copay_diff_yen: pd.Series | Callable[[pd.DataFrame], pd.Series] | None,
    category: str,
    rule_id: str,
    severity: Severity,
) -> pd.DataFrame:
    """The findings table of the selected rows ``sub`` (at positions ``rows`` of ``table``)."""
    if callable(copay_diff_yen):
        copay_diff_yen = copay_diff_yen(sub)
    diff = (
        pd.array(np.full(len(rows), pd.NA), dtype="Int64")
        if copay_diff_yen is None
        else _on_rows(copay_diff_yen, table, sub, rows).round().astype("Int64").array
    )
    ix = pd.RangeIndex(len(rows))
    built = {k: _object(_texts(v, table, sub, rows), ix) for k, v in texts.items()}
    columns: dict[str, object] = {
        "source_file": _object(np.array(sub["_file"].astype("object"), dtype=object), ix),
        "sheet": _object(np.array(sub["_sheet"].astype("object"), dtype=object), ix),
        "row": pd.Series(sub["_row"].to_numpy(dtype="int64"), index=ix, copy=False),
        "patient_id": _object(_texts(sub.get("patient_id"), table, sub, rows), ix),
        "claim_month": _object(_month_text(sub.get("claim_month"), len(rows)), ix),
        "category": category,
        "rule_id": rule_id,
        "severity": severity,
        **built,
        "copay_diff_yen": pd.Series(diff, index=ix, copy=False),
    }
    return pd.DataFrame(columns, index=ix)


def _month_text(month: pd.Series | None, n: int) -> np.ndarray:
    """'YYYY-MM' of each row's claim month ('' for missing), formatted once per distinct month."""
    if month is None:
        return np.full(n, "", dtype=object)
    if pd.api.types.is_datetime64_any_dtype(month):
        codes, uniques = pd.factorize(month, use_na_sentinel=True)
        names = [*pd.DatetimeIndex(uniques).strftime("%Y-%m"), ""]
        return np.array(names, dtype=object)[codes]
    out = np.array(month.astype("object"), dtype=object)
    out[pd.isna(out)] = ""
    return out


def _sort_codes(col: pd.Series) -> np.ndarray:
    """Integer codes that sort like ``col`` does in ``sort_values`` (missing last)."""
    codes, uniques = pd.factorize(col, sort=True, use_na_sentinel=True)
    return np.where(codes < 0, len(uniques), codes)


def concat_findings(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate finding tables and sort them: errors first, then file, sheet, row (stable:
    one ``np.lexsort`` over integer codes, as ``sort_values`` would order them)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_findings()
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    sev_codes, severities = pd.factorize(out["severity"], use_na_sentinel=True)
    ranks = np.array([SEVERITY_ORDER.get(str(s), len(SEVERITY_ORDER)) for s in severities] + [len(SEVERITY_ORDER)])
    keys = [_sort_codes(out[c]) for c in ("category", "row", "sheet", "source_file")]
    order = np.lexsort((*keys, ranks[sev_codes]))
    if (order[1:] > order[:-1]).all():  # already in order
        return out
    return out.take(order).reset_index(drop=True)
