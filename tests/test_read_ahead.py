"""The read-ahead (worker.reading.read_ahead): a small month's files are parsed while the CLI
imports the engine, and read_all then loads what was parsed — the same tables, the same
messages, the same limits. Real reader processes, no mocks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from worker.config import Settings
from worker.reading import RawTable, discover, read_ahead, read_all
from worker.reading.warmup import SMALL_INPUT_BYTES

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_receipts"


def _finished(files: list[Path]) -> None:
    """Wait until every file handed to the read-ahead is parsed."""
    for f in files:
        assert read_ahead._PENDING[f].done.wait(60)


def _copy_samples(tmp_path: Path) -> list[Path]:
    month = tmp_path / "month"
    shutil.copytree(SAMPLES / "2026-10", month)
    files, _ = discover([month])
    return files


def test_a_month_read_ahead_is_the_month_read_now(tmp_path: Path) -> None:
    files = _copy_samples(tmp_path)
    now, now_problems, now_described = read_all(files, Settings())
    assert read_ahead.start(Settings(), files) == len(files) == 3
    _finished(files)
    folders = [read_ahead._PENDING[f].folder for f in files]
    for f in files:  # what is loaded below can only come from the read-ahead
        f.unlink()
    ahead, ahead_problems, ahead_described = read_all(files, Settings())
    assert not now_problems and not ahead_problems and ahead_described == now_described
    assert [(t.kind, t.file, t.sheet, t.headers, t.skipped) for t in ahead] == [
        (t.kind, t.file, t.sheet, t.headers, t.skipped) for t in now
    ]
    for a, b in zip(ahead, now, strict=True):
        pd.testing.assert_frame_equal(a.frame, b.frame)
    assert not any(folder.exists() for folder in folders)  # each removed once loaded
    assert not read_ahead._PENDING


def test_a_bad_file_read_ahead_says_what_a_read_now_says(tmp_path: Path) -> None:
    files = _copy_samples(tmp_path)
    bad = files[0].with_name("壊れた.xlsx")
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    empty = files[0].with_name("空.csv")
    empty.write_bytes(b"")
    files, _ = discover([files[0].parent])
    now = read_all(files, Settings())
    assert read_ahead.start(Settings(), files) == len(files) == 5
    ahead = read_all(files, Settings())
    assert len(now[1]) == 2 and ahead[1] == now[1]  # the same files, the same Japanese messages
    assert [len(t.frame) for t in ahead[0]] == [len(t.frame) for t in now[0]]


def test_files_read_ahead_with_other_settings_are_read_again(tmp_path: Path) -> None:
    files = _copy_samples(tmp_path)
    strict = Settings(max_rows_per_table=10)
    limited = read_all(files, strict)
    assert len(limited[1]) == 3 and "上限（10行）" in limited[1][0].message  # the limit shows
    read_ahead.start(Settings(), files)
    _finished(files)
    tables, problems, described = read_all(files, strict)
    assert described == limited[2] and problems == limited[1]
    assert [len(t.frame) for t in tables] == [len(t.frame) for t in limited[0]]
    assert not read_ahead._PENDING


def test_big_inputs_are_not_read_ahead(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:
        fh.truncate(SMALL_INPUT_BYTES)
    assert read_ahead.start(Settings(), [tmp_path]) == 0
    assert not read_ahead._PENDING


def test_a_run_that_stops_before_reading_leaves_no_folder(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    code = (
        "import sys; from pathlib import Path; from worker.config import Settings; "
        "from worker.reading import read_ahead; "
        "sys.exit(0 if read_ahead.start(Settings(), [Path(sys.argv[1])]) == 3 else 1)"
    )
    env = {**os.environ, "TMPDIR": str(scratch)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(SAMPLES / "2026-10")], env=env, cwd=ROOT, timeout=120, check=False
    )
    assert done.returncode == 0
    assert not list(scratch.glob(".henrei-read-*"))


def test_each_file_is_handed_over_as_soon_as_read(tmp_path: Path) -> None:
    """``read_all(on_file=...)``: every file's tables once, in the caller's thread, before
    read_all returns; what the summary says of a file is taken before the hook may drop its rows."""
    import threading

    files = _copy_samples(tmp_path)
    expected = read_all(files, Settings())
    seen: list[tuple[str, int, bool]] = []

    def hook(file_tables: list[RawTable]) -> None:
        for t in file_tables:
            seen.append((t.file, len(t.frame), threading.current_thread() is threading.main_thread()))
            t.frame = t.frame.iloc[:0]  # as the engine's release does

    tables, problems, described = read_all(files, Settings(), on_file=hook)
    assert sorted(seen) == sorted((t.file, len(t.frame), True) for t in expected[0])
    assert described == expected[2] and problems == expected[1] == []
    assert [t.sheet for t in tables] == [t.sheet for t in expected[0]] and all(t.frame.empty for t in tables)
