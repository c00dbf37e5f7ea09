"""Alembic environment: run by ``worker.jobs.database.upgrade`` (which passes its connection).

From the command line (``alembic -c <ini with script_location = worker/jobs/migrations>``) it
connects to ``sqlalchemy.url`` of the ini, or else to ``HENREI_DATABASE_URL``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from worker.config import Settings
from worker.jobs.database import lock_for_migration, make_engine
from worker.jobs.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


connection = config.attributes.get("connection")
if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif connection is not None:
    _run(connection)
else:
    engine = make_engine(_url())
    try:
        with engine.begin() as conn:
            lock_for_migration(conn)
            _run(conn)
    finally:
        engine.dispose()
