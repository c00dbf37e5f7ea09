"""A marked settlement list (窓口精算リスト.xlsx) handed back to the worker: its 状態 and メモ
become the clerk's settlement statuses of those claims (``settlement_statuses``, changed by
「Excel（ファイル名）」), and every later settlement list of the month shows them
(:func:`stored_settlement`, passed to the report writer).

As with the correction list (``worker.jobs.marked_lists``): only keys of the clinic's own
stored findings are taken, a mark is written only where it differs from the stored one,
and the upload is closed as ``UploadStatus.MARKED`` (not an input of any run).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select

from worker.jobs.context import Context
from worker.jobs.database import session_scope
from worker.jobs.marked_lists import chunks, close_handed_back, known_keys, stored_marks
from worker.jobs.models import SettlementMark, SettlementStatus, Upload, utcnow
from worker.reports import NotMarkedListError, Statuses, read_settlement_marks

__all__ = ["import_settlement_list", "stored_settlement"]

log = logging.getLogger(__name__)


def stored_settlement(ctx: Context, clinic_id: str, claim_month: str, findings: pd.DataFrame) -> Statuses:
    """{key: (status, memo)} of the settlement list's marks of ``findings`` of the clinic's month."""
    return stored_marks(ctx, clinic_id, claim_month, findings, SettlementMark)


def import_settlement_list(ctx: Context, upload_id: int, register_job_id: int | None, path: Path, name: str) -> None:
    """Record the marks of the marked settlement list ``path`` (upload ``name``) for the
    upload's clinic; close the upload and the register job (if any) with what was done."""
    try:
        marked = read_settlement_marks(path, name)
    except NotMarkedListError as exc:
        close_handed_back(
            ctx, upload_id, register_job_id, str(exc), {"settlement_list": {"error": str(exc)}}, failed=True
        )
        return
    by = f"Excel（{name}）"
    with session_scope(ctx.engine) as s:
        clinic = s.get_one(Upload, upload_id).clinic_id
        known = known_keys(s, clinic, sorted(marked.marks))
        current = {
            m.key: m
            for part in chunks(sorted(known))
            for m in s.scalars(select(SettlementMark).where(SettlementMark.key.in_(part)))
        }
        changed = 0
        for key, (status, memo) in marked.marks.items():
            if key not in known:
                continue
            row = current.get(key)
            if row is None:
                if (status, memo) == (SettlementStatus.OPEN, ""):
                    continue
                row = SettlementMark(key=key)
                s.add(row)
            elif (str(row.status), row.note or "") == (status, memo):
                continue
            row.status, row.note, row.changed_by, row.changed_at = SettlementStatus(status), memo or None, by, utcnow()
            changed += 1
    unknown = len(set(marked.marks) - known)
    message = f"窓口精算リスト「{name}」の状態・メモを読み込みました（変更 {changed:,}件）。"
    if unknown:
        message += (
            f"この医療機関の精算にない {unknown:,}件は読み飛ばしました（別の医療機関や henrei reconcile のものです）。"
        )
    result: dict[str, Any] = {
        "settlement_list": {"changed": changed, "unknown": unknown, "warnings": list(marked.warnings)}
    }
    close_handed_back(ctx, upload_id, register_job_id, " ".join([message, *marked.warnings]), result, failed=False)
    log.info("upload %s: settlement list, %d statuses changed, %d unknown keys", upload_id, changed, unknown)
