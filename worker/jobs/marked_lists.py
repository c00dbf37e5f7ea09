"""A marked correction list handed back to the worker (uploaded with ``henrei upload`` or
dropped in the clinic's folder): its 状態 and メモ become the clerk's statuses of those
findings (``finding_statuses``, changed by 「Excel（ファイル名）」), and every later list of
the month shows them (:func:`stored_statuses`, passed to the report writer).

Registration recognises such a workbook before reading it as input (``is_marked_list``:
a 「指摘一覧」 sheet whose header holds 「キー」 and 「状態」). Only keys of the clinic's own
stored findings are taken: a list of another clinic (or of a CLI run, keyed without a
clinic) changes nothing and says so. A line's mark is written where it differs from the
stored one (none counts as 未対応), so an untouched line never overwrites a status given
since, and setting a line back to 未対応 in Excel is kept. The upload is not an input of
any run: it is closed as ``UploadStatus.MARKED`` with the outcome as its message
(``UploadStatus.FAILED`` when it cannot be read as a list).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import pandas as pd
from sqlalchemy import select

from worker.engine.keys import DEFAULT_CLERK_STATUS, finding_keys
from worker.jobs.context import Context
from worker.jobs.database import Session, session_scope
from worker.jobs.findings_store import set_finding_status
from worker.jobs.models import Finding, FindingStatus, Job, JobStatus, SettlementMark, Upload, UploadStatus, utcnow
from worker.reports import NotMarkedListError, Statuses, is_marked_list, read_marked

__all__ = [
    "chunks",
    "close_handed_back",
    "import_marked_list",
    "is_marked_list",
    "known_keys",
    "stored_marks",
    "stored_statuses",
]

log = logging.getLogger(__name__)
_CHUNK: Final = 500


def chunks(keys: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(keys), _CHUNK):
        yield keys[i : i + _CHUNK]


def stored_marks(
    ctx: Context,
    clinic_id: str,
    claim_month: str,
    findings: pd.DataFrame,
    model: type[FindingStatus] | type[SettlementMark] = FindingStatus,
) -> Statuses:
    """{key: (status, memo)} the database holds for ``findings`` of the clinic's month: the
    findings' statuses (``FindingStatus``) or the settlement list's (``SettlementMark``)."""
    keys = sorted(set(finding_keys(clinic_id, claim_month, findings)))
    out: dict[str, tuple[str, str]] = {}
    with session_scope(ctx.engine) as s:
        for part in chunks(keys):
            for key, status, note in s.execute(select(model.key, model.status, model.note).where(model.key.in_(part))):
                out[key] = (str(status), note or "")
    return out


def stored_statuses(ctx: Context, clinic_id: str, claim_month: str, findings: pd.DataFrame) -> Statuses:
    """{key: (status, memo)} of the clerk's statuses of ``findings`` of the clinic's month."""
    return stored_marks(ctx, clinic_id, claim_month, findings)


def import_marked_list(ctx: Context, upload_id: int, register_job_id: int | None, path: Path, name: str) -> None:
    """Record the marks of the marked list ``path`` (upload ``name``) for the upload's
    clinic; close the upload and the register job (if any) with what was done."""
    try:
        marked = read_marked(path, name)
    except NotMarkedListError as exc:
        close_handed_back(ctx, upload_id, register_job_id, str(exc), {"marked_list": {"error": str(exc)}}, failed=True)
        return
    by = f"Excel（{name}）"
    with session_scope(ctx.engine) as s:
        clinic = s.get_one(Upload, upload_id).clinic_id
        marks = marked.statuses()
        known = known_keys(s, clinic, sorted(marked.keys()))
        current = _current(s, sorted(known))
        changed = 0
        for key, (status, memo) in marks.items():
            if key in known and current.get(key, (DEFAULT_CLERK_STATUS, "")) != (status, memo):
                set_finding_status(s, key, status, by, memo or None)
                changed += 1
    unknown = len(marked.keys() - known)
    message = f"訂正リスト「{name}」の状態・メモを読み込みました（変更 {changed:,}件）。"
    if unknown:
        message += (
            f"この医療機関の指摘にない {unknown:,}件は読み飛ばしました"
            "（別の医療機関や henrei reconcile の訂正リストのものです）。"
        )
    result: dict[str, Any] = {
        "marked_list": {"changed": changed, "unknown": unknown, "warnings": list(marked.warnings)}
    }
    close_handed_back(ctx, upload_id, register_job_id, " ".join([message, *marked.warnings]), result, failed=False)
    log.info("upload %s: marked list, %d statuses changed, %d unknown keys", upload_id, changed, unknown)


def known_keys(s: Session, clinic_id: str, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(keys):
        found.update(s.scalars(select(Finding.key).where(Finding.clinic_id == clinic_id, Finding.key.in_(part))))
    return found


def _current(s: Session, keys: list[str]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for part in chunks(keys):
        for st in s.scalars(select(FindingStatus).where(FindingStatus.key.in_(part))):
            out[st.key] = (str(st.status), st.note or "")
    return out


def close_handed_back(
    ctx: Context, upload_id: int, job_id: int | None, message: str, result: dict[str, Any], *, failed: bool
) -> None:
    """The upload is kept out of every run (with ``message``); the register job ends."""
    with session_scope(ctx.engine) as s:
        upload = s.get_one(Upload, upload_id)
        upload.status, upload.error = (UploadStatus.FAILED if failed else UploadStatus.MARKED), message
        job = s.get(Job, job_id) if job_id is not None else None
        if job is not None:
            job.status, job.finished_at, job.result = (JobStatus.FAILED if failed else JobStatus.DONE), utcnow(), result
            if failed:
                job.error = message
