"""Every ``HENREI_*`` setting in one typed object, read from the environment.

A bad value — or a ``HENREI_*`` name that is not a setting — stops the program with a
message naming the variable and what it accepts (:class:`SettingsError`); nothing falls
back to a default in silence. Settings are read when a command or a task starts. The README's
settings table is rendered from the fields here (``python -m worker.config``) and a test
checks that it matches.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

__all__ = ["Settings", "SettingsError", "settings_table"]

PREFIX: Final = "HENREI_"
#: names kept for the test suite and the benchmarks (HENREI_TEST_PG_URL, HENREI_BENCH_CODE)
RESERVED: Final = ("HENREI_TEST_", "HENREI_BENCH_")


class SettingsError(ValueError):
    """A ``HENREI_*`` variable with a value henrei cannot use (the message is for people)."""


def _setting(default: Any, doc: str, *, minimum: float | None = None, kind: str = "") -> Any:
    """A field read from ``HENREI_<NAME>``; ``kind`` is what the README and errors call it."""
    return field(default=default, metadata={"doc": doc, "minimum": minimum, "kind": kind})


@dataclass(frozen=True)
class Settings:
    """henrei's settings. ``Settings()`` has the defaults; ``Settings.from_env()`` reads
    ``HENREI_<FIELD NAME IN CAPITALS>`` for each field."""

    # reading
    max_file_mb: int = _setting(200, "largest input file accepted (MiB)", minimum=1)
    reader_memory_mb: int = _setting(8192, "address-space limit of one reader child process (MiB)", minimum=256)
    reader_timeout_s: float = _setting(900.0, "wall-clock limit of reading one file (s)", minimum=1)
    reader_processes: int = _setting(2, "files read at the same time", minimum=1)
    max_invalid_per_column: int = _setting(
        100, "unreadable-value findings kept per column per file; the rest are one finding with the count", minimum=1
    )
    max_rows_per_table: int = _setting(
        2_000_000,
        "data rows of one table (a sheet or a CSV); a larger table is refused with a message (the reader stops"
        " there), the other tables and files still run",
        minimum=1,
    )
    max_rows_per_month: int = _setting(
        2_000_000,
        "receipts of one claim month in a run; a month with more is refused with a message (not checked),"
        " the other months still run",
        minimum=1,
    )
    run_timeout_s: float = _setting(
        3000.0,
        "wall-clock limit of a whole run: reading, checks and writing (s); the CLI then ends with exit 2, a job"
        " fails with the same message; keep it below HENREI_TASK_TIME_LIMIT_S − 60",
        minimum=1,
    )
    # where things live
    data_dir: Path = _setting(Path("data"), "uploads, read cache, reports and the default SQLite database")
    database_url: str = _setting(
        "", "SQLAlchemy URL of the results database (empty: SQLite `<data_dir>/henrei.db`)", kind="URL"
    )
    broker_url: str = _setting("redis://localhost:6379/0", "Celery broker (Redis)", kind="URL")
    drop_dir: Path | None = _setting(None, "drop folders, one sub-folder per clinic (empty: `<data_dir>/drop`)")
    # the worker
    task_time_limit_s: int = _setting(3600, "hard time limit of one task (s); the soft limit is 60 s less", minimum=120)
    sweep_every_s: float = _setting(60.0, "how often `henrei beat` runs the sweeper (s)", minimum=1)
    sweep_stale_s: float = _setting(
        120.0,
        "a queued job with no message sent for this long is sent again (s): lower recovers sooner from a"
        " Redis restart, but sends more duplicate messages (skipped) for a long queue",
        minimum=1,
    )
    heartbeat_s: float = _setting(
        30.0, "a running job's heartbeat is refreshed this often by the process doing the work (s)", minimum=1
    )
    running_stale_s: float = _setting(
        90.0,
        "a running job without a heartbeat for this long lost its worker and is sent again (s); at least"
        " 2 × HENREI_HEARTBEAT_S (a busy database may delay a beat)",
        minimum=2,
    )
    defer_s: float = _setting(5.0, "a month's job waiting for its files or another run re-checks after (s)", minimum=0)
    max_defer_s: float = _setting(
        1800.0, "... but waits for files at most this long after it was queued (s)", minimum=0
    )
    drop_settle_s: float = _setting(60.0, "a drop file modified this recently waits for the next run (s)", minimum=0)
    split_receipts: int = _setting(200_000, "a month with this many receipts is split into parts", minimum=1)
    split_parts: int = _setting(4, "parts of a split month", minimum=1)
    # association surveys (worker.survey): opt-in per clinic
    survey_clinics: str = _setting(
        "", "TOML file of the clinics taking part in association surveys (empty: none)", kind="file"
    )
    survey_auto_export: str = _setting(
        "off",
        "on: after each month's reconcile of an opted-in clinic, its survey submission is written (survey_export job)",
        kind="on, off",
    )
    # the clerks' web page (henrei serve)
    web_host: str = _setting(
        "127.0.0.1", "address `henrei serve` listens on (0.0.0.0: the whole network)", kind="address"
    )
    web_port: int = _setting(8000, "port `henrei serve` listens on", minimum=1)
    web_https: str = _setting("off", "on: the page is served behind HTTPS (Secure cookies, HSTS)", kind="on, off")
    web_jobs: str = _setting(
        "auto",
        "where the page's jobs run: auto = Celery when the broker answers, else in-process",
        kind="auto, celery, inprocess",
    )
    web_job_threads: int = _setting(2, "in-process mode: jobs run at the same time", minimum=1)
    web_session_minutes: float = _setting(30.0, "a login ends after this long without a request (min)", minimum=0.05)
    web_lockout_failures: int = _setting(5, "wrong passwords in a row that lock a login", minimum=1)
    web_lockout_minutes: float = _setting(15.0, "how long a locked login stays locked (min)", minimum=1)
    # fault injection for the worker tests (never set in production)
    fault_kill_marker: str = _setting("", "tests only: kill the worker reconciling an upload whose name has this")
    fault_kill_attempts: int = _setting(1_000_000, "tests only: ... on its first N attempts", minimum=0)
    fault_kill_stage: str = _setting("reconcile", "tests only: ... at this stage", kind="reconcile, part or combine")
    fault_raise: str = _setting("", "tests only: raise an error instead of killing the process")
    fault_hang_s: float = _setting(0.0, "tests only: sleep this long instead of killing the process (s)", minimum=0)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # the same checks for Settings(...) as for the environment
            _check(f, getattr(self, f.name))
        if self.running_stale_s < 2 * self.heartbeat_s:
            raise SettingsError(
                f"設定 HENREI_RUNNING_STALE_S（{self.running_stale_s:g}）は HENREI_HEARTBEAT_S（{self.heartbeat_s:g}）"
                "の2倍以上にしてください（動いている処理を止まったとみなさないためです）。"
            )
        # absolute, so that every process (whatever its cwd) finds the same files
        object.__setattr__(self, "data_dir", Path(self.data_dir).expanduser().absolute())
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'henrei.db'}")
        if self.drop_dir is None:
            object.__setattr__(self, "drop_dir", self.data_dir / "drop")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings of the environment; raises :class:`SettingsError` on a bad value or
        an unknown ``HENREI_*`` name (a misspelt setting must not be ignored in silence)."""
        env = os.environ if environ is None else environ
        known = {env_name(f.name): f for f in dataclasses.fields(cls)}
        unknown = sorted(k for k in env if k.startswith(PREFIX) and k not in known and not k.startswith(RESERVED))
        if unknown:
            raise SettingsError(
                f"設定 {unknown[0]} はありません。名前を確認してください（使える設定: {', '.join(sorted(known))}）。"
            )
        values: dict[str, Any] = {}
        for name, f in known.items():
            raw = env.get(name, "").strip()
            if raw:
                values[f.name] = _parse(f, raw)
                try:
                    _check(f, values[f.name])
                except SettingsError:
                    raise SettingsError(_message(f, raw)) from None  # quote the text as it was set
        return cls(**values)

    # derived durations, as the job code uses them
    @property
    def sweep_stale(self) -> timedelta:
        return timedelta(seconds=self.sweep_stale_s)

    @property
    def running_stale(self) -> timedelta:
        return timedelta(seconds=self.running_stale_s)

    @property
    def max_defer(self) -> timedelta:
        return timedelta(seconds=self.max_defer_s)

    @property
    def drop_root(self) -> Path:
        assert self.drop_dir is not None  # set in __post_init__
        return self.drop_dir


def env_name(field_name: str) -> str:
    return PREFIX + field_name.upper()


def _field(name: str) -> dataclasses.Field[Any]:
    return next(f for f in dataclasses.fields(Settings) if f.name == name)


def _type_name(f: dataclasses.Field[Any]) -> str:
    return str(f.type).replace(" | None", "")


def _accepts(f: dataclasses.Field[Any]) -> str:
    """What the variable accepts, in Japanese (for the error message)."""
    minimum, kind, typ = f.metadata["minimum"], f.metadata["kind"], _type_name(f)
    if typ == "int":
        return f"{minimum:g}以上の整数" if minimum is not None else "整数"
    if typ == "float":
        return f"{minimum:g}以上の数" if minimum is not None else "数"
    if typ == "Path":
        return "フォルダのパス"
    return kind or "文字列"


def _message(f: dataclasses.Field[Any], raw: object) -> str:
    default = "なし" if f.default in (None, "") else str(f.default)
    return (
        f"設定 {env_name(f.name)} の値「{raw}」は使えません。{_accepts(f)}を指定してください"
        f"（{f.metadata['doc']}; 既定値 {default}）。"
    )


def _check(f: dataclasses.Field[Any], value: Any) -> None:
    """Raise :class:`SettingsError` when ``value`` is outside what field ``f`` accepts."""
    minimum, kind = f.metadata["minimum"], f.metadata["kind"]
    if minimum is not None and value < minimum:
        raise SettingsError(_message(f, value))
    if "," in kind and value not in [k.strip() for k in kind.replace(" or ", ",").split(",")]:
        raise SettingsError(_message(f, value))  # one of a few words, e.g. "reconcile, part or combine"


def _parse(f: dataclasses.Field[Any], raw: str) -> Any:
    typ = _type_name(f)
    try:
        if typ == "int":
            return int(raw)
        if typ == "float":
            value = float(raw)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(raw)
            return value
    except ValueError:
        raise SettingsError(_message(f, raw)) from None
    return Path(raw) if typ == "Path" else raw


def settings_table() -> str:
    """The README's table of settings (Markdown), one row per field."""
    rows = ["| variable | default | accepts | what it sets |", "|---|---|---|---|"]
    for f in dataclasses.fields(Settings):
        default = f.default if f.default not in (None, "") else ""
        typ = _type_name(f)
        accepts = {"int": "whole number", "float": "number", "Path": "folder"}.get(typ, f.metadata["kind"] or "text")
        if f.metadata["minimum"] is not None:
            accepts += f" ≥ {f.metadata['minimum']:g}"
        rows.append(
            f"| `{env_name(f.name)}` | {f'`{default}`' if default != '' else '—'} | {accepts} | {f.metadata['doc']} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
