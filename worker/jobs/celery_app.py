"""The Celery application: Redis broker, no result backend, safe delivery defaults.

Configured from the settings (``worker.config.Settings``; a bad ``HENREI_*`` value stops
the worker with the message naming it). Delivery follows the Airflow defaults for long,
idempotent jobs: ``acks_late`` with requeue when the worker process is lost, prefetch 1,
hard and soft time limits, and a Redis ``visibility_timeout`` above the longest task so an
unacked message is only redelivered when its worker is really gone. Results go to the
database, never to Celery. The tasks are found by module name (``include``): nothing here
imports ``tasks/``.
"""

from __future__ import annotations

from celery import Celery
from celery.schedules import crontab

from worker.config import Settings, SettingsError
from worker.jobs.queue import TaskName

try:
    settings = Settings.from_env()
except SettingsError as exc:  # the worker and beat stop at once, saying which variable is wrong
    raise SystemExit(str(exc)) from None

#: Redis redelivers an unacked message after this (s): above the longest task
VISIBILITY_TIMEOUT = settings.task_time_limit_s + 600

app = Celery(
    "henrei",
    broker=settings.broker_url,
    include=[
        "tasks.uploads",
        "tasks.reconcile",
        "tasks.parts",
        "tasks.nightly",
        "tasks.sweeper",
        "tasks.survey_export",
        "tasks.survey_aggregate",
    ],
)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_time_limit=settings.task_time_limit_s,
    task_soft_time_limit=settings.task_time_limit_s - 60,
    broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
    result_backend=None,
    task_default_queue="henrei",
    timezone="Asia/Tokyo",
    enable_utc=True,
    worker_hijack_root_logger=False,
    # task events for monitoring (Flower): IDs and timings only, the arguments are job IDs
    worker_send_task_events=True,
    task_send_sent_event=True,
    beat_schedule={
        "nightly-0200-jst": {"task": str(TaskName.NIGHTLY), "schedule": crontab(hour=2, minute=0)},
        "sweep": {"task": str(TaskName.SWEEP), "schedule": settings.sweep_every_s},
    },
)
