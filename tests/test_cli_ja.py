"""The CLI's own messages in Japanese (``worker.cli_ja``): usage errors and help, as a clerk
meets them — never Click's English ("Missing command.", "Usage:", "Options")."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from worker.cli import app
from worker.cli_ja import usage_error_ja

ENGLISH = ("Missing", "No such", "Usage:", "Error", "Try '", "Options", "Arguments", "Commands", "Show this message")


def henrei(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args), env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"}, prog_name="henrei")
    return res.exit_code, res.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ((), "コマンドを指定してください。"),
        (("recon",), "コマンド「recon」はありません。（reconcile のことですか？）"),
        (("reconcile",), "引数「ファイル・フォルダ」を指定してください。"),
        (("reconcile", "x", "--bogus"), "オプション「--bogus」はありません。"),
        (("reconcile", "x", "--out"), "オプション「--out」のあとに値を指定してください。"),
        (("upload", "x"), "オプション「--clinic」を指定してください。"),
        (("status", "--job", "abc"), "「--job」の値が正しくありません。整数で指定してください。"),
    ],
)
def test_usage_errors_in_japanese(args: tuple[str, ...], said: str) -> None:
    code, out = henrei(*args)
    assert code == 2
    assert f"エラー: {said}" in out
    assert not [w for w in ENGLISH if w in out], out
    if args in ((), ("recon",)):  # a wrong or missing command lists the commands
        assert "使い方: henrei [オプション] コマンド [引数]..." in out
        assert "コマンド: reconcile、demo" in out and "詳しくは「henrei --help」を実行してください。" in out


def test_help_in_japanese() -> None:
    code, out = henrei("--help")
    assert code == 0
    assert "使い方: henrei [オプション] コマンド [引数]..." in out
    assert "コマンド" in out and "reconcile" in out and "このヘルプを表示して終了します。" in out
    code, out = henrei("reconcile", "--help")
    assert code == 0
    for words in ("使い方: henrei reconcile [オプション]", "引数", "オプション", "出力フォルダ（省略時: out）"):
        assert words in out
    assert not [w for w in ENGLISH if w in out], out
    assert "<bool>" not in out  # a flag takes no value


def test_our_own_japanese_messages_pass_unchanged() -> None:
    assert usage_error_ja(typer.BadParameter("医療機関IDが正しくありません。")) == "医療機関IDが正しくありません。"
    assert usage_error_ja(typer.BadParameter("bad")) == "「」の値が正しくありません。（bad）"
