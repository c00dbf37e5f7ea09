"""Counts and money totals of a run's findings (shared by the workbook and the JSON)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rules import CATEGORIES
from worker.reports.formats import SEVERITIES

__all__ = ["Stats"]


@dataclass(frozen=True)
class Stats:
    """Findings per category and severity, and the copay differences summed."""

    total: int
    #: category -> severity -> count; every category of CATEGORIES, then unknown ones.
    by_category: dict[str, dict[str, int]]
    by_severity: dict[str, int]
    overpaid_yen: int
    overpaid_count: int
    underpaid_yen: int  # magnitude (positive number)
    underpaid_count: int

    @classmethod
    def of(cls, findings: pd.DataFrame) -> Stats:
        cat = findings["category"].astype(object).where(findings["category"].notna(), "")
        sev = findings["severity"].astype(object).where(findings["severity"].notna(), "")
        pairs: dict[tuple[str, str], int] = {}
        if len(findings):
            vc = pd.DataFrame({"c": cat.astype(str), "s": sev.astype(str)}).value_counts()
            levels = (vc.index.get_level_values(0), vc.index.get_level_values(1))
            pairs = {(str(c), str(s)): int(n) for c, s, n in zip(*levels, vc.to_numpy().tolist(), strict=True)}
        seen = {c for c, _ in pairs}
        extra = sorted(seen.difference(CATEGORIES))
        by_category: dict[str, dict[str, int]] = {}
        for c in (*CATEGORIES, *extra):
            counts = {s: pairs.get((c, s), 0) for s in SEVERITIES}
            counts["total"] = sum(n for (c2, _), n in pairs.items() if c2 == c)
            by_category[c] = counts
        by_severity = {s: int((sev == s).sum()) for s in SEVERITIES}
        diff = pd.to_numeric(findings["copay_diff_yen"], errors="coerce")
        pos = diff[diff > 0]
        neg = diff[diff < 0]
        return cls(
            total=len(findings),
            by_category=by_category,
            by_severity=by_severity,
            overpaid_yen=int(pos.sum()) if len(pos) else 0,
            overpaid_count=len(pos),
            underpaid_yen=int(-neg.sum()) if len(neg) else 0,
            underpaid_count=len(neg),
        )
