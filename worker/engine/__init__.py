"""The engine: link receipts to their online checks, cards and returns, run the rules,
and the one pipeline that the CLI, a reconcile job and a split month's combine share;
with each finding's context for the clerk (``finding_context``) and its stable key (``keys``)."""

from worker.engine import coverage, finding_context, keys, link, months, results, split
from worker.engine.months import month_of_list, receipt_months
from worker.engine.pipeline import Inputs, Progress, RunInfo, RunResult, Select, Write, conclude, read_inputs, run
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
    "Select",
    "Write",
    "conclude",
    "coverage",
    "finding_context",
    "keys",
    "link",
    "month_of_list",
    "months",
    "read_inputs",
    "receipt_months",
    "reconcile_stacked",
    "reconcile_tables",
    "results",
    "run",
    "split",
]
