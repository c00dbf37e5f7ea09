"""The one pipeline of a run: read → normalise → link → rules → findings → (reports).

The CLI, a reconcile job and a split month's combine all go through here; they differ
only in where the inputs come from (:func:`read_inputs` on paths, with or without the
worker's read cache, or a split month's parts) and where the results go (the ``write``
function they pass: the reports in a folder, and for a job also the database).

The engine never imports the reports: the caller passes the writer.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from worker.config import Settings
from worker.engine.coverage import read_by_month, refuse_big_months, run_warnings
from worker.engine.deadline import check, uninterrupted
from worker.engine.reconcile import EngineResult, normalised, reconcile_stacked, stack
from worker.engine.results import FileStatus, MonthRead, ReturnsSummary, RunSummary, RunWarning
from worker.normalise import cap_input_invalid
from worker.reading import FileProblem, RawTable, discover, read_all
from worker.reading.tables import FileRead
from worker.reading.unread import unread_message
from worker.reading.warmup import is_big

__all__ = [
    "Inputs",
    "Progress",
    "RunInfo",
    "RunResult",
    "Select",
    "Write",
    "conclude",
    "file_statuses",
    "period_of",
    "read_inputs",
    "run",
    "summarise",
]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
#: where a run's results go: (findings, summary, reclaims, the findings' context for the
#: clerk's list: ``EngineResult.context``) -> the files written
Write = Callable[[pd.DataFrame, RunSummary, pd.DataFrame | None, pd.DataFrame | None], tuple[Path, ...]]
#: what of a run's result is written and returned (a reconcile job: its month's list, ``months.month_of_list``)
Select = Callable[[EngineResult], EngineResult]


@dataclass(frozen=True)
class RunInfo:
    """What a run says about its inputs (the summary's part that does not depend on the
    rules): its files, what it read per claim month and the checks that could not run for
    want of a table (``worker.engine.coverage``). Plain data: a split month keeps it as JSON
    between the parent and its parts."""

    period: str
    files: list[FileStatus]
    problems: list[FileProblem]
    receipts: int
    with_returns: bool
    started_at: datetime
    timings: dict[str, float] = field(default_factory=dict)
    read: list[MonthRead] = field(default_factory=list)
    warnings: list[RunWarning] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunInfo:
        return cls(
            period=data["period"],
            files=[FileStatus(**{**f, "unread": tuple(f.get("unread", ()))}) for f in data["files"]],
            problems=[FileProblem(**p) for p in data["problems"]],
            receipts=int(data["receipts"]),
            with_returns=bool(data["with_returns"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            timings={k: float(v) for k, v in data["timings"].items()},
            # absent in the meta of a month split before issue 10: nothing to warn about then
            read=[MonthRead(m["month"], {k: int(n) for k, n in m["rows"].items()}) for m in data.get("read", [])],
            warnings=[
                RunWarning(tuple(w["missing"]), tuple(w["months"]), tuple(w["checks"]), w["message"])
                for w in data.get("warnings", [])
            ],
        )


@dataclass
class Inputs:
    """A run's inputs, read and normalised: typed tables by kind and the findings of
    unreadable values."""

    tables: dict[str, pd.DataFrame]
    input_findings: pd.DataFrame
    info: RunInfo


@dataclass
class RunResult:
    findings: pd.DataFrame
    summary: RunSummary
    problems: list[FileProblem]
    timings: dict[str, float] = field(default_factory=dict)
    outputs: tuple[Path, ...] = ()


def file_statuses(
    described: Mapping[str, FileRead],
    problems: list[FileProblem],
    *,
    skipped: Mapping[str, Mapping[str, int]] | None = None,
) -> list[FileStatus]:
    """The 概要 sheet's list of input files: read (with their tables and the rows skipped
    as no data, by file; "partial" with the sheets not read and why) or not (with why). A
    run without receipts says so in its warnings."""
    skipped = skipped or {}
    statuses = [
        FileStatus(
            path=name,
            status="partial" if read.unread else "ok",
            tables=read.description,
            message=unread_message(read.unread),
            skipped=dict(skipped.get(name, {})),
            unread=read.unread,
        )
        for name, read in described.items()
    ]
    statuses += [FileStatus(path=p.file, status="error", tables="", message=p.message) for p in problems]
    return statuses


def period_of(receipts: pd.DataFrame) -> str:
    months = receipts["claim_month"].dropna()
    if months.empty:
        return "（診療年月なし）"
    lo, hi = months.min().strftime("%Y-%m"), months.max().strftime("%Y-%m")
    return lo if lo == hi else f"{lo}〜{hi}"


def read_inputs(
    paths: Sequence[Path],
    settings: Settings,
    caches: Mapping[Path, Path] | None = None,
    progress: Progress | None = None,
) -> Inputs:
    """Read the files (or folders) and normalise their tables; ``caches`` gives a path's
    folder of the reader's kept output (the worker reads an upload once)."""
    say = progress or (lambda _msg: None)
    started = datetime.now()
    t0 = time.perf_counter()
    files, problems = discover(paths)
    say(f"{len(files)}ファイルを読み込み中")
    # a file read is normalised while the others are still being read, unless a file is big:
    # those are read alone so that the parent holds little meanwhile (worker.reading.warmup)
    typed: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = {}

    def normalise_early(file_tables: Sequence[RawTable]) -> None:
        for t in file_tables:
            typed[id(t)] = normalised(t, release=True)

    early = None if any(is_big(f) for f in files) else normalise_early
    tables, read_problems, described = read_all(files, settings, caches, on_file=early)
    problems += read_problems
    check()  # the run's time limit (worker.engine.deadline), between the stages
    skipped: dict[str, Counter[str]] = {}
    for t in tables:
        skipped.setdefault(t.file, Counter()).update(t.skipped)
    t1 = time.perf_counter()
    stacked, input_findings = stack(
        tables, [typed[id(t)] if id(t) in typed else normalised(t, release=True) for t in tables]
    )
    input_findings = cap_input_invalid(input_findings, settings.max_invalid_per_column)
    receipts, refused = refuse_big_months(stacked["receipts"], settings.max_rows_per_month)
    stacked["receipts"] = receipts
    read = read_by_month(stacked)
    info = RunInfo(
        period=period_of(receipts),
        files=file_statuses(described, problems, skipped=skipped),
        problems=problems,
        receipts=len(receipts),
        with_returns=any(t.kind == "returns" for t in tables),
        started_at=started,
        timings={"read": t1 - t0, "normalise": time.perf_counter() - t1},
        read=read,
        warnings=run_warnings(read) + refused,
    )
    return Inputs(stacked, input_findings, info)


def summarise(info: RunInfo, returns: ReturnsSummary | None) -> RunSummary:
    """The run summary (the one place it is built)."""
    return RunSummary(
        period=info.period,
        files=info.files,
        receipts=info.receipts,
        started_at=info.started_at,
        returns=returns,
        finished_at=datetime.now(),
        read=tuple(info.read),
        warnings=tuple(info.warnings),
    )


def conclude(
    info: RunInfo,
    result: EngineResult,
    write: Write,
    timings: Mapping[str, float] | None = None,
    select: Select | None = None,
) -> RunResult:
    """Summarise a run's result (what ``select`` keeps of it) and hand it to ``write`` (the
    reports, the database)."""
    t0 = time.perf_counter()
    if select is not None:
        result = select(result)
    summary = summarise(info, result.returns)
    with uninterrupted():  # started before the run's deadline, never cut: all outputs or none
        outputs = write(result.findings, summary, result.reclaims, result.context)
    seconds = {**info.timings, **(timings or {}), "write": time.perf_counter() - t0}
    log.info(
        "run done: %d receipts, %d findings, %d file problems", info.receipts, len(result.findings), len(info.problems)
    )
    return RunResult(result.findings, summary, info.problems, seconds, outputs)


def run(inputs: Inputs, write: Write, progress: Progress | None = None, select: Select | None = None) -> RunResult:
    """Reconcile read inputs (link → rules → returns) and write the results (what ``select`` keeps)."""
    say = progress or (lambda _msg: None)
    say("照合中")
    check()
    t0 = time.perf_counter()
    # the run is the tables' last use: what the link has taken of them goes (``release``)
    result = reconcile_stacked(
        inputs.tables, inputs.input_findings, with_returns=inputs.info.with_returns, release=True
    )
    rules_s = time.perf_counter() - t0
    say("訂正リストを書き出し中")
    return conclude(inputs.info, result, write, {"rules": rules_s}, select)
