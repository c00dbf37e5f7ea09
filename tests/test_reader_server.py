"""The reader server (worker.reading.isolation_server): one pre-imported child reads file after
file, is replaced when it fails or dies, and never loads what the reader does not need.
Real child processes, no mocks."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from worker.reading import isolation_server
from worker.reading.extract import extract_tables
from worker.reading.isolation import IsolatedFailure, run_isolated
from worker.reading.warmup import READER_MODULE

PLENTY = 16 * 1024**3
SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"


def _pid(src: str, out: str) -> None:
    Path(out).write_text(str(os.getpid()))


def _abort(src: str, out: str) -> None:
    os.abort()


def _modules(src: str, out: str) -> None:
    """Read a real workbook as the reader does, then say which heavy modules are loaded."""
    extract_tables(src, out + ".d")
    loaded = sorted(m for m in ("pandas", "pyarrow", "fastexcel") if m in sys.modules)
    Path(out).write_text(" ".join(loaded))


def _run(target: object, tmp_path: Path, name: str, src: str = "src") -> str:
    out = tmp_path / name
    run_isolated(target, src, str(out), memory_bytes=PLENTY, timeout_s=60)  # type: ignore[arg-type]
    return out.read_text()


def test_one_server_reads_file_after_file(tmp_path: Path) -> None:
    isolation_server.close_idle()
    pids = {_run(_pid, tmp_path, f"{i}") for i in range(5)}
    assert len(pids) == 1 and int(pids.pop()) != os.getpid()


def test_a_failed_server_is_replaced(tmp_path: Path) -> None:
    isolation_server.close_idle()
    before = _run(_pid, tmp_path, "a")
    with pytest.raises(IsolatedFailure) as info:
        run_isolated(_abort, "x", str(tmp_path / "b"), memory_bytes=PLENTY, timeout_s=60)
    assert info.value.reason == "crashed" and "SIGABRT" in str(info.value)
    after = _run(_pid, tmp_path, "c")
    assert after != before
    with pytest.raises(ChildProcessError):  # the crashed one was reaped, not left a zombie
        os.waitpid(int(before), os.WNOHANG)


def test_a_server_killed_while_idle_is_replaced(tmp_path: Path) -> None:
    isolation_server.close_idle()
    first = int(_run(_pid, tmp_path, "a"))
    os.kill(first, signal.SIGKILL)
    time.sleep(0.2)
    second = int(_run(_pid, tmp_path, "b"))  # no failure blamed on the next file
    assert second != first


def test_a_server_is_retired_after_its_quota(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolation_server.close_idle()
    monkeypatch.setattr(isolation_server, "RETIRE_AFTER_FILES", 2)
    pids = [_run(_pid, tmp_path, f"{i}") for i in range(4)]
    assert pids[0] == pids[1] != pids[2] == pids[3]


def test_the_reader_never_loads_pandas(tmp_path: Path) -> None:
    """pyarrow would import pandas (~60 MB, 0.2-0.8 s) on the first pa.array(list); the
    server blocks it, and the reader works without it."""
    loaded = _run(_modules, tmp_path, "m", src=str(SAMPLES / "2026-10" / "receipts_2026-10.xlsx"))
    assert loaded.split() == ["fastexcel", "pyarrow"]
    assert (tmp_path / "m.d" / "manifest.json").exists()


def test_the_warmed_module_is_the_reader() -> None:
    from worker.reading import checked, parse

    reader = getattr(checked, parse.READER_FUNCTION)
    assert reader is checked.read_checked and reader.__module__ == READER_MODULE


def test_rows_keep_their_excel_numbers_when_the_sheet_starts_low_and_right(tmp_path: Path) -> None:
    """fastexcel reads from the sheet's first row (skip_rows=0): a table at C3 keeps Excel
    row numbers; a date-time cell keeps its time, a midnight one is its date alone."""
    from datetime import datetime

    import openpyxl

    from worker.config import Settings
    from worker.reading import read_all

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for col, header in enumerate(["照会日", "患者番号", "資格確認結果", "保険者番号", "負担割合"], start=3):
        ws.cell(row=3, column=col, value=header)
    ws.cell(row=5, column=3, value=datetime(2026, 10, 3, 9, 30))
    ws.cell(row=5, column=4, value="A1")
    ws.cell(row=6, column=3, value=datetime(2026, 10, 4))
    ws.cell(row=6, column=4, value="A2")
    ws.cell(row=6, column=6, value=1040013)
    path = tmp_path / "online.xlsx"
    wb.save(path)
    tables, problems, _ = read_all([path], Settings())
    assert not problems and len(tables) == 1
    frame = tables[0].frame
    assert frame["_row"].tolist() == [5, 6]
    assert frame["checked_on"].tolist() == ["2026-10-03 09:30:00", "2026-10-04"]
    assert frame["insurer_no"].tolist()[1] == "1040013"
    assert tables[0].skipped == {"blank": 1}


def test_small_inputs_are_read_by_one_reader(tmp_path: Path) -> None:
    from worker.config import Settings
    from worker.reading.warmup import SMALL_INPUT_BYTES, readers_for

    small = [tmp_path / f"{i}.xlsx" for i in range(3)]
    for p in small:
        p.write_bytes(b"x" * 1000)
    assert readers_for(Settings(reader_processes=2), small) == 1
    with (tmp_path / "big.xlsx").open("wb") as fh:
        fh.truncate(SMALL_INPUT_BYTES)
    assert readers_for(Settings(reader_processes=2), [*small, tmp_path / "big.xlsx"]) == 2
    assert readers_for(Settings(reader_processes=4), [tmp_path / "big.xlsx"]) == 1  # one file, one reader


def test_the_cli_starts_without_the_heavy_libraries() -> None:
    """``henrei`` loads the engine, the reports, the jobs and pandas only in the commands that
    use them (after ``reconcile`` started the readers): its own start stays ~0.1 s."""
    import subprocess

    code = (
        "import sys, worker.cli; "
        "print(' '.join(m for m in ('pandas', 'pyarrow', 'sqlalchemy', 'celery', 'xlsxwriter') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_big_files_are_read_alone_and_first(tmp_path: Path) -> None:
    """Two readers of big files side by side would double the run's peak memory: a big file
    waits for the others and holds them off; small files are read side by side."""
    import threading

    from worker.config import Settings
    from worker.reading.warmup import BIG_FILE_BYTES, ReadGate, read_order, readers_for

    files = []
    for name, size in [("s1.csv", 5 * 1024 * 1024), ("b1.xlsx", BIG_FILE_BYTES), ("s2.csv", 1000)]:
        with (tmp_path / name).open("wb") as fh:
            fh.truncate(size)  # sparse: costs no disk
        files.append(tmp_path / name)
    files.append(tmp_path / "b2.xlsx")
    with files[-1].open("wb") as fh:
        fh.truncate(2 * BIG_FILE_BYTES)
    assert [files[i].name for i in read_order(files)] == ["b2.xlsx", "b1.xlsx", "s1.csv", "s2.csv"]
    assert readers_for(Settings(reader_processes=4), files) == 2  # the two small ones
    assert readers_for(Settings(reader_processes=4), files[1:2]) == 1

    gate = ReadGate()
    lock = threading.Lock()
    now: list[str] = []
    seen: list[tuple[str, ...]] = []

    def read(path: Path) -> None:
        with gate.slot(path):
            with lock:
                now.append(path.name)
                seen.append(tuple(sorted(now)))
            time.sleep(0.05)
            with lock:
                now.remove(path.name)

    threads = [threading.Thread(target=read, args=(files[i],)) for i in [0, 2, 1, 3]]
    for t in threads:
        t.start()
        time.sleep(0.01)
    for t in threads:
        t.join()
    assert ("s1.csv", "s2.csv") in seen  # small ones side by side
    assert all(len(group) == 1 for group in seen if any(n.startswith("b") for n in group))
