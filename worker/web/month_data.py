"""What the month pages show, always of one clinic: its months, its jobs, a month's
counts, money and chart series, its returns and its documents.

Every function takes the session's clinic ID and filters by it: a month, a job or a
document of another clinic is simply not found.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import pandas as pd
from sqlalchemy import case, func, select

from rules import CATEGORY_LABELS_JA, SEVERITY_LABELS_JA
from worker.jobs import CorrectionList, Engine, Finding, FindingStatus, Job, JobKind, JobStatus, Upload, session_scope
from worker.reading import TABLE_LABELS_JA

__all__ = [
    "DOCUMENTS",
    "JobView",
    "MonthSummary",
    "clinic_months",
    "document_path",
    "has_list",
    "marks_after_list",
    "month_returns",
    "month_summary",
    "recent_jobs",
    "upload_jobs",
]

#: the month's documents: URL name -> (file name in the job's reports folder, label)
DOCUMENTS: Final = {
    "corrections": ("corrections.xlsx", "訂正リスト"),
    "inquiry": ("保険者照会票.xlsx", "保険者照会票"),
    "settlement": ("窓口精算リスト.xlsx", "窓口精算リスト"),
}
#: the kinds of table a month needs (returns are optional)
NEEDED_KINDS: Final = ("receipts", "online", "cards")


@dataclass(frozen=True)
class JobView:
    id: int
    kind: str  # 読み込み, 照合
    file: str  # the upload's name (register jobs)
    month: str
    state: str  # 読み込み中, 待機中, 照合中, 完了, 失敗
    done: bool
    failed: bool
    message: str  # tables found, the stored error, findings


def _state(j: Job) -> str:
    if j.status == JobStatus.FAILED:
        return "失敗"
    if j.status == JobStatus.DONE:
        return "完了"
    if j.kind == JobKind.REGISTER:
        return "読み込み中"
    return "照合中" if j.status == JobStatus.RUNNING else "待機中"


def _message(j: Job, upload: Upload | None) -> str:
    if j.status == JobStatus.FAILED:
        return j.error or (upload.error if upload else "") or "失敗しました。"
    r = j.result or {}
    if j.kind == JobKind.REGISTER and j.status == JobStatus.DONE:
        tables = r.get("tables") or {}
        if tables:
            held = "、".join(f"{TABLE_LABELS_JA.get(k, k)} {n:,}行" for k, n in tables.items())
            months = "、".join(r.get("months") or [])
            return f"{held}" + (f"（照合する診療年月: {months}）" if months else "")
        if "marked_list" in r:  # a handed-back correction list: its message is on the upload
            return (upload.error if upload else "") or "記入済みの訂正リストの状態とメモを取り込みました。"
        return "表が見つかりませんでした"
    if j.status == JobStatus.DONE and "findings" in r:
        return f"指摘 {int(r['findings']):,}件"
    return ""


def recent_jobs(engine: Engine, clinic_id: str, limit: int = 30, ids: list[int] | None = None) -> list[JobView]:
    """The clinic's latest register and reconcile jobs (or those of ``ids``), newest first."""
    with session_scope(engine) as s:
        q = (
            select(Job, Upload)
            .outerjoin(Upload, (Upload.id == Job.upload_id) & (Upload.clinic_id == clinic_id))
            .where(Job.clinic_id == clinic_id, Job.kind.in_([JobKind.REGISTER, JobKind.RECONCILE]))
        )
        if ids is not None:
            q = q.where(Job.id.in_(ids))
        rows = s.execute(q.order_by(Job.id.desc()).limit(limit)).all()
        return [
            JobView(
                j.id,
                "読み込み" if j.kind == JobKind.REGISTER else "照合",
                u.original_name if u is not None else "",
                j.claim_month or "",
                _state(j),
                j.status == JobStatus.DONE,
                j.status == JobStatus.FAILED,
                _message(j, u),
            )
            for j, u in rows
        ]


def upload_jobs(engine: Engine, clinic_id: str, register_ids: list[int]) -> list[JobView]:
    """An upload's register jobs and the reconcile jobs they queued (the clinic's only)."""
    with session_scope(engine) as s:
        results = s.scalars(
            select(Job.result).where(Job.clinic_id == clinic_id, Job.id.in_(register_ids), Job.kind == JobKind.REGISTER)
        ).all()
    followed = {int(j) for r in results for j in (r or {}).get("jobs") or []}
    return recent_jobs(engine, clinic_id, limit=100, ids=sorted(set(register_ids) | followed))[::-1]


@dataclass(frozen=True)
class MonthRow:
    month: str
    findings: int
    open: int  # 未対応
    errors: int


def clinic_months(engine: Engine, clinic_id: str) -> list[MonthRow]:
    """The clinic's months with a correction list, newest first, with their counts."""
    with session_scope(engine) as s:
        months = s.scalars(
            select(CorrectionList.claim_month)
            .where(CorrectionList.clinic_id == clinic_id, CorrectionList.claim_month.is_not(None))
            .distinct()
        ).all()
        counts = {
            m: (n, o, e)
            for m, n, o, e in s.execute(
                select(
                    Finding.run_month,
                    func.count(),
                    func.sum(case((FindingStatus.key.is_(None), 1), else_=0)),
                    func.sum(case((Finding.severity == "error", 1), else_=0)),
                )
                .outerjoin(FindingStatus, FindingStatus.key == Finding.key)
                .where(Finding.clinic_id == clinic_id)
                .group_by(Finding.run_month)
            )
        }
    found = sorted((m for m in months if m), reverse=True)
    return [MonthRow(m, *(int(x or 0) for x in counts.get(m, (0, 0, 0)))) for m in found]


def _latest_list(engine: Engine, clinic_id: str, month: str) -> CorrectionList | None:
    with session_scope(engine) as s:
        return s.scalar(
            select(CorrectionList)
            .where(CorrectionList.clinic_id == clinic_id, CorrectionList.claim_month == month)
            .order_by(CorrectionList.id.desc())
            .limit(1)
        )


def has_list(engine: Engine, clinic_id: str, month: str) -> bool:
    """Whether the clinic has a correction list of ``month`` (its pages exist)."""
    return _latest_list(engine, clinic_id, month) is not None


def marks_after_list(engine: Engine, clinic_id: str, month: str) -> int:
    """How many of the month's findings had their status changed after its list was written
    (the downloaded workbook does not show them until the list is made again)."""
    cl = _latest_list(engine, clinic_id, month)
    if cl is None:
        return 0
    with session_scope(engine) as s:
        n = s.scalar(
            select(func.count())
            .select_from(FindingStatus)
            .join(Finding, Finding.key == FindingStatus.key)
            .where(Finding.clinic_id == clinic_id, Finding.run_month == month, FindingStatus.changed_at > cl.created_at)
        )
    return int(n or 0)


@lru_cache(maxsize=32)
def _load_json(path: Path, mtime_ns: int) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def _list_json(data_dir: Path, cl: CorrectionList) -> dict[str, Any]:
    path = data_dir / cl.json_path
    try:
        return _load_json(path, path.stat().st_mtime_ns)
    except (OSError, ValueError):
        return {}


@dataclass
class MonthSummary:
    month: str
    job_id: int
    receipts: int
    total: int
    #: (category, Japanese label, error, warning, info)
    by_category: list[tuple[str, str, int, int, int]]
    by_severity: dict[str, int]
    overpaid_yen: int
    underpaid_yen: int
    returns_total: int | None
    returns_predicted_share: float | None
    #: table kind label -> rows read for the month; the kinds missing (Japanese labels)
    read: dict[str, int]
    missing: list[str]
    warnings: list[str]
    #: findings per month, the 12 months up to this one
    last_months: list[tuple[str, int]] = field(default_factory=list)
    severity_labels: dict[str, str] = field(default_factory=lambda: dict(SEVERITY_LABELS_JA))


def month_summary(engine: Engine, data_dir: Path, clinic_id: str, month: str) -> MonthSummary | None:
    """The month's list in numbers (None: the clinic has no list of that month)."""
    cl = _latest_list(engine, clinic_id, month)
    if cl is None:
        return None
    with session_scope(engine) as s:
        rows = s.execute(
            select(Finding.category, Finding.severity, func.count())
            .where(Finding.clinic_id == clinic_id, Finding.run_month == month)
            .group_by(Finding.category, Finding.severity)
        ).all()
        over, under = s.execute(
            select(
                func.coalesce(func.sum(case((Finding.copay_diff_yen > 0, Finding.copay_diff_yen), else_=0)), 0),
                func.coalesce(func.sum(case((Finding.copay_diff_yen < 0, -Finding.copay_diff_yen), else_=0)), 0),
            ).where(Finding.clinic_id == clinic_id, Finding.run_month == month)
        ).one()
        first = str(pd.Period(month, "M") - 11)
        series = dict(
            s.execute(
                select(Finding.run_month, func.count())
                .where(Finding.clinic_id == clinic_id, Finding.run_month >= first, Finding.run_month <= month)
                .group_by(Finding.run_month)
            ).all()
        )
    counts: dict[str, dict[str, int]] = {}
    for cat, sev, n in rows:
        counts.setdefault(cat, {})[sev] = int(n)
    by_category = [
        (cat, CATEGORY_LABELS_JA.get(cat, cat), c.get("error", 0), c.get("warning", 0), c.get("info", 0))
        for cat in CATEGORY_LABELS_JA
        if (c := counts.get(cat))
    ]
    by_severity = {sev: sum(c.get(sev, 0) for c in counts.values()) for sev in SEVERITY_LABELS_JA}
    summary = _list_json(data_dir, cl).get("summary") or {}
    read_month: dict[str, Any] = next((r for r in summary.get("read") or [] if r.get("month") == month), {})
    read = {TABLE_LABELS_JA[k]: int(read_month.get(k, 0)) for k in TABLE_LABELS_JA}
    missing = [TABLE_LABELS_JA[k] for k in NEEDED_KINDS if not read_month.get(k)]
    ret = summary.get("returns") or {}
    months = [str(pd.Period(month, "M") - i) for i in range(11, -1, -1)]
    return MonthSummary(
        month=month,
        job_id=cl.job_id,
        receipts=int(summary.get("receipts") or 0),
        total=sum(by_severity.values()),
        by_category=by_category,
        by_severity=by_severity,
        overpaid_yen=int(over),
        underpaid_yen=int(under),
        returns_total=int(ret["total"]) if ret else None,
        returns_predicted_share=ret.get("predicted_share") if ret else None,
        read=read,
        missing=missing,
        # the warnings of this month (a list also reads its earlier months: theirs are not shown)
        warnings=[
            str(w.get("message", ""))
            for w in summary.get("warnings") or []
            if not w.get("months") or month in w.get("months")
        ],
        last_months=[(m, int(series.get(m, 0))) for m in months],
    )


def month_returns(engine: Engine, data_dir: Path, clinic_id: str, month: str) -> list[dict[str, Any]] | None:
    """The month's 返戻再請求 rows (the list's findings.json), None when there is no list."""
    cl = _latest_list(engine, clinic_id, month)
    if cl is None:
        return None
    rows = _list_json(data_dir, cl).get("reclaims") or []
    return [r for r in rows if isinstance(r, dict)]


def document_path(engine: Engine, data_dir: Path, clinic_id: str, month: str, doc: str) -> Path | None:
    """The month's document ``doc`` (a key of DOCUMENTS) of the clinic's latest list, or None."""
    if doc not in DOCUMENTS:
        return None
    cl = _latest_list(engine, clinic_id, month)
    if cl is None:
        return None
    root = data_dir.resolve()
    path = ((data_dir / cl.xlsx_path).parent / DOCUMENTS[doc][0]).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path
