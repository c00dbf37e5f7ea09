"""The web page's commands: ``henrei users add`` (users of the page, the first admin too)
and ``henrei serve`` (the page itself); mounted by ``worker.cli``. The page, the jobs and
uvicorn are imported when a command runs, so ``henrei`` starts without them."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from worker.cli_ja import JaCommand, JaGroup, settings_or_exit

__all__ = ["serve_cmd", "users_app"]

console = Console()

users_app = typer.Typer(help="ウェブ画面の利用者を管理します。", cls=JaGroup)

ROLE_HELP = (
    "役割: clerk（事務）、clinic_admin（医療機関の管理者）、vendor_admin（ベンダーの管理者）、"
    "association（協会：集計だけ）"
)


@users_app.command("add", cls=JaCommand)
def users_add_cmd(
    login: Annotated[str, typer.Argument(help="ログイン名", metavar="ログイン名")],
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP, metavar="役割")] = "clinic_admin",
    clinic: Annotated[str | None, typer.Option("--clinic", help="医療機関ID", metavar="ID")] = None,
    clinic_name: Annotated[
        str | None, typer.Option("--clinic-name", help="医療機関の名称（画面に出ます）", metavar="名称")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="表示名（省略時: ログイン名）", metavar="名前")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="パスワードを標準入力の1行目から読みます（スクリプト用）")
    ] = False,
) -> None:
    """ウェブ画面の利用者を作ります（最初の管理者もこれで作ります）。"""
    import sys

    from worker.jobs import Role, celery_context
    from worker.web import add_user

    roles = {str(r) for r in Role}
    if role not in roles:
        console.print(f"[red]役割「{escape(role)}」はありません[/]（{ROLE_HELP}）", highlight=False)
        raise typer.Exit(2)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("パスワード", hide_input=True, confirmation_prompt="パスワード（確認）")
    ctx = celery_context(settings_or_exit(console))
    try:
        user_id = add_user(
            ctx.engine, login, password, Role(role), clinic_id=clinic, clinic_name=clinic_name, display_name=name
        )
    except ValueError as exc:
        console.print(f"[red]作れませんでした[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"利用者 {escape(login)} を作りました（ID {user_id}、役割 {role}）。", highlight=False)


def serve_cmd(
    host: Annotated[str | None, typer.Option("--host", help="待ち受けるアドレス（省略時: HENREI_WEB_HOST）")] = None,
    port: Annotated[int | None, typer.Option("--port", help="ポート番号（省略時: HENREI_WEB_PORT）")] = None,
) -> None:
    """医療事務の方が使うウェブ画面を起動します（ブラウザで http://アドレス:ポート/ を開きます）。"""
    import uvicorn

    from worker.web import JobRunner, create_app

    config = settings_or_exit(console)
    logging.basicConfig(level=logging.INFO)
    runner = JobRunner(config)
    web = create_app(config, runner)
    host, port = host or config.web_host, port or config.web_port
    console.print(f"ウェブ画面: http://{host}:{port}/ （{runner.mode_ja}）。止めるときは Ctrl+C", highlight=False)
    uvicorn.run(web, host=host, port=port, log_level="warning", access_log=False, proxy_headers=False)
