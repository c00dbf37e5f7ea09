"""The command line's own words in Japanese: usage errors, help headings, the help option.

Typer 0.29 carries its own copy of Click, whose messages are English f-strings (no gettext
catalogue to translate), so they are put into Japanese where Typer lets an application
choose its classes (``typer.Typer(cls=JaGroup)``, ``app.command(cls=JaCommand)``), without
patching Typer:

- ``JaGroup.main`` runs the app without Click's own error printing and prints each usage
  error in Japanese by its kind (no command, unknown command or option, missing argument,
  option without a value, bad value); a message that is already Japanese (raised by our
  own code) is printed as it is, anything else with the English original in brackets;
- help: panel headings from the parameters' and commands' ``rich_help_panel`` (引数,
  オプション, コマンド), the usage line 「使い方:」 with 「[オプション]」 and 「コマンド [引数]...」,
  and the help option's text.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from difflib import get_close_matches
from typing import Any, Final

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from typer.core import TyperCommand, TyperGroup

from worker.config import Settings, SettingsError
from worker.reports.text_lines import fit_lines
from worker.terminal import safe_text

__all__ = ["JaCommand", "JaGroup", "say", "settings_or_exit", "usage_error_ja"]

HELP_OPTION_JA: Final = "このヘルプを表示して終了します。"
PANEL_JA: Final = {"argument": "引数", "option": "オプション", "command": "コマンド"}
USAGE_JA: Final = "使い方: "
OPTIONS_METAVAR_JA: Final = "[オプション]"
SUBCOMMAND_METAVAR_JA: Final = "コマンド [引数]..."

_stderr = Console(stderr=True)
#: words of Click's/Pydantic's bad-value messages -> what to give instead
_VALUE_KINDS_JA: Final = (("integer", "整数で指定してください。"), ("float", "数値で指定してください。"))


def _is_japanese(text: str) -> bool:
    return any(ord(ch) > 0x2FFF for ch in text)


def _hint(e: Any) -> str:
    """The parameter an error is about, as 「--out」 or 「ファイル・フォルダ」."""
    hint = getattr(e, "param_hint", None)
    if hint is None and getattr(e, "param", None) is not None:
        hint = e.param.get_error_hint()
    if isinstance(hint, Sequence) and not isinstance(hint, str):
        hint = " / ".join(hint)
    return "「" + str(hint or "").replace("'", "") + "」"


def usage_error_ja(e: typer.TyperException) -> str:
    """A Click/Typer error as a Japanese sentence (by its kind: Typer's vendored Click
    classes are not public, so they are told apart by name)."""
    message = str(getattr(e, "message", "") or "")
    if _is_japanese(message):
        return message
    kinds = {c.__name__ for c in type(e).__mro__}
    if "NoSuchOption" in kinds:
        text = f"オプション「{getattr(e, 'option_name', '')}」はありません。"
        possible = sorted(getattr(e, "possibilities", None) or ())
        return text + (f"（{'、'.join(possible)} のことですか？）" if possible else "")
    if "MissingParameter" in kinds:
        param = getattr(e, "param", None)
        kind = "引数" if param is not None and param.param_type_name == "argument" else "オプション"
        return f"{kind}{_hint(e)}を指定してください。"
    if "BadOptionUsage" in kinds:
        name = getattr(e, "option_name", "")
        if "requires" in message:
            return f"オプション「{name}」のあとに値を指定してください。"
        if "does not take" in message:
            return f"オプション「{name}」には値を付けません。"
        return f"オプション「{name}」の指定が正しくありません（{message}）。"
    if "BadParameter" in kinds:
        need = next((ja for en, ja in _VALUE_KINDS_JA if en in message), "")
        return f"{_hint(e)}の値が正しくありません。{need or f'（{message}）'}"
    if "UsageError" in kinds:
        return f"コマンドの指定が正しくありません（{e.format_message()}）。"
    return e.format_message()


def _show_error(e: typer.TyperException) -> None:
    ctx = getattr(e, "ctx", None)
    _stderr.print(Text("エラー: ", style="bold red") + Text(usage_error_ja(e)), soft_wrap=True)
    if ctx is not None:
        _stderr.print(Text(ctx.get_usage()), soft_wrap=True)
        group = ctx.find_root().command
        if isinstance(group, TyperGroup) and ctx.command is group:
            names = [n for n in group.list_commands(ctx) if not getattr(group.get_command(ctx, n), "hidden", False)]
            _stderr.print(Text("コマンド: " + "、".join(names)), soft_wrap=True)
        _stderr.print(Text(f"詳しくは「{ctx.command_path} --help」を実行してください。"), soft_wrap=True)


class _Japanese:
    """Help and usage wording shared by the group and its commands."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_OPTION_JA
            option.rich_help_panel = PANEL_JA["option"]
            option.metavar = ""
        return option

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE_JA)


class JaCommand(_Japanese, TyperCommand):
    """A command whose help and usage read in Japanese."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options_metavar = OPTIONS_METAVAR_JA
        for param in self.params:
            if not getattr(param, "rich_help_panel", None):  # None or Typer's default placeholder
                param.rich_help_panel = PANEL_JA.get(param.param_type_name, PANEL_JA["option"])  # type: ignore[attr-defined]
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""  # a flag takes no value: no 「<bool>」 in the help


class JaGroup(_Japanese, TyperGroup):
    """The app: its commands under 「コマンド」, usage errors in Japanese."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options_metavar = OPTIONS_METAVAR_JA
        self.subcommand_metavar = SUBCOMMAND_METAVAR_JA
        for command in self.commands.values():
            if not getattr(command, "rich_help_panel", None):  # None or Typer's default placeholder
                command.rich_help_panel = PANEL_JA["command"]  # type: ignore[attr-defined]

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args and not self.invoke_without_command and not ctx.resilient_parsing:
            ctx.fail("コマンドを指定してください。")
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None and not ctx.resilient_parsing:
            close = get_close_matches(name, self.list_commands(ctx))
            ctx.fail(f"コマンド「{name}」はありません。" + (f"（{'、'.join(close)} のことですか？）" if close else ""))
        return super().resolve_command(ctx, args)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            # not standalone: Click's English error printing is skipped, errors come here
            rv = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except typer.TyperException as e:
            if not standalone_mode:
                raise
            _show_error(e)
            sys.exit(int(getattr(e, "exit_code", 1)))
        except typer.Abort:
            if not standalone_mode:
                raise
            _stderr.print("中止しました。")
            sys.exit(1)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


def say(console: Console, label: str, *parts: str, style: str = "", indent: str = "  ") -> None:
    """Print ``label`` (in ``style``) and ``parts`` on lines of the console's width, broken
    only between parts, so that no value (a month, a count, a file name) is split."""
    safe = [safe_text(p) for p in (label, *parts)]  # no control character reaches the terminal
    for i, line in enumerate(fit_lines(safe, console.width, indent)):
        text = Text(line)
        if i == 0 and style:
            text.stylize(style, 0, len(label))
        console.print(text, soft_wrap=True, highlight=False)


def settings_or_exit(console: Console) -> Settings:
    """The environment's settings; a bad ``HENREI_*`` value ends the command (exit 2) with its
    Japanese message — the one loader of every command (``henrei``, ``henrei survey``, ``henrei users``)."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        console.print(f"[red]設定の誤り[/]: {escape(safe_text(exc))}", highlight=False)
        raise typer.Exit(2) from None
