"""The ``henrei`` command line (in-process: no server needed)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rules.findings import CATEGORY_LABELS_JA, SEVERITY_LABELS_JA
from worker.pipeline import RunResult, reconcile

app = typer.Typer(add_completion=False, help="henrei: オンライン資格確認・券面・レセプトの突合と訂正リストの作成")
console = Console()
SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"


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
    with console.status("開始") as status:
        result = reconcile(paths, out, progress=lambda msg: status.update(msg))
    raise typer.Exit(_show(result, out))


@app.command("demo")
def demo_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="出力フォルダ")] = Path("out/demo"),
) -> None:
    """同梱のサンプル（sample_receipts/）で突合を実行します。"""
    with console.status("開始") as status:
        result = reconcile([SAMPLES], out, progress=lambda msg: status.update(msg))
    raise typer.Exit(_show(result, out))


# ------------------------------------------------------------------ the worker (Celery on Redis)


@app.command("worker")
def worker_cmd(
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", help="作業プロセス数")] = 2,
    loglevel: Annotated[str, typer.Option("--loglevel", "-l")] = "info",
) -> None:
    """Celery ワーカーを起動します（HENREI_BROKER_URL の Redis に接続）。"""
    from worker.celery_app import app as celery

    celery.worker_main(["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}", "-Q", "henrei"])


@app.command("beat")
def beat_cmd(loglevel: Annotated[str, typer.Option("--loglevel", "-l")] = "info") -> None:
    """毎晩2時（日本時間）の照合と、取りこぼしの再投入（スイーパー）を起動します。"""
    from worker.celery_app import app as celery

    celery.start(["beat", f"--loglevel={loglevel}"])


@app.command("upload")
def upload_cmd(
    paths: Annotated[list[Path], typer.Argument(help="ファイル（複数可）")],
    clinic: Annotated[str, typer.Option("--clinic", help="医療機関ID")],
) -> None:
    """ファイルを受け付けて保存し、照合をキューに入れます（同じファイルは1回だけ受け付けます）。"""
    from tasks._common import context, enqueue_register
    from worker import service

    ctx = context()
    for p in paths:
        if not p.is_file():
            console.print(f"[red]ファイルが見つかりません[/]: {escape(str(p))}")
            raise typer.Exit(2)
        upload_id, created = service.accept_upload(ctx, clinic, p)
        if created:
            enqueue_register(upload_id)
            console.print(
                f"受付 {escape(p.name)}: upload {upload_id}（henrei status --clinic {clinic} で進み具合を確認）"
            )
        else:
            console.print(f"受付済み {escape(p.name)}: upload {upload_id}（同じ内容のファイルはすでにあります）")


@app.command("nightly")
def nightly_cmd() -> None:
    """夜間の照合を今すぐキューに入れます（同じ日付の夜間処理は1回だけ実行されます）。"""
    from tasks.nightly import nightly

    result = nightly.delay()
    console.print(f"夜間処理をキューに入れました: task {result.id}（henrei status で確認）")


@app.command("status")
def status_cmd(clinic: Annotated[str | None, typer.Option("--clinic")] = None) -> None:
    """ジョブの状態を表示します。"""
    from sqlalchemy import select

    from tasks._common import context
    from worker import storage as st

    ctx = context()
    table = Table(title="ジョブ")
    for col in ("ID", "医療機関", "診療年月", "状態", "試行", "エラー"):
        table.add_column(col)
    with st.session_scope(ctx.engine) as s:
        q = select(st.Job).order_by(st.Job.id.desc()).limit(30)
        if clinic:
            q = q.where(st.Job.clinic_id == clinic)
        for j in s.scalars(q):
            table.add_row(
                str(j.id), j.clinic_id or "", j.claim_month or "", j.status, str(j.attempts), (j.error or "")[:60]
            )
    console.print(table)


if __name__ == "__main__":
    app()
