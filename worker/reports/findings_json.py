"""findings.json: the run's summary, its findings and (when given) the reclaims, written
in chunks so that a large month never becomes one huge JSON string."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from rules import FINDING_COLUMNS
from worker.engine.keys import DEFAULT_CLERK_STATUS
from worker.engine.results import RunSummary
from worker.reports.carry import Carried
from worker.reports.excel_safe import replace_surrogates
from worker.reports.stats import Stats

__all__ = ["JSON_CHUNK_ROWS", "write_json"]

#: Rows per to_json call when writing findings.json (bounds the size of one JSON string).
JSON_CHUNK_ROWS: int = 10_000


def write_json(
    findings: pd.DataFrame,
    summary: RunSummary,
    stats: Stats,
    path: Path,
    reclaims: pd.DataFrame | None = None,
    carried: Carried | None = None,
    *,
    survey: list[dict[str, Any]] | None = None,
) -> None:
    """Write findings.json to ``path``: {"summary", "findings"[, "reclaims"][, "statuses",
    "resolved"]}, UTF-8. With ``carried`` (the clerk's marks, a previous list): "statuses"
    lists this run's marked findings ({key, status, memo}) and "resolved" the previous
    list's findings that are gone ({key, category, patient_id, content, status}; a merged
    line gives one record per finding). ``survey`` (``survey_counts``) is written as
    ``summary.survey``: counts only, for the association surveys (``henrei survey export``)."""
    head_summary = _summary_json(summary, stats)
    if survey is not None:
        head_summary["survey"] = survey
    head = json.dumps({"summary": head_summary}, ensure_ascii=False, indent=1)
    reclaim_chunks = None if reclaims is None else _reclaim_json_chunks(reclaims)
    # errors="replace": a lone surrogate in the summary texts must not abort the run.
    with open(path, "w", encoding="utf-8", errors="replace", newline="\n") as fh:
        _write_json_body(fh, head, _json_chunks(findings), reclaim_chunks, _carried_json(carried))


def _summary_json(summary: RunSummary, stats: Stats) -> dict[str, Any]:
    """The "summary" object of findings.json."""
    out: dict[str, Any] = {
        "period": summary.period,
        "started_at": summary.started_at.isoformat(),
        "finished_at": summary.finished_at.isoformat(),
        "receipts": summary.receipts,
        "files": [
            {
                "path": fs.path,
                "status": fs.status,
                "tables": fs.tables,
                "message": fs.message,
                # rows read over as no data, by reason: header, total, title, blank
                "skipped_rows": {str(k): int(v) for k, v in fs.skipped.items()},
                # sheets not read (status "partial"): sheet ("" for a CSV), rows (None: unknown),
                # reason: no_header | damaged | too_many_rows (worker.reading.unread)
                "unread_sheets": [dict(u) for u in fs.unread],
            }
            for fs in summary.files
        ],
        # kinds of table missing and the checks that could not run (empty: everything ran)
        "checked": summary.checked,
        "warnings": [
            {"missing": list(w.missing), "months": list(w.months), "checks": list(w.checks), "message": w.message}
            for w in summary.warnings
        ],
        # rows read per claim month and table kind (cards: of the month's patients)
        "read": [{"month": m.month, **{k: int(n) for k, n in m.rows.items()}} for m in summary.read],
        "findings": stats.total,
        "counts": {
            "by_category": stats.by_category,
            "by_severity": stats.by_severity,
        },
        "copay": {
            # positive = the patient paid too much (CONTRACT §2); both totals as magnitudes
            "overpaid_yen": stats.overpaid_yen,
            "overpaid_findings": stats.overpaid_count,
            "underpaid_yen": stats.underpaid_yen,
            "underpaid_findings": stats.underpaid_count,
            "net_yen": stats.overpaid_yen - stats.underpaid_yen,
        },
    }
    if summary.returns is not None:
        ret = summary.returns
        out["returns"] = {
            "total": int(ret.total),
            "matched": int(ret.matched),
            "unmatched": int(ret.unmatched),
            "predicted": int(ret.predicted),
            "predicted_share": ret.predicted_share,  # predicted / matched (0..1); null when matched == 0
            "by_class": {str(k): int(v) for k, v in ret.by_class.items()},
        }
    return out


def _json_chunks(findings: pd.DataFrame) -> Iterator[str]:
    """The findings as JSON records, one per line, each chunk the inside of a JSON array."""
    text_cols = [c for c in FINDING_COLUMNS if c not in ("row", "copay_diff_yen")]
    for lo in range(0, len(findings), max(1, JSON_CHUNK_ROWS)):
        chunk = findings.iloc[lo : lo + JSON_CHUNK_ROWS].copy()
        chunk["row"] = pd.to_numeric(chunk["row"], errors="coerce").astype("Int64")
        chunk["copay_diff_yen"] = pd.to_numeric(chunk["copay_diff_yen"], errors="coerce").astype("Int64")
        try:
            text = chunk.to_json(orient="records", lines=True, force_ascii=False)
        except UnicodeEncodeError:  # lone surrogates cannot be encoded: replace them
            for c in text_cols:
                chunk[c] = chunk[c].map(replace_surrogates, na_action="ignore")
            text = chunk.to_json(orient="records", lines=True, force_ascii=False)
        assert text is not None
        # JSON strings cannot hold a raw newline, so every "\n" separates two records.
        # ujson writes "/" as "\/" (and "\" as "\\"), so every "\/" is an escaped slash.
        yield "\n" + text.rstrip("\n").replace("\n", ",\n").replace("\\/", "/")


def _reclaim_json_chunks(reclaims: pd.DataFrame) -> Iterator[str]:
    """The reclaims as JSON records (Japanese keys, null for NA), chunked like the findings."""
    for lo in range(0, len(reclaims), max(1, JSON_CHUNK_ROWS)):
        chunk = reclaims.iloc[lo : lo + JSON_CHUNK_ROWS]
        try:
            text = chunk.to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
        except UnicodeEncodeError:  # lone surrogates cannot be encoded: replace them
            chunk = chunk.copy()
            for c in chunk.columns:
                if chunk[c].dtype == object:
                    chunk[c] = chunk[c].map(replace_surrogates, na_action="ignore")
            text = chunk.to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
        assert text is not None
        yield "\n" + text.rstrip("\n").replace("\n", ",\n").replace("\\/", "/")


def _carried_json(carried: Carried | None) -> dict[str, list[dict[str, str]]] | None:
    if carried is None:
        return None
    marked = ((k, s, m) for k, (s, m) in carried.kept.items() if s != DEFAULT_CLERK_STATUS or m)
    statuses = [{"key": k, "status": s, "memo": m} for k, s, m in marked]
    resolved = [
        {"key": k, "category": code, "patient_id": line.patient_id, "content": line.content, "status": line.status}
        for line in carried.resolved
        for k, code in zip(line.keys, line.codes, strict=True)
    ]
    return {"statuses": statuses, "resolved": resolved}


def _write_json_body(
    fh: TextIO,
    head: str,
    chunks: Iterator[str],
    reclaim_chunks: Iterator[str] | None = None,
    carried: dict[str, list[dict[str, str]]] | None = None,
) -> None:
    # head is '{ "summary": {...}\n}': reopen the object and append the findings array
    # (and the reclaims array when there is one).
    fh.write(head[: head.rindex("}")].rstrip())
    _write_json_array(fh, "findings", chunks)
    if reclaim_chunks is not None:
        _write_json_array(fh, "reclaims", reclaim_chunks)
    for key, records in (carried or {}).items():
        fh.write(f',\n "{key}": ' + json.dumps(records, ensure_ascii=False))
    fh.write("\n}\n")


def _write_json_array(fh: TextIO, key: str, chunks: Iterator[str]) -> None:
    fh.write(f',\n "{key}": [')
    first = True
    for chunk in chunks:
        if not chunk:
            continue
        if not first:
            fh.write(",")
        fh.write(chunk)
        first = False
    fh.write("]")
