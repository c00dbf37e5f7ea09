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
from worker.engine.reconcile import EngineResult, combine, reconcile_stacked
from worker.engine.results import FileStatus, ReturnsSummary, RunSummary
from worker.reading import TABLE_LABELS_JA, FileProblem, discover, read_all

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
#: where a run's results go: (findings, summary, reclaims) -> the files written
Write = Callable[[pd.DataFrame, RunSummary, pd.DataFrame | None], tuple[Path, ...]]
#: what of a run's result is written and returned (a reconcile job: its month's list, ``months.month_of_list``)
Select = Callable[[EngineResult], EngineResult]


@dataclass(frozen=True)
class RunInfo:
    """What a run says about its inputs (the summary's part that does not depend on the
    rules). Plain data: a split month keeps it as JSON between the parent and its parts."""

    period: str
    files: list[FileStatus]
    problems: list[FileProblem]
    receipts: int
    with_returns: bool
    started_at: datetime
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunInfo:
        return cls(
            period=data["period"],
            files=[FileStatus(**f) for f in data["files"]],
            problems=[FileProblem(**p) for p in data["problems"]],
            receipts=int(data["receipts"]),
            with_returns=bool(data["with_returns"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            timings={k: float(v) for k, v in data["timings"].items()},
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
    described: dict[str, str],
    problems: list[FileProblem],
    *,
    no_receipts: bool,
    skipped: Mapping[str, Mapping[str, int]] | None = None,
) -> list[FileStatus]:
    """The 概要 sheet's list of input files: read (with their tables and the rows skipped
    as no data, by file) or not (with why)."""
    skipped = skipped or {}
    statuses = [
        FileStatus(path=name, status="ok", tables=desc, message="", skipped=dict(skipped.get(name, {})))
        for name, desc in described.items()
    ]
    statuses += [FileStatus(path=p.file, status="error", tables="", message=p.message) for p in problems]
    if no_receipts:
        message = f"{TABLE_LABELS_JA['receipts']}が見つかりません。レセプトの表を含めてください。"
        statuses.append(FileStatus(path="（全体）", status="error", tables="", message=message))
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
    tables, read_problems, described = read_all(files, settings, caches)
    problems += read_problems
    skipped: dict[str, Counter[str]] = {}
    for t in tables:
        skipped.setdefault(t.file, Counter()).update(t.skipped)
    t1 = time.perf_counter()
    stacked, input_findings = combine(tables, release=True)
    receipts = stacked["receipts"]
    info = RunInfo(
        period=period_of(receipts),
        files=file_statuses(described, problems, no_receipts=bool(tables) and receipts.empty, skipped=skipped),
        problems=problems,
        receipts=len(receipts),
        with_returns=any(t.kind == "returns" for t in tables),
        started_at=started,
        timings={"read": t1 - t0, "normalise": time.perf_counter() - t1},
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
    outputs = write(result.findings, summary, result.reclaims)
    seconds = {**info.timings, **(timings or {}), "write": time.perf_counter() - t0}
    log.info(
        "run done: %d receipts, %d findings, %d file problems", info.receipts, len(result.findings), len(info.problems)
    )
    return RunResult(result.findings, summary, info.problems, seconds, outputs)


def run(inputs: Inputs, write: Write, progress: Progress | None = None, select: Select | None = None) -> RunResult:
    """Reconcile read inputs (link → rules → returns) and write the results (what ``select`` keeps)."""
    say = progress or (lambda _msg: None)
    say("照合中")
    t0 = time.perf_counter()
    result = reconcile_stacked(inputs.tables, inputs.input_findings, with_returns=inputs.info.with_returns)
    rules_s = time.perf_counter() - t0
    say("訂正リストを書き出し中")
    return conclude(inputs.info, result, write, {"rules": rules_s}, select)
