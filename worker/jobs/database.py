"""The results database: engines for SQLite and PostgreSQL, migrations, sessions, locks.

Every function that takes a ``Session`` only stages its changes: the caller's
:func:`session_scope` commits them. Keep sessions short — never hold one open across a
reconciliation run — because on SQLite every transaction takes the write lock at its
start (``BEGIN IMMEDIATE``, see :func:`make_engine`).
"""

from __future__ import annotations

import sqlite3
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from worker.jobs.models import Job

__all__ = [
    "Engine",
    "Session",
    "advisory_lock",
    "alembic_config",
    "lock_for_migration",
    "lock_month_jobs",
    "locked_job",
    "make_engine",
    "session_scope",
    "upgrade",
]

#: SQLite waits this long for another process's write lock before "database is locked"
SQLITE_BUSY_TIMEOUT_MS: Final = 60_000
#: first key of henrei's PostgreSQL advisory locks ("henr"); the second says what is locked
_LOCK_SPACE: Final = 0x68656E72
_MIGRATION_LOCK: Final = 0
_MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"


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


def advisory_lock(s: Session, *names: str) -> None:
    """Serialise what ``names`` name until the transaction ends (PostgreSQL: an advisory
    lock; SQLite: ``BEGIN IMMEDIATE`` already holds the database's write lock)."""
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        lock = zlib.crc32("\x1f".join(names).encode())
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_SPACE}, {lock - (1 << 31)})")


def lock_month_jobs(s: Session, clinic_id: str, claim_month: str) -> None:
    """Serialise the start decisions of a clinic-month's jobs until the transaction ends."""
    advisory_lock(s, "henrei.jobs", clinic_id, claim_month)


def locked_job(s: Session, job_id: int) -> Job:
    """The job's row, locked for the rest of the transaction (PostgreSQL: FOR UPDATE;
    SQLite's BEGIN IMMEDIATE already holds the database's write lock)."""
    return s.execute(
        select(Job).where(Job.id == job_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
