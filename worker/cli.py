"""The ``henrei`` command line (in-process: no server needed)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rules import CATEGORY_LABELS_JA, SEVERITY_LABELS_JA
from worker.engine.pipeline import RunResult, reconcile

if TYPE_CHECKING:
    from worker.jobs.storage import Job

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
    from worker.jobs.celery_app import app as celery

    celery.worker_main(["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}", "-Q", "henrei"])


@app.command("beat")
def beat_cmd(loglevel: Annotated[str, typer.Option("--loglevel", "-l")] = "info") -> None:
    """毎晩2時（日本時間）の照合と、取りこぼしの再投入（スイーパー）を起動します。"""
    from worker.jobs.celery_app import app as celery

    celery.start(["beat", f"--loglevel={loglevel}"])


@app.command("upload")
def upload_cmd(
    paths: Annotated[list[Path], typer.Argument(help="ファイル（複数可）")],
    clinic: Annotated[str, typer.Option("--clinic", help="医療機関ID")],
) -> None:
    """ファイルを受け付けて保存し、照合をキューに入れます（同じファイルは1回だけ受け付けます）。"""
    from kombu.exceptions import OperationalError as BrokerError

    from tasks._common import context, enqueue_register
    from worker.jobs import service

    missing = [p for p in paths if not p.is_file()]
    for p in missing:
        console.print(f"[red]ファイルが見つかりません[/]: {escape(str(p))}", highlight=False)
    if missing:
        raise typer.Exit(2)
    ctx = context()
    not_queued = 0
    for p in paths:
        try:
            upload_id, created = service.accept_upload(ctx, clinic, p)
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
            service.queue_register(ctx, upload_id, queued.append)
            enqueue_register(queued[0])
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
    from tasks._common import context, enqueue_pickup
    from worker.jobs import service

    job_id = service.queue_pickup(context(), enqueue_pickup)
    console.print(
        f"取り込みフォルダの確認をキューに入れました: ジョブ {job_id}（進み具合: henrei status --job {job_id}）"
    )


_STATUS_JA = {"queued": "待機中", "running": "実行中", "done": "完了", "failed": "失敗"}
_KIND_JA = {"register": "読み込み", "reconcile": "照合", "part": "照合（分割）", "nightly": "夜間"}


@app.command("status")
def status_cmd(
    clinic: Annotated[str | None, typer.Option("--clinic", help="医療機関IDで絞り込み")] = None,
    job: Annotated[int | None, typer.Option("--job", help="ジョブIDの詳細と、そこから続くジョブ")] = None,
) -> None:
    """ジョブと夜間処理の状態を表示します。"""
    from sqlalchemy import or_, select

    from tasks._common import context
    from worker.jobs import storage as st

    ctx = context()
    table = Table(title="ジョブ" if job is None else f"ジョブ {job} とそこから続くジョブ")
    for col in ("ID", "種類", "医療機関", "診療年月", "状態", "試行", "結果・エラー"):
        table.add_column(col)
    root = None
    with st.session_scope(ctx.engine) as s:
        q = select(st.Job).order_by(st.Job.id.desc()).limit(30)
        if clinic:
            q = q.where(st.Job.clinic_id == clinic)
        if job is not None:
            root = s.get(st.Job, job)
            if root is None:
                console.print(f"[red]ジョブ {job} はありません[/]")
                raise typer.Exit(2)
            follow = [job, *((root.result or {}).get("jobs") or [])]
            q = select(st.Job).where(or_(st.Job.id.in_(follow), st.Job.parent_id.in_(follow))).order_by(st.Job.id)
        for j in s.scalars(q):
            table.add_row(
                str(j.id),
                _KIND_JA.get(j.kind, j.kind),
                escape(j.clinic_id or ""),
                j.claim_month or "",
                _STATUS_JA.get(j.status, j.status),
                str(j.attempts),
                escape(_job_outcome(j)),
            )
        lists = []
        if job is not None and root is not None:
            ids = [int(r) for r in (root.result or {}).get("jobs") or []] + [job]
            lists = list(s.scalars(select(st.CorrectionList).where(st.CorrectionList.job_id.in_(ids))))
        runs = list(s.scalars(select(st.NightlyRun).order_by(st.NightlyRun.run_date.desc()).limit(3)))
    console.print(table)
    for c in lists:
        console.print(f"訂正リスト（{c.claim_month}）: {ctx.settings.data_dir / c.xlsx_path}", highlight=False)
    if job is None and runs:
        for r in runs:
            report = r.report or {}
            console.print(
                f"夜間処理 {r.run_date}: {_STATUS_JA.get(r.status, r.status)}"
                f"（新しいファイル {len(report.get('uploads') or [])}件、問題 {len(report.get('problems') or [])}件）",
                highlight=False,
            )


def _job_outcome(j: Job) -> str:
    if j.error:
        return j.error[:80]
    r = j.result or {}
    if "same_as" in r:
        return f"ジョブ {r['same_as']} と同じ入力のため省略"
    if j.kind == "nightly" and "uploads" in r:
        waiting = f"、書き込み中のため次回 {len(r['waiting'])}件" if r.get("waiting") else ""
        problems = f"、問題 {len(r['problems'])}件" if r.get("problems") else ""
        return f"新しいファイル {len(r['uploads'])}件{waiting}{problems}"
    if j.kind == "register" and "months" in r:
        if not r.get("jobs"):
            return "診療年月なし（券面の記録など: 次の照合で使われます）"
        return f"診療年月 {', '.join(r['months'])} → ジョブ {', '.join(map(str, r['jobs']))}"
    if "findings" in r:
        return f"指摘 {r['findings']}件" + (f"（レセプト {r['receipts']:,}件）" if "receipts" in r else "")
    return ""


if __name__ == "__main__":
    app()
