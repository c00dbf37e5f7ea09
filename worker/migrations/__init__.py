"""Alembic migrations of the results database; run them with ``worker.storage.upgrade``."""
