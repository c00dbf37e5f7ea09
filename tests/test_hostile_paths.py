"""Hostile names and paths (issue 12, problems 2, 4 and 5), through ``henrei reconcile`` as
a clerk runs it (a real subprocess):

- a file name that is not UTF-8 (CP932 bytes, as unzipping a Windows zip leaves them) is
  read like any other, and shown with its undecodable bytes escaped;
- a device, a FIFO, a dangling link and a link to a folder named ``.xlsx`` in a folder
  given are reported with their reason (console, findings.json), never skipped in silence
  (a folder named ``.xlsx`` is walked into: its files are read);
- nothing printed to the terminal carries a control character (escape sequences in a file
  name or a cell value are shown escaped).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from worker.terminal import safe_name, safe_text

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts" / "2026-10"
#: a CP932 name with an escape sequence that would set the terminal's window title
HOSTILE = "受付".encode("cp932") + b"\x1b]0;owned\x07.csv"


def henrei(*args: str | bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *args],
        capture_output=True,
        timeout=300,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )


def _controls(data: bytes) -> set[int]:
    """The control bytes in ``data`` other than line breaks."""
    return {b for b in data if (b < 0x20 and b not in b"\n") or b == 0x7F}


def test_safe_text_escapes_controls_bidi_and_undecodable_bytes() -> None:
    assert safe_text("a\x1b]52;c;aGk=\x07b") == "a\\x1b]52;c;aGk=\\x07b"
    assert safe_text("\u202eC001\u200b") == "\\u202eC001\\u200b"
    assert safe_text("問題なし\r\x1b[2K") == "問題なし\\x0d\\x1b[2K"
    assert safe_name(os.fsdecode(b"\x8e\xf3.csv")) == "\\x8e\\xf3.csv"
    assert safe_text("さくら内科 C001") == "さくら内科 C001"


def test_a_non_utf8_name_is_read_and_shown_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for f in SAMPLES.iterdir():
        shutil.copy(f, folder / f.name)
    online = folder / "online_results_2026-10.csv"
    os.rename(online, os.path.join(os.fsencode(folder), HOSTILE))
    out = tmp_path / "out"
    r = henrei("reconcile", str(folder), "--out", str(out))
    assert b"Traceback" not in r.stderr, r.stderr.decode(errors="replace")
    assert r.returncode == 0, r.stdout.decode()
    summary = json.loads((out / "findings.json").read_text(encoding="utf-8"))["summary"]
    files = {f["path"]: f for f in summary["files"]}
    shown = "\\x8e\\xf3\\x95t\\x1b]0;owned\\x07.csv"
    assert files[shown]["status"] == "ok" and "325行" in files[shown]["tables"]
    assert (out / "corrections.xlsx").exists()
    assert not _controls(r.stdout) and not _controls(r.stderr)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_skipped_paths_are_reported_with_their_reason(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLES / "receipts_2026-10.xlsx", folder / "receipts_2026-10.xlsx")
    os.mkfifo(folder / "pipe.csv")
    (folder / "gone.xlsx").symlink_to(tmp_path / "nowhere.xlsx")
    (folder / "device.csv").symlink_to("/dev/null")
    (folder / "month.xlsx").mkdir()  # a folder named like a file: walked into, nothing to report
    shutil.copy(SAMPLES / "online_results_2026-10.csv", folder / "month.xlsx" / "online.csv")
    (tmp_path / "elsewhere").mkdir()
    (folder / "linked.xlsx").symlink_to(tmp_path / "elsewhere")  # a link to a folder: not walked into, said
    out = tmp_path / "out"
    r = henrei("reconcile", str(folder), "--out", str(out))
    stdout = r.stdout.decode()
    assert b"Traceback" not in r.stderr and r.returncode == 2, stdout
    summary = json.loads((out / "findings.json").read_text(encoding="utf-8"))["summary"]
    problems = {Path(f["path"]).name: f["message"] for f in summary["files"] if f["status"] != "ok"}
    assert "名前付きパイプ" in problems["pipe.csv"]
    assert "壊れたリンク" in problems["gone.xlsx"]
    assert "装置ファイル" in problems["device.csv"]
    assert "フォルダへのリンク" in problems["linked.xlsx"]
    assert "month.xlsx" not in problems
    for name in problems:
        assert name in stdout
    ok = {Path(f["path"]).name for f in summary["files"] if f["status"] == "ok"}
    assert ok == {"receipts_2026-10.xlsx", "online.csv"}  # the folder's file was still read


def test_escape_sequences_in_cells_never_reach_the_terminal(tmp_path: Path) -> None:
    """A faked 「問題なし」: a cell that erases the line and writes the clipboard (OSC 52)."""
    csv = tmp_path / "receipts.csv"
    evil = "\x1b[2K\x1b[1A問題なし\x1b]52;c;ZXZpbA==\x07"
    csv.write_text(
        f"患者ID,診療年月,氏名,生年月日,保険者番号,負担割合,合計点数\n1,2026-10,山田,{evil},06130017,3割,100\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    r = henrei("reconcile", str(csv), "--out", str(out))
    assert b"Traceback" not in r.stderr
    assert "読み取れない値" in r.stdout.decode() and "\\x1b]52" in r.stdout.decode()
    assert not _controls(r.stdout) and not _controls(r.stderr)


def test_a_column_wrong_throughout_gives_a_capped_list_and_one_count(tmp_path: Path) -> None:
    """250 unreadable birth dates in one column: the first 100 findings and one saying how
    many more, not 250 (a 3-million-row file would write gigabytes of findings)."""
    from worker.config import Settings
    from worker.engine import read_inputs

    csv = tmp_path / "receipts.csv"
    rows = "".join(f"{i},2026-10,山田,不明{i},06130017,3割,100\n" for i in range(1, 251))
    csv.write_text("患者ID,診療年月,氏名,生年月日,保険者番号,負担割合,合計点数\n" + rows, encoding="utf-8")
    f = read_inputs([csv], Settings()).input_findings
    births = f[f["rule_id"] == "input_invalid.birth_date"]
    assert len(births) == 101
    [summary] = births[births["actual"].str.contains("ほかに")].to_dict("records")
    assert summary["actual"] == "「生年月日」列: ほかに 150件" and summary["row"] == 102
    assert "最初の100件" in summary["message"] and summary["source_file"] == "receipts.csv"
