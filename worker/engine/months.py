"""A month's list: which of a run's findings and returns the correction list of one claim
month holds.

A reconcile job reads its month's uploads and those of the 12 months before (再診, returns
of earlier claims) and after (later online checks of returned claims), so its run finds
problems of every month it read; its list is the part that belongs to its month, chosen
here once (before writing and storing: the workbook, findings.json, the stored findings
and ``henrei status`` show the same). The CLI lists every month it read and does not call
this; its findings chosen here for a month are the month's list of the same uploads.

The rule:

- a finding about a claim belongs to the claim's month (``claim_month``);
- a finding without a month (``""``: an unreadable value in a row that has no 診療年月 —
  online checks, card records — or whose 診療年月 itself cannot be read) belongs to every
  month's list whose run read it;
- a return belongs to the month of the claim it matched (its ``claim_month`` is that
  month). A return that no claim matches belongs to its own 診療年月 when receipts of
  that month were read; else to the first later month whose receipts were read (the
  first list the clerk sees after the return arrived; the months between have no list);
  else (no receipts of that month or later) to its own 診療年月. The month so chosen
  does not depend on months after it, so a month's list does not change when a later
  month arrives, and a run of all months and a job of one month agree. A return without
  a 診療年月 that matches no claim has no month (every list).

The 返戻再請求 sheet (one row per return) and the summary's 返戻 counts are restricted the
same way.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection, Sequence

import pandas as pd

from rules.domain.return_reasons import CLASS_LABELS_JA
from worker.engine.reconcile import EngineResult
from worker.engine.results import ReturnsSummary

__all__ = [
    "findings_of_month",
    "home_months",
    "month_of_list",
    "receipt_months",
    "reclaims_of_month",
    "returns_summary",
]

#: the category of a return no claim matched (``rules.return_unmatched``)
UNMATCHED: str = "return_unmatched"
#: columns of the 返戻再請求 table (``rules.returned.reclaim_table``) this module reads
RECLAIM_MONTH, RECLAIM_METHOD, RECLAIM_CLASS, RECLAIM_PREDICTED = "診療年月", "照合方法", "分類", "事前チェック"
#: 照合方法 of a return no claim matched; 事前チェック of a matched return a finding predicted
NOT_MATCHED, PREDICTED = "—", "指摘済み"


def receipt_months(receipts: pd.DataFrame) -> list[str]:
    """The claim months ("YYYY-MM") of a run's receipts, sorted."""
    months = receipts["claim_month"].dropna()
    if months.empty:
        return []
    if pd.api.types.is_datetime64_any_dtype(months):
        return sorted(set(months.dt.strftime("%Y-%m")))
    return sorted({str(m)[:7] for m in months if str(m)})


def home_months(months: pd.Series, matched: pd.Series, receipts_read: Collection[str]) -> pd.Series:
    """The list month of each return: its ``months`` ("YYYY-MM" or "") when ``matched``,
    else the first month of ``receipts_read`` on or after it (its own month when none)."""
    read: Sequence[str] = sorted(receipts_read)

    def first_read(month: str) -> str:
        i = bisect.bisect_left(read, month)
        return read[i] if month and i < len(read) else month

    text = months.astype("object").where(months.notna(), "").astype(str)
    homes = {m: first_read(m) for m in dict.fromkeys(text[~matched])}
    return text.where(matched, text.map(homes))


def findings_of_month(findings: pd.DataFrame, month: str, receipts_read: Collection[str]) -> pd.DataFrame:
    """The findings of ``month``'s list (see the module's rule), in their order."""
    months = findings["claim_month"].astype("object").where(findings["claim_month"].notna(), "").astype(str)
    home = home_months(months, findings["category"].ne(UNMATCHED), receipts_read)
    return findings.loc[home.eq(month) | home.eq("")].reset_index(drop=True)


def reclaims_of_month(reclaims: pd.DataFrame, month: str, receipts_read: Collection[str]) -> pd.DataFrame:
    """The 返戻再請求 rows of ``month``'s list, in their order."""
    home = home_months(reclaims[RECLAIM_MONTH], reclaims[RECLAIM_METHOD].ne(NOT_MATCHED), receipts_read)
    return reclaims.loc[home.eq(month) | home.eq("")].reset_index(drop=True)


def returns_summary(reclaims: pd.DataFrame) -> ReturnsSummary:
    """The 返戻 counts of a 返戻再請求 table (one row per return): what ``run_returns``
    counts, from its table."""
    matched = reclaims[RECLAIM_METHOD].ne(NOT_MATCHED)
    by_class = reclaims[RECLAIM_CLASS].value_counts()
    return ReturnsSummary(
        total=len(reclaims),
        matched=int(matched.sum()),
        unmatched=int((~matched).sum()),
        predicted=int((matched & reclaims[RECLAIM_PREDICTED].eq(PREDICTED)).sum()),
        by_class={label: int(by_class.get(label, 0)) for label in CLASS_LABELS_JA.values()},
    )


def month_of_list(month: str, receipts_read: Collection[str]) -> Callable[[EngineResult], EngineResult]:
    """What a run's result shows in ``month``'s list, given the months whose receipts the
    run read: the findings, the 返戻再請求 rows and the 返戻 counts of that month (with the
    run's findings' context: names, dates and linked values by origin)."""

    def select(result: EngineResult) -> EngineResult:
        findings = findings_of_month(result.findings, month, receipts_read)
        if result.reclaims is None:
            return EngineResult(findings, result.tables, context=result.context)
        reclaims = reclaims_of_month(result.reclaims, month, receipts_read)
        return EngineResult(findings, result.tables, reclaims, returns_summary(reclaims), result.context)

    return select
