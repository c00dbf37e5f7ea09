"""The ``henrei`` command line (in-process: no server needed)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rules import CATEGORY_LABELS_JA, SEVERITY_LABELS_JA
from worker.config import Settings, SettingsError
from worker.engine import Progress, RunResult, read_inputs, run
from worker.reports import write_reports

app = typer.Typer(add_completion=False, help="henrei: オンライン資格確認・券面・レセプトの突合と訂正リストの作成")
console = Console()
SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"


def settings() -> Settings:
    """The environment's settings; a bad ``HENREI_*`` value ends the command with its message."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        console.print(f"[red]設定の誤り[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None


def reconcile(
    paths: Sequence[Path], out: Path, config: Settings | None = None, progress: Progress | None = None
) -> RunResult:
    """A run as ``henrei reconcile`` does it: read the paths, reconcile, write the reports to ``out``."""
    inputs = read_inputs(paths, config or settings(), progress=progress)
    return run(
        inputs,
        lambda f, summary, reclaims, context: write_reports(f, summary, out, reclaims=reclaims, context=context),
        progress,
    )


def _show(result: RunResult, out: Path) -> int:
    f = result.findings
    table = Table(title=f"照合結果（{result.summary.period}、レセプト {result.summary.receipts:,}件）")
    table.add_column("区分")
    for sev in ("error", "warning", "info"):
        table.add_column(SEVERITY_LABELS_JA[sev], justify="right")
    if len(f):
        counts = f.groupby(["category", "severity"]).size()
        for cat in dict.fromkeys(f["category"]):
            table.add_row(
                CATEGORY_LABELS_JA.get(cat, cat),
                *(str(counts.get((cat, s), 0)) for s in ("error", "warning", "info")),
            )
    console.print(table)
    ret = result.summary.returns
    if ret is not None:
        share = f"{ret.predicted / ret.matched:.0%}" if ret.matched else "—"
        console.print(
            f"返戻 {ret.total}件（元のレセプトと照合 {ret.matched}件、照合できず {ret.unmatched}件、"
            f"事前チェックで指摘済み {share}）: corrections.xlsx の「返戻再請求」シートを見てください。"
        )
    bad_rows = f[f["category"] == "input_invalid"].head(5)
    for r in bad_rows.to_dict("records"):
        where = f"{r['source_file']} / {r['sheet'] or 'CSV'} / {r['row']}行目"
        console.print(f"[yellow]読み取れない値[/]: {escape(where)} / {escape(str(r['actual']))}", highlight=False)
    for p in result.problems:
        console.print(f"[red]読み込めないファイル[/]: {escape(p.file)}: {escape(p.message)}", highlight=False)
    for path in result.outputs:
        console.print(f"出力: {path}")
    return 2 if result.problems else 0


@app.command("reconcile")
def reconcile_cmd(
    paths: Annotated[list[Path], typer.Argument(help="ファイルまたはフォルダ（複数可）")],
    out: Annotated[Path, typer.Option("--out", "-o", help="出力フォルダ")] = Path("out"),
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """ファイルを読み込んで突合し、OUT/corrections.xlsx と OUT/findings.json を書き出します。"""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    config = settings()
    with console.status("開始") as status:
        result = reconcile(paths, out, config, progress=lambda msg: status.update(msg))
    raise typer.Exit(_show(result, out))


@app.command("demo")
def demo_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="出力フォルダ")] = Path("out/demo"),
) -> None:
    """同梱のサンプル（sample_receipts/）で突合を実行します。"""
    config = settings()
    with console.status("開始") as status:
        result = reconcile([SAMPLES], out, config, progress=lambda msg: status.update(msg))
    raise typer.Exit(_show(result, out))


# ------------------------------------------------------------------ the worker (Celery on Redis)


@app.command("worker")
def worker_cmd(
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", help="作業プロセス数")] = 2,
    loglevel: Annotated[str, typer.Option("--loglevel", "-l")] = "info",
) -> None:
    """Celery ワーカーを起動します（HENREI_BROKER_URL の Redis に接続）。"""
    settings()  # a bad setting is named here, before Celery starts
    from worker.jobs.celery_app import app as celery

    celery.worker_main(["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}", "-Q", "henrei"])


@app.command("beat")
def beat_cmd(loglevel: Annotated[str, typer.Option("--loglevel", "-l")] = "info") -> None:
    """毎晩2時（日本時間）の照合と、取りこぼしの再投入（スイーパー）を起動します。"""
    settings()
    from worker.jobs.celery_app import app as celery

    celery.start(["beat", f"--loglevel={loglevel}"])


@app.command("upload")
def upload_cmd(
    paths: Annotated[list[Path], typer.Argument(help="ファイル（複数可）")],
    clinic: Annotated[str, typer.Option("--clinic", help="医療機関ID")],
) -> None:
    """ファイルを受け付けて保存し、照合をキューに入れます（同じファイルは1回だけ受け付けます）。"""
    from kombu.exceptions import OperationalError as BrokerError

    from worker.jobs import TaskName, accept_upload, celery_context, enqueue, queue_register

    missing = [p for p in paths if not p.is_file()]
    for p in missing:
        console.print(f"[red]ファイルが見つかりません[/]: {escape(str(p))}", highlight=False)
    if missing:
        raise typer.Exit(2)
    ctx = celery_context(settings())
    not_queued = 0
    for p in paths:
        try:
            upload_id, created = accept_upload(ctx, clinic, p)
        except ValueError as exc:  # a clinic ID that cannot be a folder name
            console.print(
                f"[red]医療機関ID「{escape(clinic)}」は使えません[/]"
                "（/ \\ : を含まず . で始まらない64文字以内で指定してください）",
                highlight=False,
            )
            raise typer.Exit(2) from exc
        if not created:
            console.print(
                f"受付済み {escape(p.name)}: 同じ内容のファイルはすでに受け付けています（upload {upload_id}）",
                highlight=False,
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
        console.print(f"受付 {escape(p.name)}: ジョブ {queued[0]}（{note}）", highlight=False)
    if not_queued:
        raise typer.Exit(1)


@app.command("nightly")
def nightly_cmd() -> None:
    """取り込みフォルダ（夜間処理と同じ）を今すぐ確認し、新しいファイルを照合します。"""
    from worker.jobs import TaskName, celery_context, enqueue, queue_pickup

    job_id = queue_pickup(celery_context(settings()), enqueue(TaskName.PICKUP))
    console.print(
        f"取り込みフォルダの確認をキューに入れました: ジョブ {job_id}（進み具合: henrei status --job {job_id}）"
    )


@app.command("status")
def status_cmd(
    clinic: Annotated[str | None, typer.Option("--clinic", help="医療機関IDで絞り込み")] = None,
    job: Annotated[int | None, typer.Option("--job", help="ジョブIDの詳細と、そこから続くジョブ")] = None,
) -> None:
    """ジョブと夜間処理の状態を表示します。"""
    from worker.jobs import UnknownJobError, celery_context, status_report

    try:
        report = status_report(celery_context(settings()), clinic=clinic, job=job)
    except UnknownJobError:
        console.print(f"[red]ジョブ {job} はありません[/]")
        raise typer.Exit(2) from None
    table = Table(title="ジョブ" if job is None else f"ジョブ {job} とそこから続くジョブ")
    for col in ("ID", "種類", "医療機関", "診療年月", "状態", "試行", "結果・エラー"):
        table.add_column(col)
    for j in report.jobs:
        table.add_row(
            str(j.id), j.kind, escape(j.clinic_id), j.claim_month, j.status, str(j.attempts), escape(j.outcome)
        )
    console.print(table)
    for month, path in report.correction_lists:
        console.print(f"訂正リスト（{month}）: {path}", highlight=False)
    if job is None:
        for r in report.nightly_runs:
            console.print(
                f"夜間処理 {r.run_date}: {r.status}（新しいファイル {r.uploads}件、問題 {r.problems}件）",
                highlight=False,
            )


if __name__ == "__main__":
    app()
