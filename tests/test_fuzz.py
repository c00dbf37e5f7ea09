"""Fuzz (issue 12, item 8): malformed CSVs and workbooks beside a good file, property-based
(hypothesis). Whatever the bad file holds: no exception, the good file fully read, and the
bad one either read or refused with a Japanese message. A few dozen cases per CI run; a
long run: ``HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/test_fuzz.py`` (10,000 cases each).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.config import Settings
from worker.engine import read_inputs

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts" / "2026-10"
GOOD = SAMPLES / "online_results_2026-10.csv"
GOOD_ROWS = 325
CASES = 10_000 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 20
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
XLSX = (SAMPLES / "card_records_2026-10.xlsx").read_bytes()
CSV = GOOD.read_bytes()


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    b = bytearray(data if cut is None else data[: max(1, cut % len(data))])
    for pos, byte in edits:
        b[pos % len(b)] = byte
    return bytes(b)


def _check(bad: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        shutil.copy(GOOD, folder / "good.csv")
        (folder / f"bad{suffix}").write_bytes(bad)
        inputs = read_inputs([folder], Settings(reader_timeout_s=60))
        files = {f.path: f for f in inputs.info.files}
        assert files["good.csv"].status == "ok" and f"{GOOD_ROWS}行" in files["good.csv"].tables
        b = files[f"bad{suffix}"]
        assert b.status == "ok" or JAPANESE.search(b.message), b.message
        assert "Error" not in b.message and "Traceback" not in b.message, b.message


_edits = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=8)


@settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=_edits, cut=st.none() | st.integers(1, 1 << 20))
def test_a_mutated_csv_never_takes_the_run_down(edits: list[tuple[int, int]], cut: int | None) -> None:
    _check(_mutate(CSV, edits, cut), ".csv")


@settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=_edits, cut=st.none() | st.integers(1, 1 << 20))
def test_a_mutated_workbook_never_takes_the_run_down(edits: list[tuple[int, int]], cut: int | None) -> None:
    _check(_mutate(XLSX, edits, cut), ".xlsx")
