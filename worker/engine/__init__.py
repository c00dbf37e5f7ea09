"""The engine: link receipts to their online checks, cards and returns, run the rules,
and the one pipeline that the CLI, a reconcile job and a split month's combine share;
with each finding's context for the clerk (``finding_context``) and its stable key (``keys``)."""

from worker.engine import coverage, finding_context, keys, link, results, split
from worker.engine.pipeline import Inputs, Progress, RunInfo, RunResult, Write, conclude, read_inputs, run
from worker.engine.reconcile import EngineResult, reconcile_stacked, reconcile_tables
from worker.engine.results import FileStatus, MonthRead, ReturnsSummary, RunSummary, RunWarning

__all__ = [
    "EngineResult",
    "FileStatus",
    "Inputs",
    "MonthRead",
    "Progress",
    "ReturnsSummary",
    "RunInfo",
    "RunResult",
    "RunSummary",
    "RunWarning",
    "Write",
    "conclude",
    "coverage",
    "finding_context",
    "keys",
    "link",
    "read_inputs",
    "reconcile_stacked",
    "reconcile_tables",
    "results",
    "run",
    "split",
]
