"""The results database's tables (SQLAlchemy 2.x) and the named states stored in them.

Statuses and kinds are ``StrEnum``s stored as their text (the CHECK constraints of the
migrations list the same values); a value outside the enum is refused before it reaches
the database.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Final, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates
from sqlalchemy.types import TypeDecorator

from worker.clinic_ids import require_canonical

__all__ = [
    "DEFAULT_FINDING_STATUS",
    "INPUT_UPLOADS",
    "Base",
    "ClerkStatus",
    "CorrectionList",
    "DropFile",
    "Finding",
    "FindingStatus",
    "Job",
    "JobKind",
    "JobStatus",
    "NightlyRun",
    "NightlyStatus",
    "SettlementMark",
    "SettlementStatus",
    "UTCDateTime",
    "Upload",
    "UploadSource",
    "UploadStatus",
    "utcnow",
]


class UploadSource(enum.StrEnum):
    UPLOAD = "upload"  # henrei upload (or the web page)
    DROP = "drop"  # picked up from a clinic's drop folder


class UploadStatus(enum.StrEnum):
    ACCEPTED = "accepted"
    RECONCILED = "reconciled"
    FAILED = "failed"  # could not be read: the clerk's message is on the upload
    MARKED = "marked"  # a list the clerk marked and handed back: its marks were read, not an input


#: the statuses of an upload that is an input of its months' runs
INPUT_UPLOADS: Final = (UploadStatus.ACCEPTED, UploadStatus.RECONCILED)


class JobKind(enum.StrEnum):
    RECONCILE = "reconcile"  # one clinic-month
    NIGHTLY = "nightly"  # a pick-up of the drop folders
    PART = "part"  # one part of a split month
    REGISTER = "register"  # reading one upload
    SURVEY_EXPORT = "survey_export"  # a clinic-month's survey submission (worker.survey)
    SURVEY_AGGREGATE = "survey_aggregate"  # the association's aggregate of the survey inbox


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


#: statuses of a job that has not ended
OPEN: Final = (JobStatus.QUEUED, JobStatus.RUNNING)
#: statuses of a job that has ended
ENDED: Final = (JobStatus.DONE, JobStatus.FAILED)


class NightlyStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ClerkStatus(enum.StrEnum):
    """The clerk's status of a finding; a finding nobody touched is 未対応."""

    OPEN = "未対応"
    IN_PROGRESS = "対応中"
    DONE = "対応済"
    NOT_APPLICABLE = "対象外"


DEFAULT_FINDING_STATUS: Final = ClerkStatus.OPEN


class SettlementStatus(enum.StrEnum):
    """The clerk's status of a claim on 窓口精算リスト.xlsx; one nobody touched is 未精算."""

    OPEN = "未精算"
    REFUNDED = "返金済"
    COLLECTED = "徴収済"


QUEUED_RECONCILE: Final = f"kind = '{JobKind.RECONCILE}' AND status = '{JobStatus.QUEUED}'"

_NAMING: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


E = TypeVar("E", bound=enum.StrEnum)


class EnumText(TypeDecorator[E]):
    """A ``StrEnum`` stored as its text (VARCHAR); read back as the enum member."""

    impl = String(16)
    cache_ok = True

    def __init__(self, enum_type: type[E]) -> None:
        super().__init__()
        self.enum_type = enum_type

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_type(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum_type(value)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it as naive UTC).

    Naive datetimes are refused: they are a bug waiting for a server in another timezone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: use an aware one, e.g. datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: JSON on SQLite, JSONB on PostgreSQL; in-place changes of the dict are tracked
JSONDict = MutableDict.as_mutable(JSON().with_variant(postgresql.JSONB(), "postgresql"))


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)


class ClinicScoped:
    """A row of one clinic: its ``clinic_id`` must be canonical (``worker.clinic_ids``), so
    code that skips the entry points cannot store a second spelling of a clinic."""

    @validates("clinic_id")
    def _canonical_clinic_id(self, _key: str, value: str | None) -> str | None:
        return None if value is None else require_canonical(value)


class Upload(ClinicScoped, Base):
    __tablename__ = "uploads"
    __table_args__ = (
        UniqueConstraint("clinic_id", "sha256"),
        CheckConstraint(_one_of("source", list(UploadSource)), name="source"),
        CheckConstraint(_one_of("status", list(UploadStatus)), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinic_id: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(Text)
    #: relative to the data directory, with "/" separators
    stored_path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    #: "YYYY-MM": the latest month of the upload's rows (claims, online checks)
    claim_month: Mapped[str | None] = mapped_column(String(7), default=None)
    #: "YYYY-MM": the earliest month of its rows (a file may span months)
    first_month: Mapped[str | None] = mapped_column(String(7), default=None)
    #: "YYYY-MM,…": the months of its receipts alone ("" none; NULL not read yet, or read
    #: before they were kept: its months stand in)
    receipt_months: Mapped[str | None] = mapped_column(Text, default=None)
    source: Mapped[UploadSource] = mapped_column(EnumText(UploadSource), default=UploadSource.UPLOAD)
    status: Mapped[UploadStatus] = mapped_column(EnumText(UploadStatus), default=UploadStatus.ACCEPTED)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Job(ClinicScoped, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_one_of("kind", list(JobKind)), name="kind"),
        CheckConstraint(_one_of("status", list(JobStatus)), name="status"),
        Index("ix_jobs_status", "status"),
        Index("ix_jobs_parent_id", "parent_id"),
        Index("ix_jobs_celery_task_id", "celery_task_id"),
        Index("ix_jobs_clinic_id_claim_month", "clinic_id", "claim_month"),
        Index("ix_jobs_upload_id", "upload_id"),
        # at most one queued reconcile job per clinic-month: uploads read at once share it
        Index(
            "uq_jobs_queued_reconcile",
            "clinic_id",
            "claim_month",
            unique=True,
            sqlite_where=text(QUEUED_RECONCILE),
            postgresql_where=text(QUEUED_RECONCILE),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[JobKind] = mapped_column(EnumText(JobKind))
    clinic_id: Mapped[str | None] = mapped_column(String(64), default=None)
    claim_month: Mapped[str | None] = mapped_column(String(7), default=None)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), default=None)
    part_index: Mapped[int | None] = mapped_column(Integer, default=None)
    part_count: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[JobStatus] = mapped_column(EnumText(JobStatus), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lost_workers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONDict, default=None)
    celery_task_id: Mapped[str | None] = mapped_column(String(255), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: the upload a "register" job reads
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"), default=None)
    #: when a message for the job was last sent (the sweeper sends again only after a while)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Finding(ClinicScoped, Base):
    """One finding (CONTRACT §2 fields) of a clinic; ``key`` is :func:`finding_key`."""

    __tablename__ = "findings"
    __table_args__ = (
        Index("ix_findings_clinic_id_claim_month", "clinic_id", "claim_month"),
        Index("ix_findings_category", "category"),
        Index("ix_findings_clinic_id_run_month", "clinic_id", "run_month"),
    )

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    clinic_id: Mapped[str] = mapped_column(String(64))
    #: the finding's own claim month (the row's), "YYYY-MM"
    claim_month: Mapped[str] = mapped_column(String(7))
    #: the claim month of the run that stored it (replace_findings' argument): its re-run replaces it
    run_month: Mapped[str] = mapped_column(String(7))
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"))
    source_file: Mapped[str] = mapped_column(Text)
    sheet: Mapped[str] = mapped_column(Text)
    row: Mapped[int] = mapped_column(Integer)
    patient_id: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(16))
    expected: Mapped[str] = mapped_column(Text)
    actual: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    copay_diff_yen: Mapped[int | None] = mapped_column(BigInteger, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FindingStatus(Base):
    """The clerk's status of a finding; not a foreign key, so it outlives re-runs."""

    __tablename__ = "finding_statuses"
    __table_args__ = (CheckConstraint(_one_of("status", list(ClerkStatus)), name="status"),)

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[ClerkStatus] = mapped_column(EnumText(ClerkStatus))
    changed_by: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text, default=None)


class SettlementMark(Base):
    """The clerk's status of a claim on the settlement list, by the key of the finding the
    line stands for; like ``FindingStatus``, not a foreign key, so it outlives re-runs."""

    __tablename__ = "settlement_statuses"
    __table_args__ = (CheckConstraint(_one_of("status", list(SettlementStatus)), name="status"),)

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[SettlementStatus] = mapped_column(EnumText(SettlementStatus))
    changed_by: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text, default=None)


class CorrectionList(ClinicScoped, Base):
    __tablename__ = "correction_lists"
    __table_args__ = (Index("ix_correction_lists_clinic_id_claim_month", "clinic_id", "claim_month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinic_id: Mapped[str] = mapped_column(String(64))
    claim_month: Mapped[str | None] = mapped_column(String(7))
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"))
    #: relative to the data directory
    xlsx_path: Mapped[str] = mapped_column(Text)
    #: relative to the data directory
    json_path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NightlyRun(Base):
    __tablename__ = "nightly_runs"
    __table_args__ = (
        UniqueConstraint("run_date"),
        CheckConstraint(_one_of("status", list(NightlyStatus)), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_date: Mapped[date] = mapped_column(Date)
    status: Mapped[NightlyStatus] = mapped_column(EnumText(NightlyStatus), default=NightlyStatus.RUNNING)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONDict, default=None)
    #: the Celery task running it: its retry or redelivery resumes the run, another beat's skips
    task_id: Mapped[str | None] = mapped_column(String(255), default=None)


class DropFile(ClinicScoped, Base):
    """A file the nightly scan has seen in a clinic's drop folder."""

    __tablename__ = "drop_files"
    __table_args__ = (UniqueConstraint("clinic_id", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinic_id: Mapped[str] = mapped_column(String(64))
    #: relative to the drop root
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
