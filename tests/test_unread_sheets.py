"""Nothing dropped in silence (issue 12, problem 4): a sheet with data whose header is not
recognised, and a damaged sheet of a workbook whose other sheets read, are reported with
the sheet's name, its rows and a Japanese reason — in the reader's manifest, the console,
概要 and findings.json — and a half-read file ends the CLI run with exit 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import fastexcel
import openpyxl
import pyarrow as pa
import xlsxwriter

from worker.config import Settings
from worker.engine import read_inputs
from worker.engine.pipeline import RunInfo
from worker.reading.extract import extract_tables

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts" / "2026-10"
RECEIPTS = SAMPLES / "receipts_2026-10.xlsx"
HEADER = ["患者ID", "診療年月", "氏名", "保険者番号", "実日数", "合計点数"]


def _sheets(path: Path) -> dict[str, list[list[str | None]]]:
    reader = fastexcel.read_excel(str(path))
    out = {}
    for n, name in enumerate(reader.sheet_names):
        table = pa.table(reader.load_sheet(n, header_row=None, skip_rows=0, dtypes="string"))
        out[name] = [list(r.values()) for r in table.to_pylist()]
    return out


def _write(sheets: dict[str, list[list[str | None]]], path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value:
                    ws.write_string(r, c, value)
    wb.close()
    return path


def _headerless_receipts(path: Path) -> int:
    """The sample receipts workbook with the header row of its sheet 国保 deleted; returns
    the rows of that sheet that hold something (its title and its claims)."""
    sheets = _sheets(RECEIPTS)
    rows = sheets["国保"]
    at = next(i for i, r in enumerate(rows) if r[1] == "診療年月")
    sheets["国保"] = rows[:at] + rows[at + 1 :]
    _write(sheets, path)
    return sum(1 for r in sheets["国保"] if any(c and c.strip() for c in r))


def _damaged(path: Path) -> Path:
    """Two receipts sheets; the second's XML cut in half (calamine fails on it alone)."""
    rows = [HEADER, ["A1", "2026-10", "山田 太郎", "06130011", "1", "300"]]
    whole = _write({"一枚目": rows, "二枚目": rows}, path.with_name("whole.xlsx"))
    with zipfile.ZipFile(whole) as z, zipfile.ZipFile(path, "w") as out:
        for info in z.infolist():
            data = z.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = data[: len(data) // 2]
            out.writestr(info, data)
    whole.unlink()
    return path


def test_the_manifest_names_a_sheet_without_a_header(tmp_path: Path) -> None:
    rows = _headerless_receipts(tmp_path / "r.xlsx")
    extract_tables(str(tmp_path / "r.xlsx"), str(tmp_path / "out"))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [t["sheet"] for t in manifest["tables"]] == ["社保・後期"]
    assert manifest["unread"] == [{"sheet": "国保", "rows": rows, "reason": "no_header"}]


def test_a_headerless_csv_with_rows_is_named_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "no_header.csv"
    path.write_text("A1,2026-10,山田\nA2,2026-10,佐藤\n\nA3,2026-10,鈴木\n", encoding="utf-8")
    extract_tables(str(path), str(tmp_path / "out"))
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["tables"] == [] and manifest["unread"] == [{"sheet": "", "rows": 3, "reason": "no_header"}]
    info = read_inputs([path], Settings()).info
    (problem,) = info.problems
    assert "3行" in problem.message and "見出し行" in problem.message


def test_a_damaged_sheet_is_reported_and_the_other_read(tmp_path: Path) -> None:
    path = _damaged(tmp_path / "damaged.xlsx")
    info = read_inputs([path], Settings()).info
    (status,) = info.files
    assert status.status == "partial" and status.half_read and info.receipts == 1
    assert status.unread == ({"sheet": "二枚目", "rows": None, "reason": "damaged"},)
    assert "二枚目" in status.message and "壊れて" in status.message
    assert "Error" not in status.message and "calamine" not in status.message.lower()
    # a split month keeps its RunInfo as JSON between the parent and its parts
    assert RunInfo.from_json(json.loads(json.dumps(info.to_json()))).files == info.files


def test_a_sheet_without_header_is_in_every_summary(tmp_path: Path) -> None:
    """Through ``henrei reconcile`` as a clerk runs it: before issue 12 its rows vanished
    with exit 0 and no word."""
    folder = tmp_path / "in"
    folder.mkdir()
    for f in SAMPLES.iterdir():
        shutil.copy(f, folder / f.name)
    rows = _headerless_receipts(folder / RECEIPTS.name)
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "worker.cli", "reconcile", str(folder), "--out", str(out)],
        capture_output=True,
        timeout=300,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    console = r.stdout.decode()
    assert r.returncode == 0, console + r.stderr.decode()  # the sheet may hold no table: a note, not a failure
    assert "国保" in console and f"{rows}行" in console and "見出し行" in console
    summary = json.loads((out / "findings.json").read_text(encoding="utf-8"))["summary"]
    (entry,) = (f for f in summary["files"] if f["path"] == RECEIPTS.name)
    assert entry["status"] == "partial"
    assert entry["unread_sheets"] == [{"sheet": "国保", "rows": rows, "reason": "no_header"}]
    assert "国保" in entry["message"] and "見出し行" in entry["message"]
    ws = openpyxl.load_workbook(out / "corrections.xlsx", read_only=True)["概要"]
    cells = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "一部読込" in cells
    assert any("国保" in c and f"{rows}行" in c for c in cells)


def test_a_half_read_file_ends_the_cli_run_with_2(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _damaged(folder / "damaged.xlsx")
    r = subprocess.run(
        [sys.executable, "-m", "worker.cli", "reconcile", str(folder), "--out", str(tmp_path / "out")],
        capture_output=True,
        timeout=300,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    console = r.stdout.decode()
    assert r.returncode == 2 and "二枚目" in console and "Traceback" not in r.stderr.decode(), console
