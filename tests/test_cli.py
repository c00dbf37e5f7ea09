"""The ``henrei`` command as a clerk runs it (a real subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import hostile

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"


def henrei(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def test_reconcile_samples_exit_0_and_outputs(tmp_path: Path) -> None:
    res = henrei("reconcile", str(SAMPLES / "2026-10"), "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "照合結果" in res.stdout and "請求した負担割合の誤り" in res.stdout
    data = json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))
    assert data["findings"] and (tmp_path / "corrections.xlsx").exists()
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(["corrections.xlsx", "findings.json", "保険者照会票.xlsx", "窓口精算リスト.xlsx"])
    listed = res.stdout[res.stdout.index("出力:") :]
    assert all(name in listed for name in written)  # every file written is named on the console


def test_broken_file_among_good_ones_exit_2_named(tmp_path: Path) -> None:
    month = tmp_path / "month"
    shutil.copytree(SAMPLES / "2026-10", month)
    bad = hostile.huge_dimension_xlsx(month)
    res = henrei("reconcile", str(month), "--out", str(tmp_path / "out"))
    assert res.returncode == 2
    assert bad.name in res.stdout and "Traceback" not in res.stdout + res.stderr
    assert (tmp_path / "out" / "corrections.xlsx").exists()  # the good files were processed


def test_missing_path_is_a_clear_message(tmp_path: Path) -> None:
    res = henrei("reconcile", str(tmp_path / "nothing-here.xlsx"), "--out", str(tmp_path / "out"))
    assert res.returncode == 2
    assert "見つかりません" in res.stdout and "Traceback" not in res.stdout + res.stderr


def test_bad_values_are_named_by_file_sheet_row_column(tmp_path: Path) -> None:
    res = henrei("reconcile", str(SAMPLES / "2026-10"), "--out", str(tmp_path))
    line = next(x for x in res.stdout.splitlines() if "令和99年13月40日" in x)
    assert "receipts_2026-10.xlsx" in line and "社保・後期" in line and "行目" in line and "生年月日" in line


def test_demo_runs(tmp_path: Path) -> None:
    res = henrei("demo", "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "corrections.xlsx").exists()


def test_the_command_ends_quickly_and_leaves_nothing_behind(tmp_path: Path) -> None:
    """``henrei`` ends with os._exit after the exit handlers (worker.cli.main): the exit code
    is the command's, every line is printed, no reader process and no scratch folder stays."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "reconcile", str(SAMPLES), "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "TMPDIR": str(scratch)},
        start_new_session=True,  # its own session: whatever it started is found by the session ID
    )
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert out.rstrip().endswith("窓口精算リスト.xlsx")  # the last line reached the pipe
    for _ in range(50):  # the readers die with their parent (PR_SET_PDEATHSIG): give them a moment
        left = subprocess.run(["ps", "-o", "pid=", "-s", str(proc.pid)], capture_output=True, text=True).stdout
        if not left.strip():
            break
        time.sleep(0.1)
    assert not left.strip()
    assert not list(scratch.glob(".henrei-*"))
    bad = henrei("reconcile", str(tmp_path / "missing"), "--out", str(tmp_path / "out2"))
    assert bad.returncode == 2 and "見つかりません" in bad.stdout
