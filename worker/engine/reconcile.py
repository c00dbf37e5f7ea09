"""The in-memory part of a run: normalise -> link -> rules on tables already read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from rules import concat_findings, registry, return_unmatched, returned
from rules.domain.return_reasons import CLASS_LABELS_JA
from worker.engine.finding_context import TABLE_COLUMNS, finding_context
from worker.engine.link import Keep, latest_online_after, link_returns, link_stacked
from worker.engine.results import ReturnsSummary
from worker.normalise import empty_table, normalise
from worker.reading import TABLE_KINDS, RawTable


def normalised(t: RawTable, *, release: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One table normalised: (typed table, input findings). With ``release`` the raw table's
    text frame is dropped once normalised, so a large month does not hold both forms."""
    typed, bad = normalise(t)
    if release:
        t.frame = _emptied(t.frame)
    return typed, bad


def stack(
    tables: Sequence[RawTable], typed: Sequence[tuple[pd.DataFrame, pd.DataFrame]]
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The normalised ``typed`` of ``tables`` (one each, in order) stacked by kind, and the
    input findings."""
    by_kind: dict[str, list[pd.DataFrame]] = {k: [] for k in TABLE_KINDS}
    for t, (table, _) in zip(tables, typed, strict=True):
        by_kind[t.kind].append(table)
    stacked = {
        k: (pd.concat(v, ignore_index=True) if v else empty_table(k))  # type: ignore[arg-type]
        for k, v in by_kind.items()
    }
    return stacked, concat_findings([bad for _, bad in typed])


def combine(tables: Sequence[RawTable], *, release: bool = False) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Normalise every table and stack them by kind; return them and the input findings
    (``release``: see ``normalised``)."""
    return stack(tables, [normalised(t, release=release) for t in tables])


def _emptied(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s columns with no rows, holding none of its buffers (a slice such as
    ``frame.iloc[:0]`` keeps every Arrow buffer, and the reader's memory-mapped file, alive)."""
    empty = pd.DataFrame({i: pd.Series(dtype=dtype) for i, dtype in enumerate(frame.dtypes)})
    return empty.set_axis(frame.columns, axis=1)


@dataclass
class EngineResult:
    findings: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    #: the 返戻再請求 worksheet (None when no returns table was read)
    reclaims: pd.DataFrame | None = None
    returns: ReturnsSummary | None = None
    #: who and when each finding is about (``finding_context``: name, kana, 診療日 by
    #: origin), for the clerk's list; None where not computed (a part of a split month)
    context: pd.DataFrame | None = None


def _claim_context(receipts: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """Per receipt: the categories of its pre-submission findings and the 摘要 items found missing."""
    key = ["source_file", "sheet", "row"]
    out = pd.DataFrame(index=receipts.index)
    out["claim_categories"] = ""
    out["claim_missing"] = ""
    if findings.empty:
        return out
    cats = findings.groupby(key)["category"].agg(lambda c: ",".join(sorted(set(c))))
    missing = findings[findings["category"] == "fusho_missing_entry"].groupby(key)["expected"].first()
    idx = pd.MultiIndex.from_arrays([receipts["_file"], receipts["_sheet"], receipts["_row"]])
    out["claim_categories"] = cats.reindex(idx).fillna("").to_numpy()
    out["claim_missing"] = missing.reindex(idx).fillna("").to_numpy()
    return out


def link_returned_claims(
    returns: pd.DataFrame, receipts: pd.DataFrame, online: pd.DataFrame, findings: pd.DataFrame
) -> pd.DataFrame:
    """Returns with their matched claim (``cl_*``), the claim's findings and the latest later
    online check (``lo_*``): the input of ``rules.returned``."""
    claim, method = link_returns(returns, receipts)
    context = _claim_context(receipts, findings)
    claim_cols = receipts.join(context)
    cl = claim_cols.reindex(claim.to_numpy())
    cl.index = returns.index
    cl = cl.rename(columns={c: "cl_" + c.lstrip("_") for c in cl.columns})
    after = cl["cl_claim_month"] + pd.offsets.MonthEnd(0)
    lo_at = latest_online_after(cl.rename(columns={"cl_patient_id": "patient_id"}), online, after)
    lo = online.reindex(lo_at.to_numpy())
    lo.index = returns.index
    lo = lo.rename(columns={c: "lo_" + c.lstrip("_") for c in lo.columns})
    out = pd.concat([returns, cl, lo], axis=1)
    out["match_method"] = method
    out["claim_categories"] = out.pop("cl_claim_categories").fillna("")
    out["claim_missing"] = out.pop("cl_claim_missing").fillna("")
    # a finding about a return belongs to the patient and month of the claim it returns
    out["patient_id"] = out["cl_patient_id"].where(method.ne(""), out["patient_id"]).fillna("")
    out["claim_month"] = out["claim_month"].fillna(out["cl_claim_month"])
    return out


def run_returns(
    tables: dict[str, pd.DataFrame], findings: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, ReturnsSummary]:
    linked = link_returned_claims(tables["returns"], tables["receipts"], tables["online"], findings)
    classified = returned.classify(linked)
    found = concat_findings([returned.check(classified), return_unmatched.check(classified)])
    matched = classified["match_method"].ne("")
    by_class = classified["_class"].map(CLASS_LABELS_JA).value_counts()
    summary = ReturnsSummary(
        total=len(classified),
        matched=int(matched.sum()),
        unmatched=int((~matched).sum()),
        predicted=int((classified["_predicted"] & matched).sum()),
        by_class={label: int(by_class.get(label, 0)) for label in CLASS_LABELS_JA.values()},
    )
    return found, returned.reclaim_table(classified), summary


def reconcile_stacked(
    stacked: dict[str, pd.DataFrame],
    input_findings: pd.DataFrame,
    *,
    with_returns: bool,
    keep_input: bool = True,
    release: bool = False,
) -> EngineResult:
    """The findings of typed tables (``combine``'s output): link -> receipt rules -> returns.

    ``input_findings`` always feed the returns' claim context; ``keep_input=False`` leaves
    them out of the result (a part of a split month: the parent adds them once).
    ``release`` (the run's last use of ``stacked``) drops in ``stacked`` itself, as each is
    linked, the online and card columns nothing after the link reads (``_for_context``).
    """
    linked = link_stacked(stacked, _for_context(with_returns=with_returns) if release else None)
    receipt_findings = registry.run(linked)
    findings = concat_findings([input_findings, receipt_findings])
    own = findings if keep_input else receipt_findings
    reclaims, summary = None, None
    if with_returns:
        return_findings, reclaims, summary = run_returns(stacked, findings)
        own = concat_findings([own, return_findings])
    # a part of a split month: the combine builds the names and dates from every part and
    # takes the linked columns at each origin (the input findings' too) from the part that linked it
    context = finding_context(own if keep_input else concat_findings([input_findings, own]), stacked, linked)
    return EngineResult(own, stacked, reclaims, summary, context)


def _for_context(*, with_returns: bool) -> Keep:
    """What is kept of a source table once linked: of the card table, and of the online table
    unless returns are linked to it (``lo_*``: every column), only what the findings' context
    reads (``TABLE_COLUMNS``); the linked table holds the ``on_*``/``cd_*`` columns the rules read."""

    def keep(kind: str, table: pd.DataFrame) -> pd.DataFrame:
        if kind == "online" and with_returns:
            return table
        return table[[c for c in TABLE_COLUMNS if c in table.columns]]

    return keep


def reconcile_tables(tables: Sequence[RawTable], *, release: bool = False) -> EngineResult:
    """Pure part of a run: the findings of a set of already-read tables (any months).

    ``release`` drops the raw text of each table once normalised (see ``combine``).
    """
    with_returns = any(t.kind == "returns" for t in tables)
    stacked, input_findings = combine(tables, release=release)
    return reconcile_stacked(stacked, input_findings, with_returns=with_returns)
