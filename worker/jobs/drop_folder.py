"""The drop folders: the nightly run (02:00 JST) and a pick-up now take new or changed
files from each clinic's folder (``Settings.drop_root``/<clinic>/…) and register them."""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from worker.clinic_ids import ClinicIdError, canonical_clinic_id
from worker.jobs.context import Context, Enqueue
from worker.jobs.database import session_scope
from worker.jobs.models import (
    DropFile,
    Job,
    JobKind,
    JobStatus,
    NightlyRun,
    NightlyStatus,
    Upload,
    UploadSource,
    utcnow,
)
from worker.jobs.register import accept_upload, queue_register
from worker.reading import SUFFIXES
from worker.terminal import safe_name

__all__ = ["clinic_folders", "nightly", "queue_pickup", "run_pickup", "scan_drop_folders"]

log = logging.getLogger(__name__)

JST: Final = ZoneInfo("Asia/Tokyo")


def nightly(
    ctx: Context, enqueue_register: Enqueue, today: date | None = None, task_id: str | None = None
) -> int | None:
    """The 02:00 run: pick up new or changed files from each clinic's drop folder.

    Returns the nightly run ID, or None when another beat already ran tonight. The same
    task again (Celery's retry after an error, or its message back after a lost worker)
    resumes tonight's unfinished run: the scan is safe to repeat.
    """
    run_date = today or datetime.now(JST).date()
    try:
        with session_scope(ctx.engine) as s:
            run = NightlyRun(run_date=run_date, status=NightlyStatus.RUNNING, task_id=task_id)
            s.add(run)
            s.flush()
            run_id = run.id
    except IntegrityError:
        with session_scope(ctx.engine) as s:
            run = s.scalars(select(NightlyRun).where(NightlyRun.run_date == run_date)).one()
            resume = task_id is not None and run.task_id == task_id and run.status == NightlyStatus.RUNNING
            run_id = run.id
        if not resume:
            log.info("nightly run for %s already exists; skipping", run_date)
            return None
        log.info("nightly run %s resumed by its task", run_id)
    report = scan_drop_folders(ctx, enqueue_register)
    with session_scope(ctx.engine) as s:
        done = s.get(NightlyRun, run_id)
        assert done is not None
        done.status, done.finished_at = NightlyStatus.DONE, utcnow()
        done.report = report
    return run_id


def queue_pickup(ctx: Context, enqueue: Enqueue) -> int:
    """A job picking up the drop folders now (``henrei nightly``), besides the 02:00 run."""
    with session_scope(ctx.engine) as s:
        job = Job(kind=JobKind.NIGHTLY, status=JobStatus.QUEUED, enqueued_at=utcnow())
        s.add(job)
        s.flush()
        job_id = job.id
    enqueue(job_id)
    return job_id


def run_pickup(ctx: Context, job_id: int, enqueue_register: Enqueue) -> None:
    """The pick-up job: scan the drop folders; its result lists the register jobs queued."""
    report = scan_drop_folders(ctx, enqueue_register)
    with session_scope(ctx.engine) as s:
        job = s.get(Job, job_id)
        assert job is not None
        job.status, job.finished_at, job.result = JobStatus.DONE, utcnow(), report


def scan_drop_folders(ctx: Context, enqueue_register: Enqueue) -> dict[str, Any]:
    """Upload new or changed files of every clinic's drop folder and queue their reading.

    Returns the run's report: uploads accepted, their register jobs, files left for the
    next run (still being written) and problems (a file that cannot be taken, in Japanese).
    """
    drop_root = ctx.settings.drop_root
    accepted: list[int] = []
    jobs: list[int] = []
    waiting: list[str] = []
    problems: list[str] = []
    now = time.time()
    folders, refused = clinic_folders(drop_root)
    problems.extend(refused)
    for clinic, clinic_dir in folders:
        for f in sorted(clinic_dir.rglob("*")):
            if not f.is_file() or f.suffix.lower() not in SUFFIXES or f.name.startswith(("~$", ".")):
                continue
            where = safe_name(f"{clinic_dir.name}/{f.relative_to(clinic_dir)}")
            try:
                if now - f.stat().st_mtime < ctx.settings.drop_settle_s:
                    waiting.append(where)
                    continue
                if _seen_unchanged(ctx, clinic, drop_root, f):
                    continue
                upload_id, created = accept_upload(ctx, clinic, f, source=UploadSource.DROP)
                _remember(ctx, clinic, drop_root, f, upload_id)
            except OSError as exc:
                problems.append(f"{where}: ファイルを読めません（{exc.strerror or exc.__class__.__name__}）")
                continue
            if created:
                accepted.append(upload_id)
                jobs.append(queue_register(ctx, upload_id, enqueue_register))
    if waiting:
        log.info("%d drop file(s) still being written; left for the next run", len(waiting))
    return {"uploads": accepted, "jobs": jobs, "waiting": waiting, "problems": problems}


def clinic_folders(drop_root: Path) -> tuple[list[tuple[str, Path]], list[str]]:
    """The drop folders as (canonical clinic ID, folder), and problems (Japanese) for the
    folders refused: a name that is no clinic ID, or several folders naming one clinic
    (``C001`` and ``c001``, or ``ガ`` written composed and decomposed) — their files are
    not merged into one clinic in silence; the folders are left until renamed."""
    if not drop_root.exists():
        return [], []
    by_clinic: dict[str, list[Path]] = {}
    problems: list[str] = []
    for d in sorted(p for p in drop_root.iterdir() if p.is_dir()):
        try:
            by_clinic.setdefault(canonical_clinic_id(d.name), []).append(d)
        except ClinicIdError as exc:
            problems.append(f"{safe_name(d.name)}: フォルダ名を医療機関IDに使えません（{exc}）")
    folders: list[tuple[str, Path]] = []
    for clinic, dirs in sorted(by_clinic.items()):
        if len(dirs) == 1:
            folders.append((clinic, dirs[0]))
            continue
        names = "、".join(f"「{safe_name(d.name)}」" for d in dirs)
        problems.append(
            f"{names}: 同じ医療機関ID「{clinic}」を表すフォルダが複数あります。取り込まずに残しました。"
            "1つのフォルダにまとめてください。"
        )
    return folders, problems


def _rel(f: Path, root: Path) -> str:
    """The drop file's path as stored: undecodable bytes of its name escaped (``\\xNN``)."""
    return safe_name(f.relative_to(root))


def _seen_unchanged(ctx: Context, clinic: str, root: Path, f: Path) -> bool:
    stat = f.stat()
    rel = _rel(f, root)
    with session_scope(ctx.engine) as s:
        seen = s.scalar(select(DropFile).where(DropFile.clinic_id == clinic, DropFile.path == rel))
        return seen is not None and seen.size == stat.st_size and seen.mtime_ns == stat.st_mtime_ns


def _remember(ctx: Context, clinic: str, root: Path, f: Path, upload_id: int) -> None:
    try:
        _remember_once(ctx, clinic, root, f, upload_id)
    except IntegrityError:  # another scan remembered it at the same moment: update that row
        _remember_once(ctx, clinic, root, f, upload_id)


def _remember_once(ctx: Context, clinic: str, root: Path, f: Path, upload_id: int) -> None:
    stat = f.stat()
    rel = _rel(f, root)
    with session_scope(ctx.engine) as s:
        upload = s.get(Upload, upload_id)
        assert upload is not None
        seen = s.scalar(select(DropFile).where(DropFile.clinic_id == clinic, DropFile.path == rel))
        if seen is None:
            seen = DropFile(clinic_id=clinic, path=rel, size=0, mtime_ns=0, sha256="")
            s.add(seen)
        seen.size, seen.mtime_ns, seen.sha256, seen.seen_at = stat.st_size, stat.st_mtime_ns, upload.sha256, utcnow()
