"""The ``henrei`` command line (in-process: no server needed)."""

from __future__ import annotations

import atexit
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from worker.cli_ja import JaCommand, JaGroup, say, settings_or_exit
from worker.cli_jobs import JOB_COMMANDS
from worker.config import Settings
from worker.reading.read_ahead import start as read_ahead
from worker.reading.schema import TABLE_KINDS, TABLE_LABELS_JA
from worker.reading.warmup import warm_readers
from worker.reports.text_lines import phrases
from worker.survey.cli import survey_app
from worker.terminal import safe_name
from worker.web.cli import serve_cmd, users_app

if TYPE_CHECKING:
    import pandas as pd

    from worker.engine import Progress, RunResult, RunSummary
    from worker.reports import HandedBack, MarkedList, SettlementMarks

# The engine, the reports and pandas are imported by the commands that use them, after the
# reader processes were started and a small month's files handed to them (``start_reading``):
# their imports and the parsing overlap ours (~0.4 s).

app = typer.Typer(
    add_completion=False, help="henrei: オンライン資格確認・券面・レセプトの突合と訂正リストの作成", cls=JaGroup
)
app.add_typer(survey_app, name="survey")
console = Console()
SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"


def settings() -> Settings:
    """The environment's settings; a bad ``HENREI_*`` value ends the command with its message."""
    return settings_or_exit(console)


def start_reading(config: Settings, paths: Sequence[Path]) -> None:
    """Start the reader processes, and a small month's parsing, before the engine is imported."""
    warm_readers(config, paths)
    read_ahead(config, paths)


def reconcile(
    paths: Sequence[Path],
    out: Path,
    config: Settings | None = None,
    progress: Progress | None = None,
    previous: MarkedList | None = None,
    settled: SettlementMarks | None = None,
) -> RunResult:
    """A run as ``henrei reconcile`` does it: read the paths, reconcile, write the reports to
    ``out``; ``previous`` (a marked correction list, ``--previous``) carries the clerk's 状態
    and メモ to the same findings and lists its findings that are gone as 解消; ``settled``
    (a marked settlement list) carries the 状態 and メモ of 窓口精算リスト.xlsx."""
    from worker.engine import read_inputs, run
    from worker.engine.deadline import run_deadline
    from worker.reports import DOCUMENT_NAMES, write_reports

    def write(
        f: pd.DataFrame, summary: RunSummary, reclaims: pd.DataFrame | None, context: pd.DataFrame | None
    ) -> tuple[Path, ...]:
        lists = write_reports(
            f,
            summary,
            out,
            reclaims=reclaims,
            context=context,
            previous=previous,
            settled=settled.marks if settled else None,
        )
        # the documents this run had something for (an earlier run's were removed)
        return (*lists, *(p for p in (out / name for name in DOCUMENT_NAMES) if p.exists()))

    config = config or settings()
    with run_deadline(config.run_timeout_s):  # HENREI_RUN_TIMEOUT_S: RunTimeout, nothing written
        inputs = read_inputs(paths, config, progress=progress)
        return run(inputs, write, progress)


def read_previous(paths: Sequence[Path] | None) -> HandedBack:
    """The lists of ``--previous`` (their warnings printed); a file that is neither list
    ends the command with the reason (exit 2) before anything is read."""
    from worker.reports import HandedBack, NotMarkedListError, read_handed_back

    if not paths:
        return HandedBack()
    try:
        handed = read_handed_back(paths)
    except NotMarkedListError as exc:
        _say("前回のリストの誤り: ", *phrases(str(exc)), style="red")
        raise typer.Exit(2) from None
    for which, w in handed.warnings():
        _say(f"{which}: ", *phrases(w), style="yellow")
    return handed


def out_problem(out: Path, inputs: Sequence[Path]) -> str | None:
    """Why the reports cannot go to ``out`` (Japanese, for the clerk), or None.

    Refused: an existing file; a folder that cannot be created or written to; a folder
    inside (or equal to) an input folder, whose next run would read the correction list
    as an input (folders are read with all their sub-folders)."""
    target = out.resolve()
    if target.exists() and not target.is_dir():
        return f"出力先「{out}」はファイルです。出力先にはフォルダを指定してください（なければ作ります）。"
    for p in inputs:
        if p.is_dir() and target.is_relative_to(p.resolve()):
            return (
                f"出力先「{out}」が入力フォルダ「{p}」の中にあります。次の実行で訂正リストが入力として"
                "読み込まれてしまうため、入力フォルダの外のフォルダを指定してください。"
            )
    existing = target
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"出力先「{out}」を作れません（途中の「{existing}」がファイルです）。別のフォルダを指定してください。"
    if not os.access(existing, os.W_OK | os.X_OK):
        return (
            f"出力先「{out}」に書き込めません（「{existing}」に書き込む権限がありません）。"
            "別のフォルダを指定してください。"
        )
    return None


def _say(label: str, *parts: str, style: str = "", indent: str = "  ") -> None:
    say(console, label, *parts, style=style, indent=indent)


def _read_table(summary: RunSummary) -> Table:
    """What was read, per claim month: rows of each kind of table (no value is wrapped)."""
    from worker.engine import coverage

    table = Table()
    table.add_column("診療年月", no_wrap=True)
    kinds = [k for k in TABLE_KINDS if k != "returns" or any(m.rows.get(k) for m in summary.read)]
    for k in kinds:
        table.add_column(TABLE_LABELS_JA[k], justify="right", no_wrap=True)
    for m in summary.read:
        table.add_row(m.month or coverage.NO_MONTH_JA, *(f"{m.rows.get(k, 0):,}" for k in kinds))
    return table


def _counts_table(f: pd.DataFrame) -> Table:
    from rules import CATEGORY_LABELS_JA, SEVERITY_LABELS_JA

    table = Table()
    table.add_column("区分", overflow="fold")
    for sev in ("error", "warning", "info"):
        table.add_column(SEVERITY_LABELS_JA[sev], justify="right", no_wrap=True)
    if len(f):
        counts = f.groupby(["category", "severity"]).size()
        for cat in dict.fromkeys(f["category"]):
            table.add_row(
                CATEGORY_LABELS_JA.get(cat, cat),
                *(f"{counts.get((cat, s), 0):,}" for s in ("error", "warning", "info")),
            )
    return table


def _show(result: RunResult) -> int:
    """The run on the console; the exit status (2: a file or path unreadable or half read, or
    no receipts)."""
    f, summary = result.findings, result.summary
    if summary.read:
        _say("読み込んだ表（診療年月ごとの行数）:")
        console.print(_read_table(summary))
    else:
        _say("読み込んだ表: なし")
    if summary.checked:
        _say(f"照合結果（{summary.period}、", f"レセプト {summary.receipts:,}件）")
        console.print(_counts_table(f))
    ret = summary.returns
    if ret is not None:
        share = f"{ret.predicted / ret.matched:.0%}" if ret.matched else "—"
        _say(
            *phrases(
                f"返戻 {ret.total:,}件（元のレセプトと照合 {ret.matched:,}件、照合できず {ret.unmatched:,}件、"
                f"事前チェックで指摘済み {share}）: corrections.xlsx の「返戻再請求」シートを見てください。"
            )
        )
    for r in f[f["category"] == "input_invalid"].head(5).to_dict("records"):
        where = (f"{r['source_file']} / ", f"{r['sheet'] or 'CSV'} / ", f"{r['row']}行目 / ")
        column, sep, value = str(r["actual"]).partition(": ")  # 「生年月日」列: <the value as read, whole>
        _say("読み取れない値: ", *where, column + sep, value, style="yellow")
    for fs in summary.files:
        if fs.status == "partial":
            style = "red" if fs.half_read else "yellow"
            _say("一部を読み込まなかったファイル: ", f"{fs.path}: ", *phrases(fs.message), style=style)
    for p in result.problems:
        _say("読み込めないファイル: ", f"{p.file}: ", *phrases(p.message), style="red")
    for w in summary.warnings:
        _say("注意: ", *phrases(w.message), style="bold red")
    if result.outputs:
        _say("出力:")
    for path in result.outputs:
        console.print(Text(f"  {safe_name(path)}"), soft_wrap=True, highlight=False)  # a path on a line of its own
    half_read = any(fs.half_read for fs in summary.files)
    return 2 if result.problems or half_read or summary.months_refused or not summary.checked else 0


def _run_shown(run: Callable[[Progress], RunResult]) -> int:
    """A run with its progress on the console, then shown (``_show``); a run over its time
    limit (HENREI_RUN_TIMEOUT_S) ends with the message and 2, nothing written."""
    from worker.engine.deadline import RunTimeout

    try:
        with console.status("開始") as status:
            result = run(lambda msg: status.update(msg))
    except RunTimeout as exc:
        _say("中止: ", *phrases(str(exc)), style="red")
        return 2
    return _show(result)


@app.command("reconcile", cls=JaCommand)
def reconcile_cmd(
    paths: Annotated[list[Path], typer.Argument(help="ファイルまたはフォルダ（複数可）", metavar="ファイル・フォルダ")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="出力フォルダ（省略時: out）", metavar="フォルダ", show_default=False)
    ] = Path("out"),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="処理の記録も表示します。")] = False,
    previous: Annotated[
        list[Path] | None,
        typer.Option(
            "--previous",
            help="状態・メモを付けた前回の訂正リスト（corrections.xlsx）・窓口精算リスト（窓口精算リスト.xlsx）、"
            "または前回の出力フォルダ（複数回指定可）：同じ指摘に引き継ぎ、なくなった指摘を「解消」として出します",
            metavar="ファイル・フォルダ",
            show_default=False,
        ),
    ] = None,
) -> None:
    """ファイルを読み込んで突合し、OUT/corrections.xlsx と OUT/findings.json を書き出します。"""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    config = settings()
    problem = out_problem(out, paths)
    if problem:  # refused before anything is read
        _say("出力先の誤り: ", *phrases(problem), style="red")
        raise typer.Exit(2)
    start_reading(config, paths)
    handed = read_previous(previous)
    raise typer.Exit(
        _run_shown(
            lambda say: reconcile(paths, out, config, progress=say, previous=handed.marked, settled=handed.settled)
        )
    )


@app.command("demo", cls=JaCommand)
def demo_cmd(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="出力フォルダ（省略時: out/demo）", metavar="フォルダ", show_default=False),
    ] = Path("out/demo"),
) -> None:
    """同梱のサンプル（sample_receipts/）で突合を実行します。"""
    config = settings()
    problem = out_problem(out, [SAMPLES])
    if problem:
        _say("出力先の誤り: ", *phrases(problem), style="red")
        raise typer.Exit(2)
    start_reading(config, [SAMPLES])
    raise typer.Exit(_run_shown(lambda say: reconcile([SAMPLES], out, config, progress=say)))


# the worker's commands (worker/cli_jobs.py) and the clerks' web page (worker/web/cli.py),
# listed after the commands above
for _name, _command in JOB_COMMANDS.items():
    app.command(_name, cls=JaCommand)(_command)
app.add_typer(users_app, name="users")
app.command("serve", cls=JaCommand)(serve_cmd)


def main() -> None:
    """The ``henrei`` command: the app, then a quick exit. The exit handlers still run
    (reader servers stopped, scratch folders removed) and the streams are flushed; only the
    interpreter's teardown of pandas and pyarrow (~0.15 s at the end of every run) is left out."""
    try:
        app()
    except SystemExit as exc:  # how Typer ends every command
        code = exc.code
    else:
        code = 0
    if not isinstance(code, int):
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    atexit._run_exitfuncs()  # what a normal exit runs first (the reader servers, read-ahead folders)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
