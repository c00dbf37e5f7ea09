"""The clinic side: a clinic-month's submission from a run's findings.json.

Every source ends in one findings.json: a CLI run's report folder, a fresh reconcile of
a folder (``henrei survey export --from``), or the worker's current correction list of
the clinic-month (found in the database, ``findings_json_of``). Its ``summary.survey``
counts (``worker.reports.survey_counts``) and ``summary.read`` receipts are all a
submission takes: no finding record, no file name, no text of any input.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Final

import msgspec
from sqlalchemy import select

from worker.files import atomic_file
from worker.jobs import Context, CorrectionList, Job, JobStatus, session_scope
from worker.reports import JSON_NAME
from worker.survey.clinics import SurveyClinic
from worker.survey.schema import (
    SCHEMA,
    Count,
    FullCharge,
    Money,
    Returns,
    Submission,
    SubmissionError,
    decode_envelope,
    encode_envelope,
)

__all__ = [
    "build_submission",
    "findings_json_of",
    "henrei_version",
    "read_submission",
    "submission_from_findings_json",
    "submission_name",
    "write_submission",
]

_FULL_CHARGE: Final = "full_charge_collected"


class _Record(msgspec.Struct):
    """One ``summary.survey`` record of findings.json."""

    month: str
    category: str
    severity: str
    insurance_kind: str
    return_class: str
    findings: int
    overpaid_yen: int
    underpaid_yen: int


class _Read(msgspec.Struct):
    month: str
    receipts: int = 0


class _Summary(msgspec.Struct):
    read: list[_Read] = []
    survey: list[_Record] | None = None


class _FindingsFile(msgspec.Struct):
    summary: _Summary


def henrei_version() -> str:
    try:
        return version("henrei")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def build_submission(
    records: list[_Record], receipts: int, month: str, clinic: SurveyClinic, created_at: datetime
) -> Submission:
    """The submission of ``month`` from the survey records (records of other months are left out)."""
    mine = [r for r in records if r.month == month]
    counts: dict[tuple[str, str, str], list[int]] = {}
    returns = dict.fromkeys(("eligibility", "fusho", "ratio", "other", "unmatched"), 0)
    full_cases = full_yen = over = under = 0
    for r in mine:
        acc = counts.setdefault((r.category, r.severity, r.insurance_kind), [0, 0, 0])
        acc[0] += r.findings
        acc[1] += r.overpaid_yen
        acc[2] += r.underpaid_yen
        over += r.overpaid_yen
        under += r.underpaid_yen
        if r.category == "returned":
            returns[r.return_class if r.return_class in returns else "other"] += r.findings
        elif r.category == "return_unmatched":
            returns["unmatched"] += r.findings
        elif r.category == _FULL_CHARGE:
            full_cases += r.findings
            full_yen += r.overpaid_yen
    return Submission(
        schema=SCHEMA,
        clinic=clinic.association_id,
        prefecture=clinic.prefecture,
        clinic_type=clinic.clinic_type,
        month=month,
        henrei_version=henrei_version(),
        created_at=created_at,
        receipts=receipts,
        counts=[Count(c, s, k, n, o, u) for (c, s, k), (n, o, u) in sorted(counts.items())],  # type: ignore[arg-type]
        returns=Returns(**returns),
        full_charge=FullCharge(cases=full_cases, refund_yen=full_yen),
        money=Money(overpaid_yen=over, underpaid_yen=under),
    )


def submission_from_findings_json(
    path: Path, month: str, clinic: SurveyClinic, created_at: datetime | None = None
) -> Submission:
    """The submission of ``month`` from a findings.json (or a report folder holding one)."""
    path = path / JSON_NAME if path.is_dir() else path
    try:
        data = path.read_bytes()
    except OSError:
        raise SubmissionError(f"{path} を読めません") from None
    try:
        summary = msgspec.json.decode(data, type=_FindingsFile).summary
    except (msgspec.ValidationError, msgspec.DecodeError):
        raise SubmissionError(f"{path} は henrei の findings.json ではありません") from None
    if summary.survey is None:
        raise SubmissionError(
            f"{path} には調査用の集計がありません（古い版の henrei で作られました）。もう一度照合してください"
        )
    read = {r.month: r.receipts for r in summary.read}
    if not read.get(month):
        months = "、".join(m for m, n in sorted(read.items()) if n) or "なし"
        raise SubmissionError(f"{path} に {month} 診療分のレセプトがありません（レセプトのある月: {months}）")
    return build_submission(summary.survey, read[month], month, clinic, created_at or datetime.now(UTC))


def findings_json_of(ctx: Context, clinic_id: str, month: str) -> Path:
    """The findings.json of the clinic-month's current correction list (the worker's last
    finished reconcile of that month), from the database."""
    with session_scope(ctx.engine) as s:
        row = s.execute(
            select(CorrectionList.json_path)
            .join(Job, Job.id == CorrectionList.job_id)
            .where(
                CorrectionList.clinic_id == clinic_id,
                CorrectionList.claim_month == month,
                Job.status == JobStatus.DONE,
            )
            .order_by(CorrectionList.id.desc())
            .limit(1)
        ).first()
    if row is None:
        raise SubmissionError(f"医療機関 {clinic_id} の {month} 診療分の照合結果がまだありません")
    return ctx.data_dir / row[0]


def submission_name(submission: Submission) -> str:
    return f"henrei-survey-{submission.clinic}-{submission.month}.json"


def write_submission(submission: Submission, out_dir: Path) -> Path:
    """Write the submission file into ``out_dir`` (atomically; the schema checked on the way)."""
    data = encode_envelope(submission)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / submission_name(submission)
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)
    return path


def read_submission(path: Path) -> Submission:
    """A submission file read strictly (:class:`SubmissionError` says why it is refused)."""
    try:
        data = path.read_bytes()
    except OSError:
        raise SubmissionError("ファイルを読めません") from None
    return decode_envelope(data).submission
