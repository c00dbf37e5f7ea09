"""``henrei survey export`` (the clinic side) and ``henrei survey aggregate`` (the association side)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from worker.cli_ja import JaCommand, JaGroup, settings_or_exit
from worker.config import Settings

# The engine, the jobs (SQLAlchemy) and the reports are imported by the commands that use
# them: ``henrei`` loads this module at every start, whatever the command (issue 11).

__all__ = ["survey_app"]

survey_app = typer.Typer(help="保険医協会などの会員調査：提出ファイルの作成と集計", cls=JaGroup, no_args_is_help=True)
console = Console()
_MONTH = re.compile(r"^20\d\d-(0[1-9]|1[0-2])$")


def _settings() -> Settings:
    return settings_or_exit(console)


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]提出ファイルを作れませんでした[/]: {escape(message)}", highlight=False)
    return typer.Exit(2)


def _findings_json(source: Path, work: Path, settings: Settings) -> Path:
    from worker.engine import read_inputs, run
    from worker.reports import JSON_NAME, write_reports

    """findings.json of ``source``: a findings.json, a report folder, or a folder of inputs
    reconciled now (into ``work``)."""
    if source.is_file() and source.suffix == ".json":
        return source
    if (source / JSON_NAME).is_file():
        return source / JSON_NAME
    inputs = read_inputs([source], settings)
    result = run(inputs, lambda f, summary, reclaims, context: write_reports(
        f, summary, work, reclaims=reclaims, context=context))  # fmt: skip
    return result.outputs[1]


@survey_app.command("export", cls=JaCommand)
def export_cmd(
    clinic: Annotated[str, typer.Option("--clinic", help="医療機関ID（HENREI_SURVEY_CLINICS に登録したもの）")],
    month: Annotated[str, typer.Option("--month", help="診療年月（例: 2026-10）", metavar="YYYY-MM")],
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="findings.json、henrei reconcile の出力フォルダ、または照合する入力フォルダ"
            "（省略時: サーバーの照合結果）",
            metavar="パス",
            show_default=False,
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="提出ファイルを書くフォルダ", metavar="フォルダ")] = Path(
        "."
    ),
) -> None:
    """その月の調査提出ファイル（件数だけ・患者の情報なし）を作ります。送信はしません。"""
    from worker.jobs import Context
    from worker.survey.clinics import survey_clinic
    from worker.survey.schema import SubmissionError
    from worker.survey.submission import findings_json_of, submission_from_findings_json, write_submission

    settings = _settings()
    if not _MONTH.match(month):
        raise _fail(f"診療年月「{month}」は YYYY-MM の形で指定してください（例: 2026-10）")
    try:
        entry = survey_clinic(settings, clinic)
        with tempfile.TemporaryDirectory(prefix="henrei-survey-") as work:
            if source is not None:
                if not source.exists():
                    raise SubmissionError(f"{source} が見つかりません")
                path = _findings_json(source, Path(work), settings)
            else:
                path = findings_json_of(Context(settings), clinic, month)
            submission = submission_from_findings_json(path, month, entry)
    except SubmissionError as exc:
        raise _fail(str(exc)) from None
    written = write_submission(submission, out)
    events = sum(c.events for c in submission.counts)
    console.print(
        f"提出ファイルを作りました: {escape(str(written))}\n"
        f"  {month} 診療分 レセプト {submission.receipts:,}件・指摘 {events:,}件（件数のみ。患者の情報は含みません）\n"
        "  このファイルを協会に送ってください（henrei は送信しません）。",
        highlight=False,
    )


@survey_app.command("aggregate", cls=JaCommand)
def aggregate_cmd(
    paths: Annotated[
        list[Path], typer.Argument(help="提出ファイルまたはフォルダ（複数可）", metavar="ファイル・フォルダ")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="集計結果を書くフォルダ", metavar="フォルダ")] = Path(
        "survey"
    ),
    months: Annotated[
        list[str] | None, typer.Option("--month", help="集計する診療年月（複数可、省略時: すべて）", metavar="YYYY-MM")
    ] = None,
    per_clinic: Annotated[
        bool, typer.Option("--per-clinic", help="医療機関別の内部資料シートを付けます（公表しないでください）")
    ] = False,
) -> None:
    """提出ファイルを取り込み、調査の表（survey.xlsx と summary.json）を作ります。"""
    from worker.survey.aggregate import import_submissions, survey_data
    from worker.survey.report import write_survey_report

    _settings()
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        console.print(f"[red]見つかりません[/]: {escape(str(p))}", highlight=False)
    imported = import_submissions([p for p in paths if p.exists()])
    for r in imported.rejected:
        console.print(f"[red]取り込めません[/] {escape(r.path)}: {escape(r.reason)}", highlight=False)
    if not imported.submissions:
        console.print("[red]取り込める提出ファイルがありません。[/]")
        raise typer.Exit(2)
    xlsx, js = write_survey_report(
        survey_data(imported.submissions), imported, out, months=months, per_clinic=per_clinic
    )
    console.print(
        f"取り込み {len(imported.submissions):,}件（古い提出 {imported.superseded:,}件は新しいもので置き換え、"
        f"取り込めないもの {len(imported.rejected):,}件）\n集計: {escape(str(xlsx))}\n      {escape(str(js))}",
        highlight=False,
    )
    if imported.rejected or missing:
        raise typer.Exit(2)
