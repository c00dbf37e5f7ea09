"""The worker's commands: ``henrei worker`` and ``henrei beat`` (Celery on Redis),
``henrei upload``, ``henrei nightly`` and ``henrei status``; mounted by ``worker.cli``. The job
system is imported when a command runs, so ``henrei`` starts without Celery or SQLAlchemy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Final

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from worker.cli_ja import say, settings_or_exit
from worker.clinic_ids import ClinicIdError, canonical_clinic_id
from worker.reports.text_lines import phrases
from worker.terminal import safe_name, safe_text

__all__ = ["JOB_COMMANDS"]

console = Console()


def worker_cmd(
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", help="作業プロセス数")] = 2,
    loglevel: Annotated[str, typer.Option("--loglevel", "-l")] = "info",
) -> None:
    """Celery ワーカーを起動します（HENREI_BROKER_URL の Redis に接続）。"""
    settings_or_exit(console)  # a bad setting is named here, before Celery starts
    from worker.jobs.celery_app import app as celery

    celery.worker_main(["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}", "-Q", "henrei"])


def beat_cmd(loglevel: Annotated[str, typer.Option("--loglevel", "-l")] = "info") -> None:
    """毎晩2時（日本時間）の照合と、取りこぼしの再投入（スイーパー）を起動します。"""
    settings_or_exit(console)
    from worker.jobs.celery_app import app as celery

    celery.start(["beat", f"--loglevel={loglevel}"])


def _clinic_or_exit(raw: str) -> str:
    """The canonical form of ``--clinic`` (``worker.clinic_ids``); a refused ID ends the
    command (exit 2) with what is allowed, before anything is stored."""
    try:
        return canonical_clinic_id(raw)
    except ClinicIdError as exc:
        say(console, "医療機関IDの誤り: ", *phrases(str(exc)), style="red")
        raise typer.Exit(2) from None


def upload_cmd(
    paths: Annotated[list[Path], typer.Argument(help="ファイル（複数可）", metavar="ファイル")],
    clinic: Annotated[str, typer.Option("--clinic", help="医療機関ID", metavar="ID")],
) -> None:
    """ファイルを受け付けて保存し、照合をキューに入れます（同じファイルは1回だけ受け付けます）。"""
    from kombu.exceptions import OperationalError as BrokerError

    from worker.jobs import TaskName, accept_upload, celery_context, enqueue, queue_register

    clinic = _clinic_or_exit(clinic)
    missing = [p for p in paths if not p.is_file()]
    for p in missing:
        console.print(f"[red]ファイルが見つかりません[/]: {escape(safe_name(p))}", highlight=False)
    if missing:
        raise typer.Exit(2)
    ctx = celery_context(settings_or_exit(console))
    not_queued = unreadable = 0
    for p in paths:
        try:
            upload_id, created = accept_upload(ctx, clinic, p)
        except OSError as exc:  # this file only: the others of the command are still taken
            unreadable += 1
            say(
                console,
                f"読み込めないファイル: {safe_name(p)}: ",
                f"{exc.strerror or exc.__class__.__name__}",
                style="red",
            )
            continue
        if not created:
            say(
                console,
                f"受付済み {safe_name(p.name)}: ",
                f"同じ内容のファイルはすでに受け付けています（upload {upload_id}）",
            )
            continue
        queued: list[int] = []
        try:
            queue_register(ctx, upload_id, queued.append)
            enqueue(TaskName.REGISTER)(queued[0])
            note = f"進み具合: henrei status --job {queued[0]}"
        except BrokerError:  # stored and in the database: the sweeper of `henrei beat` enqueues it
            not_queued += 1
            note = "キューに入れられませんでした（Redis に接続できません）。henrei beat の見回りが後で処理します"
        console.print(f"受付 {escape(safe_name(p.name))}: ジョブ {queued[0]}（{note}）", highlight=False)
    if unreadable:
        raise typer.Exit(2)
    if not_queued:
        raise typer.Exit(1)


def nightly_cmd() -> None:
    """取り込みフォルダ（夜間処理と同じ）を今すぐ確認し、新しいファイルを照合します。"""
    from worker.jobs import TaskName, celery_context, enqueue, queue_pickup

    job_id = queue_pickup(celery_context(settings_or_exit(console)), enqueue(TaskName.PICKUP))
    console.print(
        f"取り込みフォルダの確認をキューに入れました: ジョブ {job_id}（進み具合: henrei status --job {job_id}）"
    )


def status_cmd(
    clinic: Annotated[str | None, typer.Option("--clinic", help="医療機関IDで絞り込み")] = None,
    job: Annotated[int | None, typer.Option("--job", help="ジョブIDの詳細と、そこから続くジョブ")] = None,
) -> None:
    """ジョブと夜間処理の状態を表示します。"""
    from worker.jobs import UnknownJobError, celery_context, status_report

    clinic = None if clinic is None else _clinic_or_exit(clinic)
    try:
        report = status_report(celery_context(settings_or_exit(console)), clinic=clinic, job=job)
    except UnknownJobError:
        console.print(f"[red]ジョブ {job} はありません[/]")
        raise typer.Exit(2) from None
    table = Table(title="ジョブ" if job is None else f"ジョブ {job} とそこから続くジョブ")
    for col in ("ID", "種類", "医療機関", "診療年月", "状態", "試行", "結果・エラー"):
        table.add_column(col)
    for j in report.jobs:
        table.add_row(
            *(escape(safe_text(v)) for v in (j.id, j.kind, j.clinic_id, j.claim_month, j.status, j.attempts, j.outcome))
        )
    console.print(table)
    for month, path in report.correction_lists:
        console.print(f"訂正リスト（{month}）: {escape(safe_name(path))}", highlight=False)
    if job is None:
        for r in report.nightly_runs:
            console.print(
                f"夜間処理 {r.run_date}: {r.status}（新しいファイル {r.uploads}件、問題 {r.problems}件）",
                highlight=False,
            )


#: command name -> function, in the order ``henrei --help`` lists them
JOB_COMMANDS: Final[dict[str, Callable[..., Any]]] = {
    "worker": worker_cmd,
    "beat": beat_cmd,
    "upload": upload_cmd,
    "nightly": nightly_cmd,
    "status": status_cmd,
}
