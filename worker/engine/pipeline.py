"""One reconciliation run: read -> normalise -> link -> rules -> findings -> reports."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from worker.config import Settings
from worker.engine.reconcile import reconcile_tables
from worker.engine.results import FileStatus, RunSummary
from worker.reading.read import discover, read_all
from worker.reading.schema import TABLE_LABELS_JA
from worker.reading.tables import FileProblem
from worker.reports import write_reports

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class RunResult:
    findings: pd.DataFrame
    summary: RunSummary
    problems: list[FileProblem]
    timings: dict[str, float] = field(default_factory=dict)
    outputs: tuple[Path, ...] = ()


def file_statuses(described: dict[str, str], problems: list[FileProblem], *, no_receipts: bool) -> list[FileStatus]:
    """The 概要 sheet's list of input files: read (with their tables) or not (with why)."""
    statuses = [FileStatus(path=name, status="ok", tables=desc, message="") for name, desc in described.items()]
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


def reconcile(
    paths: Sequence[Path],
    out_dir: Path,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> RunResult:
    settings = settings or Settings.from_env()
    say = progress or (lambda _msg: None)
    started = datetime.now()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    files, problems = discover(paths)
    say(f"{len(files)}ファイルを読み込み中")
    tables, read_problems, described = read_all(files, settings)
    problems += read_problems
    timings["read"] = time.perf_counter() - t0
    say("照合中")
    t1 = time.perf_counter()
    engine = reconcile_tables(tables, release=True)
    findings, stacked = engine.findings, engine.tables
    timings["rules"] = time.perf_counter() - t1
    receipts = stacked["receipts"]
    statuses = file_statuses(described, problems, no_receipts=bool(tables) and receipts.empty)
    summary = RunSummary(
        period=period_of(receipts),
        files=statuses,
        receipts=len(receipts),
        started_at=started,
        returns=engine.returns,
        finished_at=datetime.now(),
    )
    say("訂正リストを書き出し中")
    t2 = time.perf_counter()
    outputs = write_reports(findings, summary, out_dir, reclaims=engine.reclaims)
    timings["write"] = time.perf_counter() - t2
    log.info(
        "run done: %d files, %d receipts, %d findings, %d file problems",
        len(files),
        len(receipts),
        len(findings),
        len(problems),
    )
    return RunResult(findings=findings, summary=summary, problems=problems, timings=timings, outputs=outputs)
