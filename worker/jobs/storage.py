"""Durable storage of uploads, jobs and findings (SQLAlchemy 2.x; SQLite or PostgreSQL).

Every function that takes a ``Session`` only stages its changes: the caller's
:func:`session_scope` commits them. Keep sessions short — never hold one open across a
reconciliation run — because on SQLite every transaction takes the write lock at its
start (``BEGIN IMMEDIATE``, see :func:`make_engine`).
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import tempfile
import time
import unicodedata
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import pandas as pd
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Connection,
    Date,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    case,
    create_engine,
    delete,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.mutable import MutableDict
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from rules import FINDING_COLUMNS, SEVERITY_ORDER

__all__ = [
    "DEFAULT_FINDING_STATUS",
    "FINDING_STATUSES",
    "JOB_KINDS",
    "JOB_STATUSES",
    "NIGHTLY_STATUSES",
    "UPLOAD_SOURCES",
    "UPLOAD_STATUSES",
    "Base",
    "CorrectionList",
    "DropFile",
    "Engine",
    "Finding",
    "FindingStatus",
    "Job",
    "NightlyRun",
    "Session",
    "UTCDateTime",
    "Upload",
    "alembic_config",
    "finding_key",
    "findings_frame",
    "lock_for_migration",
    "make_engine",
    "replace_findings",
    "session_scope",
    "set_finding_status",
    "store_upload",
    "upgrade",
    "utcnow",
]

UPLOAD_SOURCES: Final = ("upload", "drop")
UPLOAD_STATUSES: Final = ("accepted", "reconciled", "failed")
JOB_KINDS: Final = ("reconcile", "nightly", "part", "register")
JOB_STATUSES: Final = ("queued", "running", "done", "failed")
QUEUED_RECONCILE: Final = "kind = 'reconcile' AND status = 'queued'"
NIGHTLY_STATUSES: Final = ("running", "done", "failed")
#: the clerk's statuses of a finding; the first is the default of a finding nobody touched
FINDING_STATUSES: Final = ("未対応", "対応中", "対応済", "対象外")
DEFAULT_FINDING_STATUS: Final = FINDING_STATUSES[0]

#: SQLite waits this long for another process's write lock before "database is locked"
SQLITE_BUSY_TIMEOUT_MS: Final = 60_000
#: first key of henrei's PostgreSQL advisory locks ("henr"); the second says what is locked
_LOCK_SPACE: Final = 0x68656E72
_MIGRATION_LOCK: Final = 0
_MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"
_CHUNK: Final = 5_000

_NAMING: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


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
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)


class Upload(Base):
    __tablename__ = "uploads"
    __table_args__ = (
        UniqueConstraint("clinic_id", "sha256"),
        CheckConstraint(_one_of("source", UPLOAD_SOURCES), name="source"),
        CheckConstraint(_one_of("status", UPLOAD_STATUSES), name="status"),
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
    source: Mapped[str] = mapped_column(String(16), default="upload")
    status: Mapped[str] = mapped_column(String(16), default="accepted")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_one_of("kind", JOB_KINDS), name="kind"),
        CheckConstraint(_one_of("status", JOB_STATUSES), name="status"),
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
    kind: Mapped[str] = mapped_column(String(16))
    clinic_id: Mapped[str | None] = mapped_column(String(64), default=None)
    claim_month: Mapped[str | None] = mapped_column(String(7), default=None)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), default=None)
    part_index: Mapped[int | None] = mapped_column(Integer, default=None)
    part_count: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[str] = mapped_column(String(16), default="queued")
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


class Finding(Base):
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
    __table_args__ = (CheckConstraint(_one_of("status", FINDING_STATUSES), name="status"),)

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    changed_by: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text, default=None)


class CorrectionList(Base):
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
        CheckConstraint(_one_of("status", NIGHTLY_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONDict, default=None)
    #: the Celery task running it: its retry or redelivery resumes the run, another beat's skips
    task_id: Mapped[str | None] = mapped_column(String(255), default=None)


class DropFile(Base):
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


_FINDINGS: Final[Table] = Base.metadata.tables["findings"]
_STATUSES: Final[Table] = Base.metadata.tables["finding_statuses"]


# --------------------------------------------------------------------------- engine


def _enable_wal(cur: Any) -> None:
    """Switch a file database to WAL. The switch needs an exclusive lock and SQLite does not
    wait for it (busy_timeout does not apply), so processes starting together retry."""
    for attempt in range(100):
        try:
            if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if attempt == 99:
                raise
            time.sleep(0.05 + 0.01 * attempt)


def make_engine(url: str) -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql+psycopg://...``.

    SQLite: WAL, a busy timeout, foreign keys on, usable from any thread, and every
    transaction begins with ``BEGIN IMMEDIATE`` — writers queue behind each other instead
    of failing with "database is locked" when a read turns into a write, and DDL is
    transactional. PostgreSQL: psycopg 3 (``postgresql://`` is taken to mean it).
    """
    u = make_url(url)
    if u.get_backend_name() == "postgresql":
        if u.get_driver_name() in ("", "psycopg2"):
            u = u.set(drivername="postgresql+psycopg")
        return create_engine(u, pool_pre_ping=True, hide_parameters=True)
    if u.get_backend_name() != "sqlite":
        raise ValueError(f"unsupported database URL {u!r}: use sqlite:/// or postgresql+psycopg://")

    memory = u.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    if memory:
        kwargs["poolclass"] = StaticPool  # one shared connection, or every checkout sees an empty database
    elif u.database:
        Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: an error's text (logged by Celery) never quotes a row's values
    engine = create_engine(u, hide_parameters=True, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy, not sqlite3, says when transactions begin
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if not memory:
                _enable_wal(cur)
                cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA foreign_keys = ON")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the package's migrations, independent of the cwd and of any .ini."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def lock_for_migration(conn: Connection) -> None:
    """Serialise migrations between processes, for the rest of ``conn``'s transaction.

    PostgreSQL: a transaction-level advisory lock. SQLite: the ``BEGIN IMMEDIATE`` of a
    :func:`make_engine` engine already holds the database's write lock; this checks it.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_SPACE}, {_MIGRATION_LOCK})")
    elif conn.dialect.name == "sqlite" and not conn.in_transaction():
        raise RuntimeError("lock_for_migration needs an open transaction")


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest schema; safe to call from many processes at once."""
    with engine.begin() as conn:
        lock_for_migration(conn)
        command.upgrade(alembic_config(conn), "head")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back if it raises.

    Objects stay readable after the block (``expire_on_commit=False``).
    """
    with Session(engine, expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


# --------------------------------------------------------------------------- uploads

_SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,10}$")


def _check_clinic_id(clinic_id: str) -> None:
    bad = not clinic_id or clinic_id.startswith(".") or any(c in clinic_id for c in "/\\\0:") or len(clinic_id) > 64
    if bad:
        raise ValueError(f"clinic_id {clinic_id!r} cannot name a folder")


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_hashing(src: Path, tmp_dir: Path) -> tuple[Path, str, int]:
    """Copy ``src`` to a temporary file in ``tmp_dir`` (fsynced); return it, its sha256 and size."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=tmp_dir)
    tmp = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
            while chunk := inp.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, digest.hexdigest(), size


def store_upload(
    s: Session,
    data_dir: Path,
    clinic_id: str,
    src: Path,
    *,
    source: str = "upload",
    original_name: str | None = None,
) -> tuple[Upload, bool]:
    """Keep a copy of ``src`` under ``data_dir/uploads/<clinic>/<sha[:2]>/<sha><suffix>``.

    Returns ``(upload, created)``: the same content for the same clinic twice is one row
    (``created`` False), also when two processes store it at once. The file is copied once
    (hashing while copying, so the stored bytes are the hashed bytes) and moved into place
    atomically; a missing stored file of an existing row is put back.
    """
    _check_clinic_id(clinic_id)
    if source not in UPLOAD_SOURCES:
        raise ValueError(f"source must be one of {UPLOAD_SOURCES}, not {source!r}")
    data_dir = Path(data_dir)
    src = Path(src)
    name = original_name or src.name
    suffix = Path(name).suffix.lower()
    suffix = suffix if _SAFE_SUFFIX.match(suffix) else ""

    tmp, sha, size = _copy_hashing(src, data_dir / "uploads" / ".tmp")
    try:
        existing = s.scalars(select(Upload).where(Upload.clinic_id == clinic_id, Upload.sha256 == sha)).one_or_none()
        rel = existing.stored_path if existing else f"uploads/{clinic_id}/{sha[:2]}/{sha}{suffix}"
        target = data_dir / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        if existing is not None:
            return existing, False
        upload = Upload(
            clinic_id=clinic_id,
            sha256=sha,
            original_name=name,
            stored_path=rel,
            size=size,
            source=source,
            status="accepted",
            received_at=utcnow(),
        )
        try:
            with s.begin_nested():
                s.add(upload)
        except IntegrityError:  # another process stored the same content first
            winner = s.scalars(select(Upload).where(Upload.clinic_id == clinic_id, Upload.sha256 == sha)).one()
            return winner, False
        return upload, True
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- findings


def finding_key(clinic_id: str, claim_month: str, source_file: str, sheet: str, row: int, rule_id: str) -> str:
    """The stable identity of a finding: sha1 hex of its clinic, month, origin and rule.

    Text is NFC-normalised, so a file name spelled in decomposed form (macOS) keys the same.
    """
    parts = (clinic_id, claim_month, source_file, sheet, str(int(row)), rule_id)
    text = "\x1f".join(unicodedata.normalize("NFC", p) for p in parts)
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _texts(col: pd.Series) -> pd.Series:
    """The column as Python str, missing values as ""."""
    obj = col.astype(object)
    return obj.where(obj.notna(), "").astype(str).astype(object)


def _nfc(col: pd.Series) -> pd.Series:
    return col.map({u: unicodedata.normalize("NFC", u) for u in col.unique()})


def _finding_columns(clinic_id: str, claim_month: str, job_id: int, findings: pd.DataFrame) -> dict[str, list[Any]]:
    """The findings table's columns to store (one list per column), with finding_key(...) computed at once."""
    missing = [c for c in FINDING_COLUMNS if c not in findings.columns]
    if missing:
        raise ValueError(f"findings lacks columns: {', '.join(missing)}")
    if findings.empty:
        return {c.name: [] for c in _FINDINGS.columns}
    df = pd.DataFrame({c: _texts(findings[c]) for c in FINDING_COLUMNS if c not in ("row", "copay_diff_yen")})
    df["claim_month"] = df["claim_month"].where(df["claim_month"] != "", claim_month)
    df["row"] = pd.to_numeric(findings["row"], errors="coerce").fillna(0).round().astype("int64").to_numpy()
    diff = pd.to_numeric(findings["copay_diff_yen"], errors="coerce").round().astype("Int64")

    sep = "\x1f"
    joined = (
        unicodedata.normalize("NFC", clinic_id)
        + sep
        + _nfc(df["claim_month"])
        + sep
        + _nfc(df["source_file"])
        + sep
        + _nfc(df["sheet"])
        + sep
        + df["row"].astype(str)
        + sep
        + _nfc(df["rule_id"])
    )
    keys = [hashlib.sha1(j.encode(), usedforsecurity=False).hexdigest() for j in joined]
    repeat = pd.Series(keys).groupby(keys).cumcount().tolist()
    for i, n in enumerate(repeat):  # the same rule on the same row again: the n-th repeat, in frame order
        if n:
            keys[i] = hashlib.sha1(f"{keys[i]}#{n}".encode(), usedforsecurity=False).hexdigest()

    n = len(df)
    out: dict[str, list[Any]] = {c: df[c].astype(object).tolist() for c in df.columns}
    out.update(
        key=keys,
        clinic_id=[clinic_id] * n,
        run_month=[claim_month] * n,
        job_id=[job_id] * n,
        copay_diff_yen=diff.astype(object).where(diff.notna(), None).tolist(),
        updated_at=[utcnow()] * n,
    )
    return out


def _upsert(s: Session, table: Table, columns: dict[str, list[Any]], index: str) -> None:
    """INSERT ... ON CONFLICT (index) DO UPDATE of every column, for many rows at once.

    ``columns`` gives every column of ``table`` as a list (one value a row). Bypassing the
    ORM and SQLAlchemy's per-row parameter handling keeps 100k rows to seconds: SQLite gets
    a positional executemany, PostgreSQL an ``INSERT ... SELECT FROM unnest(arrays)`` per
    chunk.
    """
    conn = s.connection()
    dialect = conn.dialect
    names = [c.name for c in table.columns]
    if set(columns) != set(names):
        raise ValueError(f"{table.name}: columns {sorted(set(columns) ^ set(names))} missing or unknown")
    values = []
    for c in table.columns:  # the types' own conversions (e.g. UTCDateTime), once per value
        proc = c.type.bind_processor(dialect)
        values.append([proc(v) for v in columns[c.name]] if proc else columns[c.name])
    q = dialect.identifier_preparer.quote
    into = f"INSERT INTO {q(table.name)} ({', '.join(q(n) for n in names)})"
    sets = ", ".join(f"{q(n)} = excluded.{q(n)}" for n in names if n != index)
    conflict = f"ON CONFLICT ({q(index)}) DO UPDATE SET {sets}"
    total = len(values[0])
    if dialect.name == "sqlite":
        sql = f"{into} VALUES ({', '.join('?' * len(names))}) {conflict}"
        for i in range(0, total, _CHUNK):
            conn.exec_driver_sql(sql, list(zip(*(v[i : i + _CHUNK] for v in values), strict=True)))
    elif dialect.name == "postgresql":
        arrays = ", ".join(f"%(p{j})b::{c.type.compile(dialect)}[]" for j, c in enumerate(table.columns))
        sql = f"{into} SELECT * FROM unnest({arrays}) {conflict}"
        for i in range(0, total, _CHUNK):
            conn.exec_driver_sql(sql, {f"p{j}": v[i : i + _CHUNK] for j, v in enumerate(values)})
    else:
        raise NotImplementedError(f"upsert on {dialect.name}")


def lock_month_jobs(s: Session, clinic_id: str, claim_month: str) -> None:
    """Serialise the start decisions of a clinic-month's jobs until the transaction ends
    (PostgreSQL: an advisory lock; SQLite: ``BEGIN IMMEDIATE`` already holds the write lock)."""
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        lock = zlib.crc32(f"henrei.jobs\x1f{clinic_id}\x1f{claim_month}".encode())
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_SPACE}, {lock - (1 << 31)})")


def replace_findings(s: Session, clinic_id: str, claim_month: str, job_id: int, findings: pd.DataFrame) -> int:
    """Store a run's findings for ``clinic_id`` and ``claim_month``; return how many.

    Each row keeps its own ``claim_month`` (the argument when empty). The findings the
    previous run of this clinic and month stored whose key is not in the new set are
    deleted, the rest are updated in place and the new ones inserted — a re-run replaces,
    never duplicates, and the clerk's statuses (keyed alike) carry over. A repeat of the
    same rule on the same row gets a key of its own (derived from the first, by order).
    """
    s.flush()
    columns = _finding_columns(clinic_id, claim_month, job_id, findings)
    conn = s.connection()
    if conn.dialect.name == "postgresql":  # one replacement of a clinic's month at a time (SQLite: BEGIN IMMEDIATE)
        lock = zlib.crc32(f"henrei.findings\x1f{clinic_id}\x1f{claim_month}".encode())
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_SPACE}, {lock - (1 << 31)})")
    new_keys = set(columns["key"])
    old_keys = set(
        s.scalars(select(Finding.key).where(Finding.clinic_id == clinic_id, Finding.run_month == claim_month))
    )
    stale = sorted(old_keys - new_keys)
    for i in range(0, len(stale), 500):
        s.execute(delete(_FINDINGS).where(_FINDINGS.c.key.in_(stale[i : i + 500])))
    _upsert(s, _FINDINGS, columns, "key")
    _expire(s, Finding)
    return len(columns["key"])


def _expire(s: Session, cls: type[Base]) -> None:
    """Forget loaded ``cls`` objects, which a bulk statement may have changed."""
    for obj in list(s.identity_map.values()):
        if isinstance(obj, cls):
            s.expire(obj)


def set_finding_status(s: Session, key: str, status: str, changed_by: str, note: str | None = None) -> None:
    """Record the clerk's status of a finding (one of FINDING_STATUSES); the last change wins."""
    if status not in FINDING_STATUSES:
        raise ValueError(f"status must be one of {', '.join(FINDING_STATUSES)}, not {status!r}")
    if not changed_by:
        raise ValueError("changed_by is required")
    s.flush()
    row: dict[str, list[Any]] = {
        "key": [key],
        "status": [status],
        "changed_by": [changed_by],
        "changed_at": [utcnow()],
        "note": [note],
    }
    _upsert(s, _STATUSES, row, "key")
    _expire(s, FindingStatus)


def findings_frame(s: Session, clinic_id: str, claim_month: str) -> pd.DataFrame:
    """The clinic's findings of ``claim_month``: FINDING_COLUMNS, ``key`` and the clerk's ``status``.

    Ordered errors first (then warnings, info), then source_file, sheet, row.
    """
    sev = case({k: v for k, v in SEVERITY_ORDER.items()}, value=Finding.severity, else_=len(SEVERITY_ORDER))
    cols = [getattr(Finding, c) for c in FINDING_COLUMNS]
    stmt = (
        select(*cols, Finding.key, func.coalesce(FindingStatus.status, DEFAULT_FINDING_STATUS).label("status"))
        .outerjoin(FindingStatus, FindingStatus.key == Finding.key)
        .where(Finding.clinic_id == clinic_id, Finding.claim_month == claim_month)
        .order_by(sev, Finding.source_file, Finding.sheet, Finding.row, Finding.category, Finding.rule_id, Finding.key)
    )
    result = s.execute(stmt)
    names = [*FINDING_COLUMNS, "key", "status"]
    data = [tuple(r) for r in result]
    frame = pd.DataFrame.from_records(data, columns=names)
    for c in names:
        if c == "row":
            frame[c] = frame[c].astype("int64")
        elif c == "copay_diff_yen":
            frame[c] = frame[c].astype("Int64")
        else:
            frame[c] = frame[c].astype("object")
    return frame
