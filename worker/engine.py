"""The in-memory part of a run: normalise -> link -> rules on tables already read."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from rules import registry
from rules.findings import concat_findings
from worker.link import link
from worker.normalise import empty_table, normalise
from worker.schema import TABLE_KINDS
from worker.tables import RawTable


def combine(tables: Sequence[RawTable]) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Normalise every table and stack them by kind; return them and the input findings."""
    by_kind: dict[str, list[pd.DataFrame]] = {k: [] for k in TABLE_KINDS}
    input_findings: list[pd.DataFrame] = []
    for t in tables:
        typed, bad = normalise(t)
        by_kind[t.kind].append(typed)
        input_findings.append(bad)
    stacked = {
        k: (pd.concat(v, ignore_index=True) if v else empty_table(k))  # type: ignore[arg-type]
        for k, v in by_kind.items()
    }
    return stacked, concat_findings(input_findings)


def reconcile_tables(tables: Sequence[RawTable]) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Pure part of a run: the findings of a set of already-read tables."""
    stacked, input_findings = combine(tables)
    linked = link(stacked["receipts"], stacked["online"], stacked["cards"])
    findings = concat_findings([input_findings, registry.run(linked)])
    return findings, stacked
