"""Celery tasks of henrei: thin, explicitly named, taking IDs (see the worker issue).

The domain code (rules/) and the application (worker/) never import this package.
"""

__all__: list[str] = []  # Celery finds the task modules by name (worker.jobs.celery_app)
