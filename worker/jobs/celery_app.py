"""The Celery application: Redis broker, no result backend, safe delivery defaults.

Configured from the environment (``worker.config.Settings``). Delivery follows the
Airflow defaults for long, idempotent jobs: ``acks_late`` with requeue when the worker
process is lost, prefetch 1, hard and soft time limits, and a Redis
``visibility_timeout`` above the longest task so an unacked message is only redelivered
when its worker is really gone. Results go to the database, never to Celery.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

from worker.config import Settings

#: hard limit of one task (s); a reconcile of a hospital month fits well inside
TASK_TIME_LIMIT = int(os.environ.get("HENREI_TASK_TIME_LIMIT_S", "3600"))
#: Redis redelivers an unacked message after this (s): above the longest task
VISIBILITY_TIMEOUT = TASK_TIME_LIMIT + 600
#: how often the sweeper looks for lost work (s)
SWEEP_EVERY_S = float(os.environ.get("HENREI_SWEEP_EVERY_S", "60"))

settings = Settings.from_env()

app = Celery(
    "henrei",
    broker=settings.broker_url,
    include=["tasks.uploads", "tasks.reconcile", "tasks.parts", "tasks.nightly", "tasks.sweeper"],
)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_time_limit=TASK_TIME_LIMIT,
    task_soft_time_limit=TASK_TIME_LIMIT - 60,
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
        "nightly-0200-jst": {"task": "henrei.nightly", "schedule": crontab(hour=2, minute=0)},
        "sweep": {"task": "henrei.sweep", "schedule": SWEEP_EVERY_S},
    },
)
