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


if __name__ == "__main__":
    app()
