"""Where the page's jobs run: the Celery workers, or — with no broker — this process.

Both modes run the same job code (``worker.jobs``: ``queue_register`` → ``run_register`` →
``run_reconcile``, each started through ``start_job`` and failed through ``fail_job``);
in-process, a small thread pool takes the messages a broker would carry, a timer the
delayed ones, and the sweeper runs every ``sweep_every_s`` to pick up work left by a stop.
"""

from __future__ import annotations

import enum
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from worker.config import Settings
from worker.jobs import (
    Context,
    Delivery,
    JobKind,
    TaskName,
    celery_context,
    enqueue,
    fail_job,
    queue_reconcile,
    queue_register,
    run_reconcile,
    run_register,
    start_job,
    sweep,
)
from worker.survey.jobs import auto_export, queue_survey, run_survey_aggregate, run_survey_export

__all__ = ["JobMode", "JobRunner", "broker_answers"]

log = logging.getLogger(__name__)

FAILED_JA = "処理中にエラーが発生したため中止しました（{kind}）。IT担当者（ベンダー）に連絡してください。"


class JobMode(enum.StrEnum):
    CELERY = "celery"
    INPROCESS = "inprocess"


MODE_JA = {
    JobMode.CELERY: "照合サーバー（Celery ワーカー）で処理しています",
    JobMode.INPROCESS: "このパソコンの中で処理しています（ワーカーなし）",
}


def broker_answers(url: str, timeout: float = 1.0) -> bool:
    """Whether the broker at ``url`` accepts a connection now."""
    if not url:
        return False
    from kombu import Connection  # type: ignore[attr-defined]

    try:
        with Connection(url, connect_timeout=timeout) as conn:  # type: ignore[no-untyped-call]
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return True
    except Exception:  # any failure to connect means: no broker
        return False


class JobRunner:
    """Sends an upload's register job to the workers, or runs it here."""

    def __init__(self, settings: Settings) -> None:
        wanted = settings.web_jobs
        if wanted == "auto":
            wanted = JobMode.CELERY if broker_answers(settings.broker_url) else JobMode.INPROCESS
        self.mode = JobMode(wanted)
        self._stop = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        if self.mode == JobMode.CELERY:
            self.ctx = celery_context(settings)
            self._send_register = enqueue(TaskName.REGISTER)
        else:
            self.ctx = Context(settings, enqueue_part=None, enqueue_reconcile_later=self._later)
            self._pool = ThreadPoolExecutor(settings.web_job_threads, thread_name_prefix="henrei-job")
            self._send_register = self._submitter(self._register)
            threading.Thread(target=self._sweeper, name="henrei-sweeper", daemon=True).start()

    @property
    def mode_ja(self) -> str:
        return MODE_JA[self.mode]

    def submit(self, upload_id: int) -> int:
        """Queue the upload's register job; returns its ID."""
        return queue_register(self.ctx, upload_id, self._send_register)

    def rebuild(self, clinic_id: str, month: str) -> int:
        """Queue the clinic-month's reconcile job again (its list then carries the statuses
        set since); returns its ID."""
        send = enqueue(TaskName.RECONCILE) if self.mode == JobMode.CELERY else self._submitter(self._reconcile)
        return queue_reconcile(self.ctx, clinic_id, month, send)

    def survey(self, kind: JobKind, clinic_id: str | None = None, month: str | None = None) -> int:
        """Queue a survey job: a clinic-month's submission (``survey_export``) or the
        association's aggregate of its inbox (``survey_aggregate``); returns its ID."""
        task, run = {
            JobKind.SURVEY_EXPORT: (TaskName.SURVEY_EXPORT, run_survey_export),
            JobKind.SURVEY_AGGREGATE: (TaskName.SURVEY_AGGREGATE, run_survey_aggregate),
        }[kind]
        send = enqueue(task) if self.mode == JobMode.CELERY else self._submitter(run)
        return queue_survey(self.ctx, kind, send, clinic_id, month)

    def close(self) -> None:
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ in-process

    def _register(self, ctx: Context, job_id: int) -> None:
        run_register(ctx, job_id, self._submitter(self._reconcile))

    def _reconcile(self, ctx: Context, job_id: int) -> None:
        """A month's reconcile, then (``survey_auto_export``) its survey submission."""
        run_reconcile(ctx, job_id)
        auto_export(ctx, job_id, self._submitter(run_survey_export))

    def _submitter(self, run: Callable[[Context, int], None]) -> Callable[[int], None]:
        def send(job_id: int) -> None:
            if self._pool is not None and not self._stop.is_set():
                self._pool.submit(self._run, run, job_id)

        return send

    def _later(self, job_id: int, seconds: float) -> None:
        timer = threading.Timer(seconds, self._submitter(self._reconcile), (job_id,))
        timer.daemon = True
        timer.start()

    def _run(self, run: Callable[[Context, int], None], job_id: int) -> None:
        """One message: start the job (the lifecycle's gate), run it, fail it on an error
        (the stored message names only the kind of error, never its text)."""
        delivery = Delivery(f"inprocess-{uuid.uuid4()}", 0)
        try:
            if start_job(self.ctx, job_id, delivery):
                run(self.ctx, job_id)
        except Exception as exc:
            log.error("in-process job %s failed with %s", job_id, type(exc).__name__)
            try:
                fail_job(self.ctx, job_id, FAILED_JA.format(kind=type(exc).__name__), delivery)
            except Exception as again:
                log.error("in-process job %s could not be failed: %s", job_id, type(again).__name__)

    def _sweeper(self) -> None:
        """Every ``sweep_every_s``: send again what a stop of the page left queued."""
        while not self._stop.wait(self.ctx.settings.sweep_every_s):
            try:
                survey = {
                    JobKind.SURVEY_EXPORT: self._submitter(run_survey_export),
                    JobKind.SURVEY_AGGREGATE: self._submitter(run_survey_aggregate),
                }
                sweep(self.ctx, self._send_register, self._submitter(self._reconcile), enqueue_kinds=survey)
            except Exception as exc:
                log.error("in-process sweep failed with %s", type(exc).__name__)
