"""The engine: link receipts to their online checks, cards and returns, run the rules,
and the one pipeline that the CLI, a reconcile job and a split month's combine share."""

from worker.engine.results import FileStatus, ReturnsSummary, RunSummary

__all__ = ["FileStatus", "ReturnsSummary", "RunSummary"]
