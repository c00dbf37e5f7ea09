"""Celery tasks of henrei: thin, explicitly named, taking IDs (see the worker issue).

The domain code (rules/) and the application (worker/) never import this package.
"""
