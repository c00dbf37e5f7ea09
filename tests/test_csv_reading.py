"""CSV bodies are read by pyarrow.csv (``_extract_csv``), the head by Python's module; a
body pyarrow would not take as it is falls back to Python's reader, never drops a line.

Each check compares the pyarrow path with Python's reader (``_extract_rows``, the path every
CSV took before) on the same text, and the skipped-rows fixture runs as an export whose
rows all have the table's width (as Excel writes a CSV), which pyarrow reads.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from tests.test_skipped_rows import CASES, HEADERS, Case
from worker.reading.csv_body import csv_body
from worker.reading.extract import _decode_csv, _extract_rows, extract_tables


def _tables(out: Path) -> list[tuple[dict[str, object], pa.Table]]:
    manifest = json.loads((out / "manifest.json").read_text())
    found = []
    for t in manifest["tables"]:
        with pa.memory_map(str(out / t["file"])) as source:
            found.append((t, ipc.open_file(source).read_all()))
    return found


def _both(path: Path, tmp_path: Path) -> tuple[list[tuple[dict[str, object], pa.Table]], ...]:
    """The file read by ``extract_tables`` and by Python's reader alone."""
    extract_tables(str(path), str(tmp_path / "arrow"))
    (tmp_path / "python").mkdir()
    text = _decode_csv(path.read_bytes())
    info = _extract_rows(iter(csv.reader(io.StringIO(text, newline=""))), "", tmp_path / "python", 0, [])
    python = []
    if info:
        with pa.memory_map(str(tmp_path / "python" / "table0.arrow")) as source:
            python.append((info, ipc.open_file(source).read_all()))
    return _tables(tmp_path / "arrow"), python


def _padded(rows: list[list[str]]) -> list[list[str]]:
    width = max(len(r) for r in rows)
    return [[*r, *([""] * (width - len(r)))] for r in rows]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_skipped_rows_of_an_export_of_even_width(case: Case, tmp_path: Path) -> None:
    rows = _padded(case.cells(HEADERS))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    assert csv_body(buffer.getvalue(), len(rows[0])) is not None  # pyarrow takes it
    path = tmp_path / "sheet.csv"
    path.write_bytes(buffer.getvalue().encode("cp932"))
    arrow, python = _both(path, tmp_path)
    assert [t["kind"] for t, _ in arrow] == [case.kind]
    assert arrow[0][1].column("_row").to_pylist() == case.kept
    assert arrow[0][0]["skipped"] == case.skipped
    assert arrow[0][1].equals(python[0][1]) and arrow[0][0] == python[0][0]


HEADER = "患者番号,照会日,資格有効性,保険者番号,記号,番号,枝番,一部負担金割合"


@pytest.mark.parametrize("encoding", ["cp932", "utf-8-sig", "utf-8"])
def test_values_come_through_as_text_exactly(encoding: str, tmp_path: Path) -> None:
    body = [
        '000123,2026/10/01,1,01040013,"記号,A","0012",00,3割',
        ' 7 ,令和8年10月1日,有効, 6130 ,"改行\r\nあり","""引用""",,030',
        ",,,,,,,",  # blank within the table: counted
        "000124,2026-10-02 00:00:00,2,1040013,,１２３,  ,0.3",
        ",,,,,,,",  # blank below the table: not counted
    ]
    text = "オンライン資格確認結果 令和8年10月\r\n\r\n" + HEADER + "\r\n" + "\r\n".join(body) + "\r\n"
    path = tmp_path / "online.csv"
    path.write_bytes(text.encode(encoding))
    arrow, python = _both(path, tmp_path)
    assert arrow[0][1].equals(python[0][1]) and arrow[0][0] == python[0][0]
    table = arrow[0][1]
    assert table.column("_row").to_pylist() == [4, 5, 7]
    assert table.column("card_symbol").to_pylist() == ["記号,A", "改行\r\nあり", None]
    assert table.column("card_number").to_pylist() == ["0012", '"引用"', "１２３"]
    assert table.column("insurer_no").to_pylist() == ["01040013", " 6130 ", "1040013"]
    assert table.column("card_branch").to_pylist() == ["00", None, "  "]
    assert arrow[0][0]["skipped"] == {"blank": 1}


@pytest.mark.parametrize(
    ("line", "by_pyarrow"),
    [("備考：10月分は再請求", False), ("000125,2026/10/03,1,01040013,,1,,3,余分", False), ("", True)],
    ids=["short note", "one field too many", "empty line"],
)
def test_a_line_of_another_width_is_read_as_before(line: str, by_pyarrow: bool, tmp_path: Path) -> None:
    """pyarrow would stop at (or skip) a line of another width: the body is then read by
    Python's module. An empty line pyarrow reads as a blank row, as Python's module does."""
    rows = [HEADER, "000123,2026/10/01,1,01040013,,12,,3", line, "000124,2026/10/02,1,01040013,,13,,3"]
    assert (csv_body("\r\n".join(rows[1:]) + "\r\n", 8) is not None) is by_pyarrow
    path = tmp_path / "online.csv"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp932"))
    arrow, python = _both(path, tmp_path)
    assert arrow[0][1].equals(python[0][1]) and arrow[0][0] == python[0][0]
    assert arrow[0][1].num_rows + sum(arrow[0][0]["skipped"].values()) == 3  # no line vanished
