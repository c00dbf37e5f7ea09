"""Alembic migrations of the results database; run them with ``worker.jobs.database.upgrade``."""
