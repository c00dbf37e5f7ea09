"""The shape of a finding (CONTRACT §2) and helpers to build findings from column masks."""

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

#: Every category, in the order of CONTRACT §2; associations count by these names.
CATEGORIES: Final[tuple[str, ...]] = (
    "ratio_online_vs_card",
    "ratio_billed_vs_verified",
    "ratio_implausible_for_age",
    "limit_category_mismatch",
    "eligibility_invalid",
    "eligibility_not_found",
    "insurer_changed",
    "identity_mismatch",
    "name_mismatch",
    "masked_characters",
    "insurer_number_invalid",
    "card_number_format",
    "relation_mismatch",
    "card_expired",
    "ecert_expired",
    "fusho_missing_entry",
    "fusho_not_allowed",
    "fusho_followup_required",
    "full_charge_collected",
    "returned",
    "return_unmatched",
    "input_invalid",
)

#: Japanese labels for the categories (what a clerk reads in the summary).
CATEGORY_LABELS_JA: Final[Mapping[str, str]] = {
    "ratio_online_vs_card": "負担割合の不一致（オン資と券面）",
    "ratio_billed_vs_verified": "請求した負担割合の誤り",
    "ratio_implausible_for_age": "年齢・保険者とあわない負担割合",
    "limit_category_mismatch": "限度額区分の不一致",
    "eligibility_invalid": "資格無効",
    "eligibility_not_found": "該当資格なし",
    "insurer_changed": "保険者の変更が未反映",
    "identity_mismatch": "生年月日・性別の不一致（別人の可能性）",
    "name_mismatch": "氏名の不一致",
    "masked_characters": "氏名・住所の●表示",
    "insurer_number_invalid": "保険者番号の誤り",
    "card_number_format": "記号・番号・枝番の形式誤り",
    "relation_mismatch": "本人・家族の不一致",
    "card_expired": "証の有効期限切れ",
    "ecert_expired": "電子証明書の期限切れ",
    "fusho_missing_entry": "不詳レセプトの摘要記載漏れ",
    "fusho_not_allowed": "不詳レセプトにできない請求",
    "fusho_followup_required": "不詳レセプトの要確認",
    "full_charge_collected": "10割徴収（返金が必要）",
    "returned": "返戻",
    "return_unmatched": "元のレセプトが見つからない返戻",
    "input_invalid": "読み取れない値",
}

SEVERITY_LABELS_JA: Final[Mapping[str, str]] = {"error": "要修正", "warning": "要確認", "info": "参考"}


def empty_findings() -> pd.DataFrame:
    """An empty findings table with the right columns."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in FINDING_COLUMNS})


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
