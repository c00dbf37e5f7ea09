"""worker.config: one typed Settings object for every HENREI_* variable, loud on bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from worker.config import Settings, SettingsError, settings_table

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_and_values_from_the_environment(tmp_path: Path) -> None:
    s = Settings.from_env({"HENREI_READER_PROCESSES": " 4 ", "HENREI_DEFER_S": "0.5", "HENREI_DATA_DIR": str(tmp_path)})
    assert (s.reader_processes, s.defer_s, s.data_dir) == (4, 0.5, tmp_path)
    assert s.database_url == f"sqlite:///{tmp_path / 'henrei.db'}" and s.drop_root == tmp_path / "drop"
    assert Settings.from_env({}) == Settings()
    assert Settings(sweep_stale_s=2).sweep_stale == timedelta(seconds=2)


@pytest.mark.parametrize(
    ("name", "value", "accepts"),
    [
        ("HENREI_READER_PROCESSES", "two", "1以上の整数"),
        ("HENREI_READER_PROCESSES", "0", "1以上の整数"),
        ("HENREI_MAX_FILE_MB", "1.5", "1以上の整数"),
        ("HENREI_DEFER_S", "-1", "0以上の数"),
        ("HENREI_SWEEP_EVERY_S", "nan", "1以上の数"),
        ("HENREI_FAULT_KILL_STAGE", "later", "reconcile, part or combine"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_accepts(name: str, value: str, accepts: str) -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env({name: value})
    assert name in str(err.value) and f"「{value}」" in str(err.value) and accepts in str(err.value)


def test_a_misspelt_name_is_refused_and_the_same_checks_apply_in_code() -> None:
    with pytest.raises(SettingsError, match="HENREI_SPLIT_RECIEPTS はありません"):
        Settings.from_env({"HENREI_SPLIT_RECIEPTS": "1000"})
    assert Settings.from_env({"HENREI_TEST_PG_URL": "x", "HENREI_BENCH_CODE": "y"}) == Settings()  # reserved
    with pytest.raises(SettingsError, match="HENREI_SPLIT_PARTS"):
        Settings(split_parts=0)


def test_the_readme_table_is_rendered_from_the_settings() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = readme.index("<!-- settings:start -->\n"), readme.index("<!-- settings:end -->")
    shown = readme[start + len("<!-- settings:start -->\n") : end].strip()
    assert shown == settings_table(), "README's settings table is stale: paste `python -m worker.config` there"


def test_a_command_with_a_bad_setting_stops_with_the_message(tmp_path: Path) -> None:
    env = {**os.environ, "HENREI_READER_TIMEOUT_S": "soon"}
    out = subprocess.run(
        [sys.executable, "-m", "worker.cli", "reconcile", str(ROOT / "sample_receipts"), "--out", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2
    assert "HENREI_READER_TIMEOUT_S" in out.stdout and "「soon」" in out.stdout
    assert not (tmp_path / "corrections.xlsx").exists()
    worker = subprocess.run(
        [sys.executable, "-c", "import worker.jobs.celery_app"], env=env, capture_output=True, text=True, timeout=60
    )
    assert worker.returncode == 1 and "HENREI_READER_TIMEOUT_S" in worker.stderr
