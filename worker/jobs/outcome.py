"""What a finished clinic-month leaves: its reports folder, its findings and correction
list in the database, and the job's result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from worker.engine import RunInfo, RunResult, RunSummary
from worker.jobs.context import Context
from worker.jobs.database import locked_job, session_scope
from worker.jobs.findings_store import replace_findings
from worker.jobs.marked_lists import stored_statuses
from worker.jobs.models import CorrectionList, Job, JobStatus, Upload, UploadStatus, utcnow
from worker.jobs.month_patients import month_patients, replace_month_patients
from worker.jobs.settlement_marks import stored_settlement
from worker.reports import write_reports

__all__ = ["JobWriter", "job_result", "job_writer", "store_result"]


class JobWriter:
    """Where a job's reports go: ``reports/<clinic>/<month>/job-<id>/`` in the data folder
    (the workbook's page headers and finding keys name the job's clinic and month). It
    keeps the patients of what it wrote (``month_patients``: their names from the run's
    context) for :func:`store_result`."""

    def __init__(self, ctx: Context, job_id: int) -> None:
        with session_scope(ctx.engine) as s:
            job = s.get_one(Job, job_id)
            assert job.clinic_id and job.claim_month
            self.clinic, self.month = job.clinic_id, job.claim_month
        self.ctx, self.out = ctx, ctx.data_dir / "reports" / self.clinic / self.month / f"job-{job_id}"
        self.patients = month_patients(pd.DataFrame(), None)

    def __call__(
        self, findings: pd.DataFrame, summary: RunSummary, reclaims: pd.DataFrame | None, context: pd.DataFrame | None
    ) -> tuple[Path, ...]:
        ctx, clinic, month = self.ctx, self.clinic, self.month
        outputs = write_reports(
            findings, summary, self.out, reclaims=reclaims, context=context, clinic=clinic, claim_month=month,
            statuses=stored_statuses(ctx, clinic, month, findings),  # the clerk's marks (worker.jobs.marked_lists)
            settled=stored_settlement(ctx, clinic, month, findings),  # and on the settlement list (settlement_marks)
        )  # fmt: skip
        self.patients = month_patients(findings, context)
        return outputs


def job_writer(ctx: Context, job_id: int) -> JobWriter:
    """The writer of a job's reports (:class:`JobWriter`)."""
    return JobWriter(ctx, job_id)


def job_result(info: RunInfo, outcome: RunResult, upload_ids: list[int], **extra: Any) -> dict[str, Any]:
    """What a finished reconcile job keeps as its result (besides the findings count)."""
    return {
        "receipts": info.receipts,
        "file_problems": [{"file": p.file, "message": p.message} for p in info.problems],
        "seconds": {k: round(v, 3) for k, v in outcome.timings.items()},
        **extra,
        "uploads": sorted(upload_ids),
    }


def store_result(
    ctx: Context,
    job_id: int,
    outcome: RunResult,
    upload_ids: list[int],
    result: dict[str, Any],
    patients: pd.DataFrame | None = None,
) -> None:
    """Store the month's findings, their patients (``JobWriter.patients``: names for the
    clerk's search) and correction list; the uploads reconciled, the job done.

    ``outcome`` is the month's list (``worker.engine.months.month_of_list``, chosen before
    the reports were written): its findings are stored as they are, under the job's month.
    """
    findings = outcome.findings
    with session_scope(ctx.engine) as s:
        job = locked_job(s, job_id)
        if job.status == JobStatus.DONE:  # a split month combined twice (a part and the sweeper): once is enough
            return
        assert job.clinic_id and job.claim_month
        clinic, month = job.clinic_id, job.claim_month
        stored = replace_findings(s, clinic, month, job_id, findings)
        if patients is not None:
            replace_month_patients(s, clinic, month, patients)
        xlsx, js = outcome.outputs
        s.add(
            CorrectionList(
                clinic_id=clinic,
                claim_month=month,
                job_id=job_id,
                xlsx_path=str(xlsx.relative_to(ctx.data_dir)),
                json_path=str(js.relative_to(ctx.data_dir)),
            )
        )
        for upload_id in upload_ids:
            upload = s.get(Upload, upload_id)
            if upload is not None and upload.status == UploadStatus.ACCEPTED:
                upload.status = UploadStatus.RECONCILED
        job.status, job.finished_at = JobStatus.DONE, utcnow()
        job.result = {"findings": stored, **result}
