"""Status queries: a clinic's jobs, a job and the jobs it led to, the last nightly runs —
as plain rows with the clerk's wording, for the CLI (and later the web page)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import or_, select

from worker.jobs.context import Context
from worker.jobs.database import Session, session_scope
from worker.jobs.models import CorrectionList, Job, JobKind, JobStatus, NightlyRun

__all__ = ["JobRow", "NightlyRow", "StatusReport", "UnknownJobError", "status_report"]

#: a job's or a nightly run's status (``JobStatus``, ``NightlyStatus``: the same words)
STATUS_JA: dict[str, str] = {
    JobStatus.QUEUED: "待機中",
    JobStatus.RUNNING: "実行中",
    JobStatus.DONE: "完了",
    JobStatus.FAILED: "失敗",
}
KIND_JA = {
    JobKind.REGISTER: "読み込み",
    JobKind.RECONCILE: "照合",
    JobKind.PART: "照合（分割）",
    JobKind.NIGHTLY: "夜間",
    JobKind.SURVEY_EXPORT: "調査の提出ファイル",
    JobKind.SURVEY_AGGREGATE: "調査の集計",
}


class UnknownJobError(LookupError):
    """No job has the ID asked for."""


@dataclass(frozen=True)
class JobRow:
    id: int
    kind: str  # Japanese
    clinic_id: str
    claim_month: str
    status: str  # Japanese
    attempts: int
    outcome: str  # Japanese: the result or the error


@dataclass(frozen=True)
class NightlyRow:
    run_date: str
    status: str  # Japanese
    uploads: int
    problems: int


@dataclass(frozen=True)
class StatusReport:
    jobs: list[JobRow]
    #: (claim month, path of corrections.xlsx) of the jobs followed
    correction_lists: list[tuple[str, Path]]
    nightly_runs: list[NightlyRow]


def status_report(ctx: Context, *, clinic: str | None = None, job: int | None = None, limit: int = 30) -> StatusReport:
    """The last ``limit`` jobs (of ``clinic``), or job ``job`` with the jobs it queued and
    the jobs those queued (a pick-up job → its register jobs → their reconcile jobs), their
    parts and correction lists; the last nightly runs. Raises UnknownJobError."""
    with session_scope(ctx.engine) as s:
        q = select(Job).order_by(Job.id.desc()).limit(limit)
        if clinic:
            q = q.where(Job.clinic_id == clinic)
        lists: list[tuple[str, Path]] = []
        if job is not None:
            root = s.get(Job, job)
            if root is None:
                raise UnknownJobError(job)
            follow = _followed(s, root)
            q = select(Job).where(or_(Job.id.in_(follow), Job.parent_id.in_(follow))).order_by(Job.id)
            lists = [
                (c.claim_month or "", ctx.data_dir / c.xlsx_path)
                for c in s.scalars(select(CorrectionList).where(CorrectionList.job_id.in_(follow)))
            ]
        rows = [_job_row(j) for j in s.scalars(q)]
        runs = [_nightly_row(r) for r in s.scalars(select(NightlyRun).order_by(NightlyRun.run_date.desc()).limit(3))]
    return StatusReport(rows, lists, runs)


def _followed(s: Session, root: Job, depth: int = 2) -> list[int]:
    """The job and the jobs its result lists (``"jobs"``), ``depth`` levels down."""
    seen, level = [root.id], [root]
    for _ in range(depth):
        ids = [int(j) for job in level for j in (job.result or {}).get("jobs") or [] if int(j) not in seen]
        if not ids:
            break
        seen += list(dict.fromkeys(ids))
        level = list(s.scalars(select(Job).where(Job.id.in_(ids))))
    return seen


def _job_row(j: Job) -> JobRow:
    kind, status = KIND_JA.get(j.kind, j.kind), STATUS_JA.get(j.status, j.status)
    return JobRow(j.id, kind, j.clinic_id or "", j.claim_month or "", status, j.attempts, job_outcome(j))


def _nightly_row(r: NightlyRun) -> NightlyRow:
    report = r.report or {}
    status = STATUS_JA.get(r.status, r.status)
    return NightlyRow(str(r.run_date), status, len(report.get("uploads") or []), len(report.get("problems") or []))


def job_outcome(j: Job) -> str:
    """The job's result or error in the clerk's words (one line)."""
    if j.error:
        return j.error[:80]
    r = j.result or {}
    if "same_as" in r:
        return f"ジョブ {r['same_as']} と同じ入力のため省略"
    if j.kind == JobKind.NIGHTLY and "uploads" in r:
        waiting = f"、書き込み中のため次回 {len(r['waiting'])}件" if r.get("waiting") else ""
        problems = f"、問題 {len(r['problems'])}件" if r.get("problems") else ""
        return f"新しいファイル {len(r['uploads'])}件{waiting}{problems}"
    if j.kind == JobKind.REGISTER and "months" in r:
        held: list[str] = r.get("returns_waiting") or []
        later = f"返戻（{', '.join(held)} 診療分）はその月以降のレセプトが届くと照合します" if held else ""
        if not r.get("jobs"):
            return later or "診療年月なし（券面の記録など: 次の照合で使われます）"
        queued = f"診療年月 {', '.join(r['months'])} → ジョブ {', '.join(map(str, r['jobs']))}"
        return f"{queued}。{later}" if later else queued
    if "findings" in r:
        return f"指摘 {r['findings']}件" + (f"（レセプト {r['receipts']:,}件）" if "receipts" in r else "")
    return ""
