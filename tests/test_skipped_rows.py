"""Rows that are no data — repeated headers, 合計/小計 rows, title lines, blank rows — are
read over with their count by reason, and the real rows keep their Excel row numbers.

``tests/fixtures/reading/skipped_rows.toml`` holds small sheets (passing and failing
cases: rows that must be skipped and rows that must stay); each runs through the reader
child's extraction (``extract_tables``, in this process) as .xlsx and as .csv. The file
loads into the dataclasses below: a misspelt key or a wrong type fails loudly.
"""

from __future__ import annotations

import csv
import json
import tomllib
import unicodedata
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest
import xlsxwriter

from worker.reading import read as reading
from worker.reading.extract import READER_VERSION, extract_tables
from worker.reading.schema import TABLE_KINDS, normalise_header
from worker.reading.skip import SKIP_REASONS, normalise_cells, skipped_text
from worker.reading.tables import RawTable

FIXTURE = Path(__file__).parent / "fixtures" / "reading" / "skipped_rows.toml"
FORMS = ("xlsx", "csv")

Row = list[str] | Literal["header"]


@dataclass(frozen=True)
class Case:
    name: str
    kind: Literal["receipts", "online", "cards", "returns"]
    rows: list[Row]
    kept: list[int]
    skipped: dict[str, int] = field(default_factory=dict)

    def cells(self, headers: dict[str, list[str]]) -> list[list[str]]:
        return [list(headers[self.kind]) if r == "header" else list(r) for r in self.rows]


def _check(data: dict[str, Any], where: str) -> Case:
    known = {f.name for f in fields(Case)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; known: {sorted(known)}")
    rows = data.get("rows")
    if not isinstance(rows, list) or not all(r == "header" or isinstance(r, list) for r in rows):
        raise ValueError(f'{where}: rows must be lists of cells or "header"')
    if not all(isinstance(c, str) for r in rows if isinstance(r, list) for c in r):
        raise ValueError(f"{where}: every cell must be a string")
    if data.get("kind") not in TABLE_KINDS:
        raise ValueError(f"{where}: kind must be one of {TABLE_KINDS}")
    if not set(data.get("skipped", {})) <= set(SKIP_REASONS):
        raise ValueError(f"{where}: skipped reasons must be among {SKIP_REASONS}")
    return Case(**data)


def load_cases() -> tuple[dict[str, list[str]], list[Case]]:
    data = tomllib.loads(FIXTURE.read_text(encoding="utf-8"))
    if set(data) != {"headers", "case"}:
        raise ValueError(f"{FIXTURE.name}: top-level keys must be headers and case, not {sorted(data)}")
    cases = [_check(c, f"{FIXTURE.name} case {i + 1} ({c.get('name', '?')})") for i, c in enumerate(data["case"])]
    names = [c.name for c in cases]
    assert len(set(names)) == len(names), "two cases share a name"
    return data["headers"], cases


HEADERS, CASES = load_cases()


def write_sheet(rows: list[list[str]], path: Path) -> Path:
    """The rows as a clinic's export: an .xlsx of text cells or a CP932 .csv."""
    if path.suffix == ".csv":
        with open(path, "w", encoding="cp932", newline="") as fh:
            csv.writer(fh, lineterminator="\r\n").writerows(rows)
        return path
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    ws = wb.add_worksheet("Sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value:
                ws.write_string(r, c, value)
    wb.close()
    return path


def extract(path: Path, out: Path) -> list[dict[str, Any]]:
    """The tables of the manifest ``extract_tables`` writes, each with its kept rows."""
    extract_tables(str(path), str(out))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["version"] == READER_VERSION
    for t in manifest["tables"]:
        with pa.memory_map(str(out / t["file"])) as source:
            t["_row"] = ipc.open_file(source).read_all().column("_row").to_pylist()
    return list(manifest["tables"])


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_skipped_rows(case: Case, form: str, tmp_path: Path) -> None:
    path = write_sheet(case.cells(HEADERS), tmp_path / f"sheet.{form}")
    tables = extract(path, tmp_path / "out")
    assert [t["kind"] for t in tables] == [case.kind]
    assert tables[0]["_row"] == case.kept
    assert tables[0]["rows"] == len(case.kept)
    assert tables[0]["skipped"] == case.skipped


def test_every_reason_and_kind_has_cases() -> None:
    """The fixture covers each reason, each table kind, and rows that must stay."""
    assert {r for c in CASES for r in c.skipped} == set(SKIP_REASONS)
    assert {c.kind for c in CASES} == set(TABLE_KINDS)
    assert sum(not c.skipped for c in CASES) >= 10  # cases where nothing may be skipped


@pytest.mark.parametrize(
    "text",
    [
        *("患者 ＩＤ", "　氏名\u3000", "※備考", "*負担割合*", "ｶﾅ氏名", "ﾌﾘｶﾞﾅ", "氏名(ｶﾅ)"),
        *("\t番号\n", "\x0b記号\x1c", "㍻", ""),
    ],
)
def test_cells_normalise_as_headers(text: str) -> None:
    """The vectorised normalisation is ``normalise_header`` (NFKC, no spaces, no *※)."""
    assert normalise_cells(pa.array([text], pa.string())).to_pylist() == [normalise_header(text)]


def test_whitespace_is_pythons() -> None:
    spaces = "".join(chr(c) for c in range(0x3100) if chr(c).isspace())
    text = f"患{spaces}者ID"
    assert normalise_cells(pa.array([text])).to_pylist() == [normalise_header(text)] == ["患者ID"]
    assert unicodedata.normalize("NFKC", "\u3000").isspace()


def test_summary_text() -> None:
    assert skipped_text({"header": 12, "total": 3, "blank": 5}) == (
        "見出しの繰り返し 12行・合計行 3行・空行 5行を読み飛ばしました"
    )
    assert skipped_text({"title": 1, "blank": 1_200}) == "表題行 1行・空行 1,200行を読み飛ばしました"
    assert skipped_text({}) == ""
    table = RawTable(kind="receipts", file="r.xlsx", sheet="10月", frame=pa.table({"_row": [2]}).to_pandas())
    assert reading.describe([table]) == "レセプト一覧（10月、1行）"
    table.skipped = {"header": 2}
    assert reading.describe([table]) == "レセプト一覧（10月、1行。見出しの繰り返し 2行を読み飛ばしました）"


def test_an_older_read_cache_is_read_again(tmp_path: Path) -> None:
    """A file kept by an older reader (header rows as data, no version) is parsed again."""
    rows = [list(HEADERS["receipts"]), ["A1", "2026-10", "山田 太郎"], list(HEADERS["receipts"]), ["A2", "2026-10"]]
    path = write_sheet(rows, tmp_path / "r.xlsx")
    cache = tmp_path / "cache" / "ab"
    first = reading.read_file(path, reading.Settings(), cache_dir=cache)
    assert not isinstance(first, reading.FileProblem)
    assert first[0].frame["_row"].tolist() == [2, 4] and first[0].skipped == {"header": 1}
    manifest = json.loads((cache / "manifest.json").read_text())
    del manifest["version"]
    del manifest["tables"][0]["skipped"]
    (cache / "manifest.json").write_text(json.dumps(manifest))
    again = reading.read_file(path, reading.Settings(), cache_dir=cache)
    assert not isinstance(again, reading.FileProblem) and again[0].skipped == {"header": 1}
    assert json.loads((cache / "manifest.json").read_text())["version"] == READER_VERSION


def test_the_reader_child_first_does_not_hide_discover() -> None:
    """Importing the child side first (as this module does) must leave ``discover`` the
    function (see also tests/test_layers.py: no submodule shares an exported name)."""
    from worker.reading import discover

    assert callable(discover)


# ---- a generated month printed with page breaks -----------------------------------------

PAGE_ROWS = 40  # data rows per printed page
BLANK_EVERY = 17  # a stray blank row after every 17th data row
_FILES = {"receipts": "receipts_2026-10", "online": "online_results_2026-10", "cards": "card_records_2026-10"}


def _print_layout(kind: str, frame: Any) -> tuple[list[list[str]], list[int], dict[str, int]]:
    """The table as a print export: a title, the header repeated on every page, a 小計 row
    closing each page, stray blank rows and a 総合計 row. Returns the rows, each data row's
    Excel row, and the rows a reader must skip by reason."""
    header = [str(c) for c in frame.columns]
    data = frame.astype(str).to_numpy().tolist()
    title = f"{kind} 令和8年10月診療分"
    out: list[list[str]] = [[title], [], header]
    excel_rows: list[int] = []
    skipped = dict.fromkeys(SKIP_REASONS, 0)

    def subtotal(label: str, rows: list[list[str]]) -> list[str]:
        row = [""] * len(header)
        row[0] = f"{label} {len(rows)}件"
        if "合計点数" in header:
            at = header.index("合計点数")
            row[at] = str(sum(int(r[at] or 0) for r in rows))
        return row

    for i, row in enumerate(data):
        if i and i % PAGE_ROWS == 0:
            out += [subtotal("社保 小計", data[i - PAGE_ROWS : i]), [], [f"{title}（続き）"], header]
            skipped["total"] += 1
            skipped["blank"] += 1
            skipped["title"] += 1
            skipped["header"] += 1
        out.append(row)
        excel_rows.append(len(out))
        if i % BLANK_EVERY == BLANK_EVERY - 1 and i < len(data) - 1:
            out.append([])
            skipped["blank"] += 1
    out += [subtotal("総合計", data), [], []]  # blank rows below the table are no gap
    skipped["total"] += 1
    return out, excel_rows, {k: v for k, v in skipped.items() if v}


@pytest.fixture(scope="module")
def month() -> dict[str, Any]:
    from benchmarks.synth import generate_month

    tables = generate_month(300, seed=5, problem_rate=0.3)
    return {k: tables[k] for k in _FILES}


def _records(findings: Any) -> list[tuple[str, ...]]:
    return sorted(tuple(str(v) for v in r) for r in findings.itertuples(index=False))


@pytest.mark.parametrize("form", FORMS)
def test_a_print_layout_gives_the_findings_of_the_clean_export(
    month: dict[str, Any], form: str, tmp_path: Path
) -> None:
    """A month with the header repeated every 40 rows, 小計 rows, title lines and blank rows
    gives exactly the findings of the same data without them, at the print layout's rows."""
    from worker.cli import reconcile

    clean, dirty = tmp_path / "clean", tmp_path / "print"
    clean.mkdir()
    dirty.mkdir()
    row_of: dict[str, dict[int, int]] = {}
    expected: dict[str, dict[str, int]] = {}
    for kind, frame in month.items():
        name = f"{_FILES[kind]}.{form}"
        write_sheet([[str(c) for c in frame.columns], *frame.astype(str).to_numpy().tolist()], clean / name)
        rows, excel_rows, skipped = _print_layout(kind, frame)
        write_sheet(rows, dirty / name)
        row_of[name] = {i + 2: r for i, r in enumerate(excel_rows)}  # clean Excel row -> print row
        expected[name] = skipped
    want = reconcile([clean], tmp_path / "out-clean")
    got = reconcile([dirty], tmp_path / "out-print")

    assert len(want.findings) > 50 and set(want.findings["category"]) >= {"input_invalid", "ratio_online_vs_card"}
    moved = want.findings.copy()
    moved["row"] = [row_of[f][int(r)] for f, r in zip(moved["source_file"], moved["row"], strict=True)]
    assert _records(got.findings) == _records(moved)
    assert got.summary.receipts == want.summary.receipts == len(month["receipts"])

    statuses = {fs.path: fs for fs in got.summary.files}
    assert {name: dict(statuses[name].skipped) for name in expected} == expected
    receipts = statuses[f"{_FILES['receipts']}.{form}"]
    n = expected[receipts.path]
    assert receipts.tables == (
        f"レセプト一覧（{'CSV' if form == 'csv' else 'Sheet1'}、{len(month['receipts'])}行。"
        f"見出しの繰り返し {n['header']}行・合計行 {n['total']}行・表題行 {n['title']}行・空行 {n['blank']}行"
        "を読み飛ばしました）"
    )
    assert all(not fs.skipped for fs in want.summary.files)
    summary = json.loads((tmp_path / "out-print" / "findings.json").read_text(encoding="utf-8"))["summary"]
    assert {f["path"]: f["skipped_rows"] for f in summary["files"]} == expected
