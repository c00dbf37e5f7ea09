"""worker.reading.guard (pre-parse checks) and worker.reading.isolation (reader in a child process)."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import hostile
import pytest

from worker.reading import sheet_range, unsafe
from worker.reading.guard import Limits, UnsafeFileError, check_file, sheet_extents
from worker.reading.isolation import IsolatedFailure, run_isolated

GiB = 1024**3
MiB = 1024**2
#: generous address-space limit for targets that are not about memory: after fork the child
#: inherits the parent's address space, which is ~1.5 GB once pyarrow has been used
PLENTY = 16 * GiB


def refuse(path: Path, limits: Limits | None = None) -> UnsafeFileError:
    with pytest.raises(UnsafeFileError) as info:
        check_file(path, limits or Limits())
    return info.value


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile.good_xlsx(tmp_path_factory.mktemp("good"))


# ============================================================================ guard: passes


def test_good_workbook_passes(good: Path) -> None:
    check_file(good)
    [extent] = sheet_extents(good)
    assert (extent.max_row, extent.max_col) == (301, 5)
    assert extent.name == "レセプト一覧"


def test_lying_dimension_passes_and_the_scan_tells_the_truth(tmp_path: Path) -> None:
    path = hostile.lying_dimension_xlsx(tmp_path)
    check_file(path)
    [extent] = sheet_extents(path)
    assert extent.dimension == "A1:B2"
    assert (extent.max_row, extent.max_col) == (500, 2)


def test_prefixed_namespace_sheet_passes(tmp_path: Path) -> None:
    path = hostile.prefixed_xlsx(tmp_path)
    check_file(path)
    [extent] = sheet_extents(path)
    assert (extent.max_row, extent.max_col) == (50, 3)


def test_good_csv_and_xls_pass(tmp_path: Path) -> None:
    check_file(hostile.good_csv(tmp_path))
    check_file(hostile.ole_xls(tmp_path))


# ============================================================================ guard: refusals


def test_huge_dimension_is_refused_fast(tmp_path: Path) -> None:
    path = hostile.huge_dimension_xlsx(tmp_path)
    assert path.stat().st_size < 10 * 1024
    started = time.perf_counter()
    exc = refuse(path)
    assert time.perf_counter() - started < 0.5
    assert exc.kind == "sheet_range"
    assert "シートの範囲が異常に広い" in str(exc)
    assert "XFD1048576 まで" in str(exc)
    assert "シート「Sheet1」" in str(exc)


@pytest.mark.parametrize(
    ("ref", "refused"),
    [
        ("ALL59999", False),  # 1000 columns x 59,999 rows: just under 60 million cells
        ("ALL60001", True),  # just over 60 million cells
        ("ALM1", True),  # column 1001
        ("A1048576", False),  # Excel's last row, one column
        ("A1048577", True),  # beyond Excel's last row
    ],
)
def test_far_cells(tmp_path: Path, ref: str, refused: bool) -> None:
    path = hostile.far_cell_xlsx(tmp_path, ref)
    if refused:
        exc = refuse(path)
        assert exc.kind == "sheet_range"
    else:
        check_file(path)


def test_cells_without_references_are_counted(tmp_path: Path) -> None:
    # 1500 <c> elements without r in one row: no reference names column 1500, but calamine
    # places them in columns A..BER.
    exc = refuse(hostile.rowless_wide_xlsx(tmp_path))
    assert exc.kind == "sheet_range"
    assert "ALM2 まで" in str(exc)  # refused as soon as column 1001 is reached


@pytest.mark.parametrize("entry", [hostile.SHEET_ENTRY, "xl/sharedStrings.xml"])
def test_zip_bomb_with_lying_sizes_is_refused(tmp_path: Path, entry: str) -> None:
    path = hostile.zip_bomb_xlsx(tmp_path, entry=entry)
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None  # zipfile trusts the declared size and sees no problem
        assert zf.getinfo(entry).file_size == 4096
    started = time.perf_counter()
    exc = refuse(path)
    assert time.perf_counter() - started < 1.0
    assert exc.kind == "bomb"
    assert "圧縮されたデータが異常に大きく展開される" in str(exc)


def test_honest_high_ratio_entry_is_refused(tmp_path: Path) -> None:
    exc = refuse(hostile.ratio_bomb_xlsx(tmp_path))
    assert exc.kind == "bomb"
    assert "圧縮率" in str(exc)


def test_declared_total_over_limit_is_refused(good: Path) -> None:
    exc = refuse(good, Limits(max_uncompressed_bytes=10_000))
    assert exc.kind == "bomb"
    assert "上限" in str(exc)


def test_overlapping_entries_are_refused(tmp_path: Path) -> None:
    exc = refuse(hostile.overlapping_entries_xlsx(tmp_path))
    assert exc.kind == "bomb"


def test_truncated_file_is_refused(good: Path, tmp_path: Path) -> None:
    exc = refuse(hostile.truncated_xlsx(good, tmp_path))
    assert exc.kind == "corrupt"
    assert "壊れている" in str(exc)
    assert "途中で切れて" in str(exc)


def test_bitflipped_file_is_refused(good: Path, tmp_path: Path) -> None:
    path = hostile.bitflipped_xlsx(good, tmp_path)
    with zipfile.ZipFile(path) as zf:
        assert len(zf.infolist()) > 3  # the directory itself is intact
    exc = refuse(path)
    assert exc.kind == "corrupt"
    assert "壊れている" in str(exc)


def test_not_excel_is_refused(tmp_path: Path) -> None:
    exc = refuse(hostile.not_excel_xlsx(tmp_path))
    assert exc.kind == "not_excel"
    assert "Excelファイルとして開けません（壊れているか、別の形式です）" in str(exc)


def test_password_protected_or_renamed_xls_is_refused(tmp_path: Path) -> None:
    exc = refuse(hostile.ole_disguised_xlsx(tmp_path))
    assert exc.kind == "encrypted"
    assert "パスワード" in str(exc)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    for name in ("empty.xlsx", "empty.csv", "empty.xls"):
        exc = refuse(hostile.empty_file(tmp_path, name))
        assert exc.kind == "empty"
        assert "空" in str(exc)


def test_too_large_file_is_refused(good: Path) -> None:
    exc = refuse(good, Limits(max_file_bytes=5 * 1024))
    assert exc.kind == "too_large"
    assert re.fullmatch(r"ファイルが大きすぎます（\d+KB、上限5KB）。.*", str(exc))


def test_size_text_never_shows_a_file_equal_to_its_limit() -> None:
    assert unsafe.size_text(250 * MiB, up=True) == "250MB"
    assert unsafe.size_text(200 * MiB + 1, up=True) == "201MB"
    assert unsafe.size_text(200 * MiB, up=False) == "200MB"
    assert unsafe.size_text(2 * GiB, up=False) == "2GB"


def test_binary_and_utf16_csv_are_refused(tmp_path: Path) -> None:
    exc = refuse(hostile.binary_csv(tmp_path))
    assert exc.kind == "not_text"
    assert "文字ではないデータ" in str(exc)
    exc = refuse(hostile.utf16_csv(tmp_path))
    assert "UTF-16" in str(exc)


def test_xls_that_is_not_ole_is_refused(tmp_path: Path, good: Path) -> None:
    exc = refuse(hostile.fake_xls(tmp_path))
    assert exc.kind == "not_excel"
    assert "HTML" in str(exc)
    renamed = tmp_path / "renamed.xls"
    renamed.write_bytes(good.read_bytes())
    assert ".xlsx" in str(refuse(renamed))


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        check_file(tmp_path / "nope.xlsx")


@pytest.mark.slow
def test_scan_speed_100k_rows_by_20_columns(tmp_path: Path) -> None:
    path = hostile.large_xlsx(tmp_path, 100_000, 20)  # ~77 MB of sheet XML
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        check_file(path)
        timings.append(time.perf_counter() - started)
    [extent] = sheet_extents(path)
    assert (extent.max_row, extent.max_col) == (100_000, 20)
    print(f"\nguard on 100k x 20 ({path.stat().st_size / MiB:.1f} MB): " + ", ".join(f"{t:.3f}s" for t in timings))
    assert min(timings) < 1.0


# ============================================================================ guard: the scanners


def _random_sheet(rng: random.Random, prefix: str) -> bytes:
    p = prefix + ":" if prefix else ""
    rows = []
    numbers = sorted(rng.sample(range(1, 5000), rng.randint(0, 40)))
    if rng.random() < 0.3:
        rng.shuffle(numbers)
    for r in numbers:
        cells = []
        for _ in range(rng.randint(0, 10)):
            col = rng.randint(1, 900) if rng.random() < 0.1 else rng.randint(1, 30)
            row = r if rng.random() < 0.9 else rng.randint(1, 9000)
            ref = hostile.column_letters(col) + str(row)
            ref = ref.lower() if rng.random() < 0.05 else ref
            if rng.random() < 0.1:
                cells.append(f'<{p}c r="{ref}" s="1"/>')
            else:
                cells.append(f'<{p}c r="{ref}" t="n"><{p}v>{row}</{p}v></{p}c>')
        rows.append(f'<{p}row r="{r}" spans="1:3">{"".join(cells)}</{p}row>')
    ns = f'xmlns{":" + prefix if prefix else ""}="{hostile.MAIN_NS}"'
    return (
        f'<?xml version="1.0"?>\n<{p}worksheet {ns}><{p}sheetData>{"".join(rows)}</{p}sheetData></{p}worksheet>'
    ).encode()


def _truth(xml: bytes) -> tuple[int, int]:
    max_row = max_col = 0
    for m in re.finditer(rb'<(?:\w+:)?c r="([A-Za-z]+)(\d+)"[^>]*?(/?)>', xml):
        if not m.group(3):
            row, col = sheet_range._ref_position(m.group(1), m.group(2))
            max_row, max_col = max(max_row, row), max(max_col, col)
    return max_row, max_col


def _scan(scanner: sheet_range._FastScanner | sheet_range._ExactScanner, xml: bytes, rng: random.Random) -> None:
    i = 0
    while i < len(xml):
        n = rng.choice([1, 3, 7, 64, 200, 5000, 1 << 20])
        scanner.feed(xml[i : i + n])
        i += n
    scanner.feed(b"", final=True)


def test_fast_and_exact_scans_agree_at_any_chunking() -> None:
    rng = random.Random(20240401)
    unlimited = Limits(max_columns=10**9, max_rows=10**12, max_cells=10**18)
    for _ in range(300):
        prefix = rng.choice(["", "", "x"])
        xml = _random_sheet(rng, prefix)
        fast_check = sheet_range._RangeCheck("s", unlimited)
        _scan(sheet_range._FastScanner(fast_check, prefix.encode()), xml, rng)
        exact_check = sheet_range._RangeCheck("s", unlimited)
        _scan(sheet_range._ExactScanner(exact_check), xml, rng)
        expected = _truth(xml)
        assert (fast_check.max_row, fast_check.max_col) == expected
        assert (exact_check.max_row, exact_check.max_col) == expected


def _odd_cell(rng: random.Random, ref: str | None, value: int) -> str:
    attrs = ['t="n"'] if rng.random() < 0.5 else []
    if ref is not None:
        quote, space = rng.choice(['"', "'"]), rng.choice(["", " ", "\n"])
        attrs.append(f"r{space}={space}{quote}{ref}{quote}")
    rng.shuffle(attrs)
    sep = rng.choice([" ", "\n", "\t"])
    return f"<c{''.join(sep + a for a in attrs)}><v>{value}</v></c>"


def test_exact_scan_matches_calamine_on_unusual_spellings(tmp_path: Path) -> None:
    """Cells/rows without r, r not first, odd quoting, empty <c/> and <row/>: the extent the
    guard computes is the one python-calamine actually builds."""
    from python_calamine import CalamineWorkbook

    rng = random.Random(7)
    unlimited = Limits(max_columns=10**6, max_cells=10**15)
    for n in range(40):
        rows, r = [], 0
        for _ in range(rng.randint(1, 15)):
            r += rng.randint(1, 20)
            cells, col = [], 0
            for _ in range(rng.randint(1, 8)):
                if rng.random() < 0.5:
                    col = rng.randint(1, 60)
                    row = r if rng.random() < 0.9 else rng.randint(1, 400)
                    cells.append(_odd_cell(rng, f"{hostile.column_letters(col)}{row}", n))
                else:
                    cells.append(_odd_cell(rng, None, n))
                if rng.random() < 0.1:
                    empty = f'<c r="{hostile.column_letters(col + 5)}9" s="1"/>'
                    cells.append(rng.choice(["<c/>", empty]))
            start = f'<row r="{r}">' if rng.random() < 0.6 else "<row>"
            rows.append(start + "".join(cells) + "</row>")
            if rng.random() < 0.1:
                rows.append(rng.choice(["<row/>", f'<row r="{r + 2}"/>']))
        path = hostile.write_workbook(tmp_path / f"odd{n}.xlsx", hostile.sheet_xml(rows, "A1"))
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        end = sheet.end
        expected = (end[0] + 1, end[1] + 1) if end is not None and sheet.height else (0, 0)
        [extent] = sheet_extents(path, unlimited)
        assert (extent.max_row, extent.max_col) == expected, rows


def test_greater_than_patterns() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        value = rng.randint(1, 2_000_000)
        rx = re.compile(sheet_range._number_greater(value))
        for n in (value - 1, value, value + 1, value * 10, value // 10, rng.randint(1, 3_000_000)):
            if n >= 1:
                assert (rx.match(str(n)) is not None) == (n > value), (value, n)
    for col in [*range(1, 800), *rng.sample(range(800, 16_385), 300)]:
        rx = re.compile(sheet_range._letters_greater_same_length(col))
        for other in (col - 1, col, col + 1):
            letters = hostile.column_letters(other)
            if other >= 1 and len(letters) == len(hostile.column_letters(col)):
                assert (rx.match(letters) is not None) == (other > col)
                assert (rx.match(letters.lower()) is not None) == (other > col)


# ============================================================================ isolation


def _ok(src: str, out: str) -> None:
    Path(out).write_text(f"read {src}", encoding="utf-8")


def _abort(src: str, out: str) -> None:
    os.abort()


def _allocate_2gb(src: str, out: str) -> None:
    block = bytearray(2 * GiB)
    block[-1] = 1


def _sleep_forever(src: str, out: str) -> None:
    Path(out).write_text(str(os.getpid()))
    time.sleep(600)


def _raise_value_error(src: str, out: str) -> None:
    raise ValueError("x")


JAPANESE_ERROR = "文字コードを判別できません（UTF-8 または Shift_JIS/CP932 で保存してください）"


def _raise_japanese(src: str, out: str) -> None:
    from worker.reading.extract import UnreadableInputError

    raise UnreadableInputError(JAPANESE_ERROR)


def _raise_japanese_library_text(src: str, out: str) -> None:
    raise ValueError(f"bad cell {JAPANESE_ERROR[:5]} /tmp/山田太郎.xlsx")


def _spawn_grandchild_and_hang(src: str, out: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    Path(out).write_text(f"{os.getpid()} {child.pid}")
    time.sleep(600)


def _calamine_read(src: str, out: str) -> None:
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(src).get_sheet_by_index(0)
    Path(out).write_text(str(len(sheet.to_python())))


def _isolated_failure(
    target: Callable[[str, str], None],
    tmp_path: Path,
    *,
    memory_bytes: int = PLENTY,
    timeout_s: float = 30.0,
    src: str = "src",
) -> IsolatedFailure:
    with pytest.raises(IsolatedFailure) as info:
        run_isolated(target, src, str(tmp_path / "out"), memory_bytes=memory_bytes, timeout_s=timeout_s)
    return info.value


def _assert_gone(pid: int) -> None:
    """``pid`` is neither running nor an unreaped child of ours."""
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return
    assert state in ("Z", "X"), f"process {pid} still alive ({state})"


def test_good_target_writes_its_result(tmp_path: Path) -> None:
    out = tmp_path / "result.txt"
    run_isolated(_ok, "a.xlsx", str(out), memory_bytes=PLENTY, timeout_s=30)
    assert out.read_text(encoding="utf-8") == "read a.xlsx"


def test_abort_is_reported_as_crashed(tmp_path: Path) -> None:
    exc = _isolated_failure(_abort, tmp_path)
    assert exc.reason == "crashed"
    assert "SIGABRT" in str(exc)
    assert "異常終了" in str(exc)


def test_runaway_allocation_is_stopped(tmp_path: Path) -> None:
    exc = _isolated_failure(_allocate_2gb, tmp_path, memory_bytes=512 * MiB)
    assert exc.reason in ("memory", "crashed")
    assert exc.reason == "memory"  # MemoryError under RLIMIT_AS
    assert "メモリ" in str(exc)


def test_hang_is_killed_at_the_timeout(tmp_path: Path) -> None:
    started = time.monotonic()
    exc = _isolated_failure(_sleep_forever, tmp_path, timeout_s=1.0)
    elapsed = time.monotonic() - started
    assert exc.reason == "timeout"
    assert "制限時間（1秒）" in str(exc)
    assert 1.0 <= elapsed < 3.0
    _assert_gone(int((tmp_path / "out").read_text()))


def test_grandchildren_are_killed_with_the_child(tmp_path: Path) -> None:
    exc = _isolated_failure(_spawn_grandchild_and_hang, tmp_path, timeout_s=2.0)
    assert exc.reason == "timeout"
    child, grandchild = map(int, (tmp_path / "out").read_text().split())
    _assert_gone(child)
    time.sleep(0.1)
    _assert_gone(grandchild)


def test_exception_comes_back_with_type_and_text(tmp_path: Path) -> None:
    exc = _isolated_failure(_raise_value_error, tmp_path)
    assert exc.reason == "error"
    assert exc.exc_type == "ValueError"
    assert "ValueError: x" in exc.detail  # type and text for the developer log (issue 12) ...
    assert "ValueError" not in str(exc)  # ... never for the clerk
    assert str(exc).startswith("ファイルを読み込めませんでした") and "ください" in str(exc)
    assert "_raise_value_error" in exc.detail  # the traceback, for logs


def test_japanese_exception_text_is_shown_as_is(tmp_path: Path) -> None:
    exc = _isolated_failure(_raise_japanese, tmp_path)
    assert exc.reason == "error"
    assert str(exc) == "ファイルを読み込めませんでした：" + JAPANESE_ERROR


def test_a_library_error_with_japanese_in_it_is_not_shown(tmp_path: Path) -> None:
    """Japanese inside a library's text (a path, a cell) does not make it ours (issue 12)."""
    exc = _isolated_failure(_raise_japanese_library_text, tmp_path)
    assert "山田" not in str(exc) and "bad cell" not in str(exc) and "ください" in str(exc)


def test_works_from_a_worker_thread(tmp_path: Path) -> None:
    outcome: list[object] = []

    def work() -> None:
        run_isolated(_ok, "t", str(tmp_path / "t.txt"), memory_bytes=PLENTY, timeout_s=30)
        try:
            run_isolated(_abort, "t", str(tmp_path / "u"), memory_bytes=PLENTY, timeout_s=30)
        except IsolatedFailure as exc:
            outcome.append(exc.reason)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert outcome == ["crashed"]
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "read t"


def test_calamine_abort_on_huge_dimension_is_contained(tmp_path: Path) -> None:
    """Without the guard: python-calamine allocates the 17-billion-cell grid and aborts the
    process. Inside run_isolated only the child dies."""
    import python_calamine  # noqa: F401 - loaded in the parent, so the child only allocates

    path = hostile.huge_dimension_xlsx(tmp_path)
    exc = _isolated_failure(_calamine_read, tmp_path, memory_bytes=1 * GiB, src=str(path))
    assert exc.reason in ("memory", "crashed")
    assert not (tmp_path / "out").exists()
    # and the parent is fine
    run_isolated(_ok, "after", str(tmp_path / "after.txt"), memory_bytes=PLENTY, timeout_s=30)
    assert (tmp_path / "after.txt").exists()


def test_isolation_overhead(tmp_path: Path) -> None:
    timings = []
    for i in range(10):
        started = time.perf_counter()
        run_isolated(_ok, "x", str(tmp_path / f"{i}.txt"), memory_bytes=PLENTY, timeout_s=30)
        timings.append(time.perf_counter() - started)
    print(
        f"\nrun_isolated overhead: min {min(timings) * 1000:.1f} ms, mean {sum(timings) / len(timings) * 1000:.1f} ms"
    )
    assert min(timings) < 0.5


def test_parent_signal_state_is_untouched(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    _isolated_failure(_abort, tmp_path)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
