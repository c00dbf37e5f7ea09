"""What a run produces besides its findings: the types the reports show (summary, files,
what was read per month, the checks that could not run, returns)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from worker.reading.unread import HALF_READ_REASONS

__all__ = ["FileStatus", "MonthRead", "ReturnsSummary", "RunSummary", "RunWarning"]


@dataclass(frozen=True)
class FileStatus:
    """One input file of a run, as shown in the summary."""

    path: str  # as given (display name)
    status: str  # "ok" | "partial" (sheets not read: ``unread``) | "error"
    tables: str  # e.g. "レセプト一覧（Sheet1、320行。見出しの繰り返し 8行を読み飛ばしました）、…" ; free text
    message: str  # Japanese message when status is "error" or "partial", else ""
    #: rows read over as no data, by reason (worker.reading.skip.SKIP_REASONS), all its tables
    skipped: Mapping[str, int] = field(default_factory=dict)
    #: the sheets not read (worker.reading.unread.UnreadSheet: sheet, rows, reason)
    unread: tuple[Mapping[str, Any], ...] = ()

    @property
    def half_read(self) -> bool:
        """Rows of a table were lost (a damaged sheet, a table over the row limit)."""
        return any(u.get("reason") in HALF_READ_REASONS for u in self.unread)


@dataclass(frozen=True)
class MonthRead:
    """The rows a run read for one claim month, by table kind (``worker.engine.coverage``)."""

    month: str  # "2026-10"; "" for rows without a month
    #: table kind -> rows: receipts and returns by 診療年月, online results by 照会日, card
    #: records of the patients with a receipt in the month (cards carry no month)
    rows: Mapping[str, int]


@dataclass(frozen=True)
class RunWarning:
    """A kind of table a run lacked, and the checks that therefore could not run."""

    missing: tuple[str, ...]  # the table kinds: ("receipts",) or some of ("online", "cards")
    months: tuple[str, ...]  # the claim months it concerns; () = the whole run
    #: categories (CONTRACT §2 names) whose checks could not run, wholly or in part
    checks: tuple[str, ...]
    message: str  # Japanese: what is missing, what could not be checked, what to add


@dataclass(frozen=True)
class ReturnsSummary:
    """The returns (返戻) of a run, as counted for the summary."""

    total: int  # returns read
    matched: int  # returns matched to their original claim
    unmatched: int  # returns no claim could be found for
    predicted: int  # matched returns whose original claim had a finding that predicted them
    by_class: Mapping[str, int]  # class label -> returns, e.g. {"資格": 3, "負担割合": 1, "その他": 0}

    @property
    def predicted_share(self) -> float | None:
        """predicted / matched (0..1), or None when no return was matched."""
        return self.predicted / self.matched if self.matched else None


@dataclass(frozen=True)
class RunSummary:
    """What a run read; shown at the top of the workbook and in findings.json."""

    period: str  # e.g. "2026-10" or "2026-09〜2026-10"
    files: list[FileStatus]  # every input file of the run
    receipts: int  # receipts read
    started_at: datetime
    finished_at: datetime
    returns: ReturnsSummary | None = None  # the 「返戻」 block; None leaves it out
    read: Sequence[MonthRead] = ()  # what was read, per claim month
    warnings: Sequence[RunWarning] = ()  # kinds of table missing: checks that could not run

    @property
    def checked(self) -> bool:
        """False when the run had no receipts: nothing was checked (the CLI exits 2). A month
        refused for its size (receipts missing for some months only) leaves it True."""
        return not any("receipts" in w.missing and not w.months for w in self.warnings)

    @property
    def months_refused(self) -> tuple[str, ...]:
        """Claim months whose receipts were not checked (over ``HENREI_MAX_ROWS_PER_MONTH``)."""
        return tuple(m for w in self.warnings if "receipts" in w.missing for m in w.months)
