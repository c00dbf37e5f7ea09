"""Limits that bound a run (issue 12, problem 3): rows per table (enforced in the reader
child, which stops there), receipts per claim month, and the whole run's time."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import xlsxwriter

from worker.config import Settings
from worker.engine import read_inputs
from worker.reading.extract import _extract_rows
from worker.reading.unread import UnreadSheet

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts" / "2026-10"
HEADER = ["患者ID", "診療年月", "氏名", "保険者番号", "実日数", "合計点数"]


def _row(i: int) -> list[str]:
    return [f"P{i}", "2026-10", "山田 太郎", "06130011", "1", "300"]


def test_the_reader_stops_at_the_row_limit(tmp_path: Path) -> None:
    """An endless CSV: the reader must stop at the limit, not read on to the end."""

    def endless() -> Iterator[list[str]]:
        yield HEADER
        yield from (_row(i) for i in itertools.count())

    unread: list[UnreadSheet] = []
    assert _extract_rows(endless(), "", tmp_path, 0, unread, max_rows=1000) is None
    assert unread == [{"sheet": "", "rows": None, "reason": "too_many_rows", "limit": 1000}]
    assert not (tmp_path / "table0.arrow").exists()


def test_a_table_over_the_limit_is_refused_and_the_others_run(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_text("\n".join(",".join(r) for r in [HEADER, *(_row(i) for i in range(11))]), encoding="utf-8")
    book = tmp_path / "two.xlsx"
    wb = xlsxwriter.Workbook(str(book))
    for name, n in (("少ない", 3), ("多い", 11)):
        ws = wb.add_worksheet(name)
        for r, row in enumerate([HEADER, *(_row(i) for i in range(n))]):
            for c, v in enumerate(row):
                ws.write_string(r, c, v)
    wb.close()
    small = [HEADER, *(_row(i) for i in range(100, 104))]
    (tmp_path / "small.csv").write_text("\n".join(",".join(r) for r in small), encoding="utf-8")
    info = read_inputs([tmp_path], Settings(max_rows_per_table=10)).info
    files = {f.path: f for f in info.files}
    (problem,) = info.problems
    assert problem.file == "big.csv" and "10行" in problem.message and "分けて" in problem.message
    assert files["two.xlsx"].status == "partial" and files["two.xlsx"].half_read
    assert "シート「多い」" in files["two.xlsx"].message and "上限（10行）" in files["two.xlsx"].message
    assert info.receipts == 3 + 4 and files["small.csv"].status == "ok"  # the others still run


def test_a_month_over_the_limit_is_refused(tmp_path: Path) -> None:
    rows = [
        HEADER,
        *(_row(i) for i in range(6)),
        *([f"Q{i}", "2026-09", "佐藤", "06130011", "1", "300"] for i in range(2)),
    ]
    (tmp_path / "r.csv").write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    inputs = read_inputs([tmp_path], Settings(max_rows_per_month=5))
    receipts = inputs.tables["receipts"]
    assert sorted(receipts["claim_month"].dt.strftime("%Y-%m").unique()) == ["2026-09"]
    (warning,) = [w for w in inputs.info.warnings if w.months == ("2026-10",)]
    assert "2026-10" in warning.message and "上限（5件）" in warning.message and "分けて" in warning.message
    assert inputs.info.receipts == 2


def test_a_run_over_its_time_ends_with_a_message_and_exit_2(tmp_path: Path) -> None:
    """The whole run's limit (HENREI_RUN_TIMEOUT_S) through ``henrei reconcile``; nothing is
    written. 100,000 receipts take several seconds to read and check (here ~10 s)."""
    big = tmp_path / "big.csv"
    big.write_text("\n".join(",".join(r) for r in [HEADER, *(_row(i) for i in range(100_000))]), encoding="utf-8")
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "worker.cli", "reconcile", str(SAMPLES), str(big), "--out", str(out)],
        capture_output=True,
        timeout=300,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HENREI_RUN_TIMEOUT_S": "1"},
    )
    console = r.stdout.decode() + r.stderr.decode()
    assert r.returncode == 2, console
    assert "制限時間（1秒）" in console and "Traceback" not in console
    assert not (out / "corrections.xlsx").exists() and not (out / "findings.json").exists()
    assert not out.exists() or not list(out.iterdir())
