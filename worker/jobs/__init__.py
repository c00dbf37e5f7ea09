"""The worker's jobs: uploads, the job lifecycle, queueing, reconcile, parts, drop folder,
sweeper and status queries, over the results database (SQLAlchemy + Alembic).

Everything here takes IDs, works against the database and the data folder, and is safe
to run twice: uploads are content-addressed, findings are keyed deterministically and
replaced per clinic-month, a nightly run is unique per date. The Celery tasks (``tasks/``)
are thin wrappers over these functions; messages are sent by task name (``queue``).
"""

from worker.jobs.accounts import AuditEvent, Clinic, Role, User
from worker.jobs.context import Context, Enqueue, EnqueueLater, dispose_engines
from worker.jobs.database import Engine, Session, make_engine, session_scope, upgrade
from worker.jobs.drop_folder import nightly, queue_pickup, run_pickup, scan_drop_folders
from worker.jobs.findings_store import finding_key, findings_frame, replace_findings, set_finding_status
from worker.jobs.heartbeat import heartbeat
from worker.jobs.lifecycle import MAX_LOST_WORKERS, Delivery, fail_job, start_job
from worker.jobs.models import (
    ClerkStatus,
    CorrectionList,
    DropFile,
    Finding,
    FindingStatus,
    Job,
    JobKind,
    JobStatus,
    NightlyRun,
    NightlyStatus,
    SettlementMark,
    Upload,
    UploadSource,
    UploadStatus,
    utcnow,
)
from worker.jobs.month_patients import MonthPatient, replace_month_patients
from worker.jobs.queue import TaskName, celery_context, enqueue, enqueue_later, queue_reconcile, queued_reconcile
from worker.jobs.reconcile import run_reconcile
from worker.jobs.register import accept_upload, queue_register, register_upload, run_register
from worker.jobs.status import StatusReport, UnknownJobError, status_report
from worker.jobs.sweeper import remove_leftovers, sweep
from worker.jobs.upload_store import store_upload

__all__ = [
    "MAX_LOST_WORKERS",
    "AuditEvent",
    "ClerkStatus",
    "Clinic",
    "Context",
    "CorrectionList",
    "Delivery",
    "DropFile",
    "Engine",
    "Enqueue",
    "EnqueueLater",
    "Finding",
    "FindingStatus",
    "Job",
    "JobKind",
    "JobStatus",
    "MonthPatient",
    "NightlyRun",
    "NightlyStatus",
    "Role",
    "Session",
    "SettlementMark",
    "StatusReport",
    "TaskName",
    "UnknownJobError",
    "Upload",
    "UploadSource",
    "UploadStatus",
    "User",
    "accept_upload",
    "celery_app",  # the Celery application (a module, imported where a worker or a sender needs it)
    "celery_context",
    "dispose_engines",
    "enqueue",
    "enqueue_later",
    "fail_job",
    "finding_key",
    "findings_frame",
    "heartbeat",
    "make_engine",
    "nightly",
    "queue_pickup",
    "queue_reconcile",
    "queue_register",
    "queued_reconcile",
    "register_upload",
    "remove_leftovers",
    "replace_findings",
    "replace_month_patients",
    "run_pickup",
    "run_reconcile",
    "run_register",
    "scan_drop_folders",
    "session_scope",
    "set_finding_status",
    "start_job",
    "status_report",
    "store_upload",
    "sweep",
    "upgrade",
    "utcnow",
]
