"""What a run carries over from the clerk's work on the previous list: the statuses and
memos shown on the same findings (by key), and the previous findings that are gone
(解消: fixed, or no longer found) for 「概要」 and findings.json."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Final

import pandas as pd

from worker.engine.keys import DEFAULT_CLERK_STATUS
from worker.engine.results import RunSummary
from worker.reports.clerk_list import KEY_SEP
from worker.reports.marked import MarkedList

__all__ = ["Carried", "ResolvedLine", "Statuses", "carry", "key_month", "line_marks"]

#: {finding key: (status, memo)}: the clerk's marks to show
Statuses = Mapping[str, tuple[str, str]]

_MONTH: Final = re.compile(r"\d{4}-\d{2}")


def key_month(summary: RunSummary, claim_month: str) -> str:
    """The month the findings are keyed by: a job's, else the run's period when it is one month."""
    return claim_month or (summary.period if _MONTH.fullmatch(summary.period) else "")


@dataclass(frozen=True)
class ResolvedLine:
    """A line of the previous list none of whose findings the run found again."""

    keys: tuple[str, ...]
    codes: tuple[str, ...]
    patient_id: str
    categories: str
    content: str
    status: str


@dataclass(frozen=True)
class Carried:
    """The marks to show (``kept``: those on this run's findings, by key) and the previous
    list's lines that are gone; ``note`` (Japanese) says why none could be compared
    (another period), "" otherwise; ``source`` names the previous list (its file name, ""
    without one)."""

    statuses: Statuses
    kept: Statuses
    resolved: tuple[ResolvedLine, ...] = ()
    note: str = ""
    source: str = ""
    compared: bool = False


def carry(
    statuses: Statuses | None, previous: MarkedList | None, current_keys: Collection[str], period: str
) -> Carried:
    """The marks to show (``statuses``, else the previous list's) and, with a previous
    list of the same period, its lines none of whose keys is in ``current_keys``."""
    marks: Statuses = statuses if statuses is not None else (previous.statuses() if previous else {})
    now = set(current_keys)
    if previous is None:
        return Carried(marks, _kept(marks, now))
    if previous.period and previous.period != period:
        note = (
            f"前回の訂正リスト「{previous.name}」は対象期間が {previous.period} で、今回（{period}）と違うため、"
            "状態の引き継ぎと解消した指摘の確認はしていません。"
        )
        marks = {} if statuses is None else marks
        return Carried(marks, _kept(marks, now), (), note, previous.name)
    gone = tuple(
        ResolvedLine(line.keys, line.codes, line.patient_id, line.categories, line.content,
                     line.status or DEFAULT_CLERK_STATUS)
        for line in previous.lines
        if not any(k in now for k in line.keys)
    )  # fmt: skip
    return Carried(marks, _kept(marks, now), gone, "", previous.name, True)


def _kept(marks: Statuses, now: set[str]) -> dict[str, tuple[str, str]]:
    return {k: v for k, v in marks.items() if k in now}


def line_marks(keys: pd.Series, statuses: Statuses) -> tuple[list[str], list[str]]:
    """Each line's status and memo: the first of its keys with a mark gives the status
    (a merged line's findings were marked together), the memos of all its keys joined."""
    out_status: list[str] = []
    out_memo: list[str] = []
    for joined in keys.astype(str).tolist():
        marks = [statuses[k] for k in joined.split(KEY_SEP) if k in statuses]
        out_status.append(marks[0][0] if marks else DEFAULT_CLERK_STATUS)
        out_memo.append("\n".join(dict.fromkeys(m for _, m in marks if m)))
    return out_status, out_memo
