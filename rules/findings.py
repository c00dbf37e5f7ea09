"""The shape of a finding (CONTRACT §2) and helpers to build findings from column masks.

The categories themselves are declared by the rule modules (``rules.registry``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


def _resolve(value: Text, sub: pd.DataFrame) -> pd.Series:
    """A text argument on the selected rows: a constant, a column, or f(selected rows)."""
    if callable(value):
        value = value(sub)
    if value is None:
        return pd.Series("", index=sub.index, dtype="object")
    if isinstance(value, str):
        return pd.Series(value, index=sub.index, dtype="object")
    v = value.reindex(sub.index)
    return v.astype("object").where(v.notna(), "")


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
) -> pd.DataFrame:
    """Findings for the rows of ``table`` selected by ``mask``.

    ``table`` must carry ``_file``, ``_sheet``, ``_row``, ``patient_id`` and ``claim_month``
    (the row's origin). Text arguments are one string for all rows, a column, or — best on
    large tables — a function of the selected rows, so text is only built for findings.
    """
    from rules.registry import CATEGORIES  # here: the registry imports the rule modules, which import this

    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return empty_findings()
    sub = table.iloc[np.flatnonzero(m)]
    idx = sub.index
    month = sub["claim_month"] if "claim_month" in sub else pd.Series(pd.NaT, index=idx)
    if callable(copay_diff_yen):
        copay_diff_yen = copay_diff_yen(sub)
    diff = (
        copay_diff_yen.reindex(idx).round().astype("Int64")
        if copay_diff_yen is not None
        else pd.Series(pd.NA, index=idx, dtype="Int64")
    )
    out = pd.DataFrame(
        {
            "source_file": sub["_file"].astype("object"),
            "sheet": sub["_sheet"].astype("object"),
            "row": sub["_row"].astype("int64"),
            "patient_id": _resolve(sub.get("patient_id"), sub),
            "claim_month": _month_text(month),
            "category": category,
            "rule_id": rule_id,
            "severity": severity,
            "expected": _resolve(expected, sub),
            "actual": _resolve(actual, sub),
            "message": _resolve(message, sub),
            "action": _resolve(action, sub),
            "copay_diff_yen": diff,
        },
        index=idx,
    )
    return out.reset_index(drop=True)


def _month_text(month: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(month):
        return month.dt.strftime("%Y-%m").astype("object").where(month.notna(), "")
    return month.astype("object").where(month.notna(), "")


def concat_findings(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate finding tables and sort them: errors first, then file, sheet, row."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_findings()
    out = pd.concat(parts, ignore_index=True)
    out["_sev"] = out["severity"].map(SEVERITY_ORDER)
    out = out.sort_values(["_sev", "source_file", "sheet", "row", "category"], kind="stable").drop(columns="_sev")
    return out.reset_index(drop=True)
