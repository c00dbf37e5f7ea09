"""The worker's survey jobs (IDs only in messages; ``tasks/survey_*.py`` wrap these).

- export: job kind ``survey_export`` of a clinic-month writes the submission of the
  clinic's current correction list to ``<data>/survey/outbox/<clinic>/`` (the clinic must
  have opted in: otherwise the job fails with the reason). henrei sends it nowhere.
- automatic export (``HENREI_SURVEY_AUTO_EXPORT=on``): ``auto_export`` after a month's
  reconcile job (the reconcile and part tasks, and the page's in-process runner, call it)
  queues the month's export for a clinic that opted in — once per finished run.
- aggregate: job kind ``survey_aggregate`` reads every submission in
  ``<data>/survey/inbox/`` (where an association's server collects them) and writes the
  report to ``<data>/survey/reports/job-<id>/``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select

from worker.jobs import Context, Enqueue, Job, JobKind, JobStatus, session_scope, utcnow
from worker.jobs.database import locked_job
from worker.survey.aggregate import import_submissions, survey_data
from worker.survey.clinics import survey_clinic
from worker.survey.report import write_survey_report
from worker.survey.schema import SubmissionError
from worker.survey.submission import findings_json_of, submission_from_findings_json, write_submission

__all__ = ["auto_export", "inbox", "queue_survey", "run_survey_aggregate", "run_survey_export"]

log = logging.getLogger(__name__)


def inbox(ctx: Context) -> Path:
    return ctx.data_dir / "survey" / "inbox"


def queue_survey(
    ctx: Context, kind: JobKind, send: Enqueue, clinic_id: str | None = None, month: str | None = None
) -> int:
    """A new survey job (export: of ``clinic_id`` and ``month``), sent by ``send``."""
    with session_scope(ctx.engine) as s:
        job = Job(kind=kind, clinic_id=clinic_id, claim_month=month, status=JobStatus.QUEUED, enqueued_at=utcnow())
        s.add(job)
        s.flush()
        job_id = job.id
    send(job_id)
    return job_id


def auto_export(ctx: Context, job_id: int, send: Enqueue) -> int | None:
    """After reconcile job ``job_id`` (or a part of it) ran: with ``survey_auto_export`` on,
    queue the month's ``survey_export`` when the month is done with a new list and its clinic
    opted in, unless one was queued since it finished. Returns the export's job ID (None: none).

    It never fails the month's run: an error is logged (its type only) and the clerk can
    still write the submission from the month view."""
    if ctx.settings.survey_auto_export != "on":
        return None
    try:
        return _auto_export(ctx, job_id, send)
    except Exception as exc:
        log.error("survey auto export after job %s failed with %s", job_id, type(exc).__name__)
        return None


def _auto_export(ctx: Context, job_id: int, send: Enqueue) -> int | None:
    with session_scope(ctx.engine) as s:
        job = s.get(Job, job_id)
        if job is not None and job.kind == JobKind.PART and job.parent_id is not None:
            job = s.get(Job, job.parent_id)  # the part that combined the month finished its parent
        if job is None or job.kind != JobKind.RECONCILE or job.status != JobStatus.DONE or job.finished_at is None:
            return None
        if (job.result or {}).get("same_as") or not job.clinic_id or not job.claim_month:
            return None  # another run's list, already exported after that run
        clinic_id, month = job.clinic_id, job.claim_month
        queued = s.scalar(
            select(Job.id).where(
                Job.kind == JobKind.SURVEY_EXPORT,
                Job.clinic_id == clinic_id,
                Job.claim_month == month,
                Job.created_at >= job.finished_at,
            )
        )
    if queued is not None:
        return None
    try:
        survey_clinic(ctx.settings, clinic_id)
    except SubmissionError:  # not opted in (or its file unreadable: the button says why)
        return None
    return queue_survey(ctx, JobKind.SURVEY_EXPORT, send, clinic_id, month)


def _finish(ctx: Context, job_id: int, result: dict[str, object], error: str | None = None) -> None:
    with session_scope(ctx.engine) as s:
        job = locked_job(s, job_id)
        job.status = JobStatus.FAILED if error else JobStatus.DONE
        job.error, job.result, job.finished_at = error, result, utcnow()


def run_survey_export(ctx: Context, job_id: int) -> None:
    with session_scope(ctx.engine) as s:
        job = s.get_one(Job, job_id)
        clinic_id, month = job.clinic_id or "", job.claim_month or ""
    try:
        clinic = survey_clinic(ctx.settings, clinic_id)
        submission = submission_from_findings_json(findings_json_of(ctx, clinic_id, month), month, clinic)
    except SubmissionError as exc:  # not opted in, no list yet: the reason, in Japanese
        _finish(ctx, job_id, {}, str(exc))
        return
    path = write_submission(submission, ctx.data_dir / "survey" / "outbox" / clinic_id)
    _finish(ctx, job_id, {"file": str(path.relative_to(ctx.data_dir)), "receipts": submission.receipts})


def run_survey_aggregate(ctx: Context, job_id: int) -> None:
    imported = import_submissions([inbox(ctx)] if inbox(ctx).is_dir() else [])
    if not imported.submissions:
        message = f"集計できる提出ファイルがありません（{inbox(ctx)}）"
        _finish(ctx, job_id, {"rejected": len(imported.rejected)}, message)
        return
    out = ctx.data_dir / "survey" / "reports" / f"job-{job_id}"
    xlsx, js = write_survey_report(survey_data(imported.submissions), imported, out)
    _finish(
        ctx,
        job_id,
        {
            "submissions": len(imported.submissions),
            "rejected": len(imported.rejected),
            "xlsx": str(xlsx.relative_to(ctx.data_dir)),
            "json": str(js.relative_to(ctx.data_dir)),
        },
    )
