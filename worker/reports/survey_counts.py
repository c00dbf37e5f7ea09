"""The run's counts for association surveys (``summary.survey`` of findings.json).

Counts only — never a patient field: per claim month, category, severity and insurance
kind (国保/社保/後期/公費/不詳/不明, from the insurer number of the finding's input row,
``finding_context``), the number of findings and the money of their copay differences;
a return's class (資格/不詳/負担割合/その他) is kept as ``return_class``. The association
side (``worker.survey``) builds a clinic's submission from these records, whether they
come from a CLI run's findings.json or from the worker's.
"""

from __future__ import annotations

from typing import Any, Final

import pandas as pd

from rules.domain.codes import ReturnClass
from rules.domain.return_reasons import CLASS_LABELS_JA

__all__ = ["SURVEY_KEYS", "survey_counts"]

#: What one record is counted by.
SURVEY_KEYS: Final = ("month", "category", "severity", "insurance_kind", "return_class")
_UNKNOWN: Final = "不明"


def _text(col: pd.Series) -> pd.Series:
    obj = col.astype(object)
    return obj.where(obj.notna(), "").astype(str)


def _return_class(findings: pd.DataFrame) -> pd.Series:
    """The class code of a ``returned`` finding (its ``expected`` starts with the class label), else ""."""
    expected = _text(findings["expected"])
    out = pd.Series("", index=findings.index, dtype=object)
    returned = _text(findings["category"]).eq("returned")
    for code, label in CLASS_LABELS_JA.items():
        out = out.mask(returned & expected.str.startswith(label) & out.eq(""), code)
    return out.mask(returned & out.eq(""), str(ReturnClass.OTHER))


def survey_counts(findings: pd.DataFrame, context: pd.DataFrame | None, month: str = "") -> list[dict[str, Any]]:
    """One record per (month, category, severity, insurance kind, return class):
    ``findings``, ``overpaid_yen``, ``underpaid_yen`` (magnitudes of the copay differences).
    A finding without a claim month counts in ``month`` (a job's); without context the
    insurance kind is 不明."""
    if findings.empty:
        return []
    df = pd.DataFrame(
        {
            "source_file": _text(findings["source_file"]),
            "sheet": _text(findings["sheet"]),
            "row": pd.to_numeric(findings["row"], errors="coerce").fillna(0).round().astype("int64"),
            "month": _text(findings["claim_month"]).str[:7].replace("", month),
            "category": _text(findings["category"]),
            "severity": _text(findings["severity"]),
            "return_class": _return_class(findings),
        }
    )
    if context is not None and "insurance_kind" in context.columns and len(context):
        kinds = context.loc[:, ["source_file", "sheet", "row", "insurance_kind"]].drop_duplicates(
            subset=["source_file", "sheet", "row"]
        )
        df = df.merge(kinds, how="left", on=["source_file", "sheet", "row"], validate="many_to_one")
        df["insurance_kind"] = df["insurance_kind"].fillna(_UNKNOWN).astype(str)
    else:
        df["insurance_kind"] = _UNKNOWN
    diff = pd.to_numeric(findings["copay_diff_yen"], errors="coerce").fillna(0).to_numpy()
    df["findings"] = 1
    df["overpaid_yen"] = diff.clip(min=0)
    df["underpaid_yen"] = (-diff).clip(min=0)
    grouped = df.groupby(list(SURVEY_KEYS), sort=True)[["findings", "overpaid_yen", "underpaid_yen"]].sum()
    records = grouped.reset_index().to_dict("records")
    return [
        {**{k: str(r[k]) for k in SURVEY_KEYS}, **{k: int(r[k]) for k in ("findings", "overpaid_yen", "underpaid_yen")}}
        for r in records
    ]
