"""Issue 10, honest runs: a run says what it read per claim month, and a run that could not
check everything says so — on the console (red), at the top of 概要 (red) and in
findings.json; no receipts at all exits 2; an unusable ``--out`` is refused before anything
is read; the console output breaks no value at 80 columns.

The "nothing to check" matrix runs the real CLI (a subprocess, ``COLUMNS=80``) on folders
made of the bundled sample month's three files.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

import worker.cli as cli
import worker.engine as engine
from rules import CATEGORY_LABELS_JA, FINDING_COLUMNS
from worker.engine import MonthRead, RunInfo, RunResult, RunSummary
from worker.engine.coverage import run_warnings
from worker.engine.pipeline import summarise
from worker.engine.results import ReturnsSummary
from worker.reading import FileProblem

OCT = Path(__file__).resolve().parent.parent / "sample_receipts" / "2026-10"
FILES = {
    "receipts": OCT / "receipts_2026-10.xlsx",
    "online": OCT / "online_results_2026-10.csv",
    "cards": OCT / "card_records_2026-10.xlsx",
}
TITLE = "レセプト点検結果（修正リスト）"
RED = "FFFFC7CE"


def henrei(*args: str) -> subprocess.CompletedProcess[str]:
    env = {"COLUMNS": "80", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *args], capture_output=True, text=True, timeout=300, env=env
    )


@dataclass(frozen=True)
class Case:
    kinds: tuple[str, ...]  # the sample's tables put in the folder
    exit_code: int
    missing: tuple[str, ...] | None  # the warning's missing kinds (None: no warning)
    said: str  # on the console and at the top of 概要
    named: tuple[str, ...] = ()  # categories named as not checked
    not_named: tuple[str, ...] = ()


CASES = {
    "empty folder": Case((), 2, ("receipts",), "レセプト一覧が見つかりません（読み込める表がありませんでした）"),
    "only online results": Case(
        ("online",), 2, ("receipts",), "レセプト一覧が見つかりません（読み込んだ表：オンライン資格確認結果）"
    ),
    "receipts only": Case(
        ("receipts",),
        0,
        ("online", "cards"),
        "2026-10 診療分のオンライン資格確認結果・券面情報がないため",
        ("eligibility_invalid", "card_expired", "ratio_online_vs_card"),
    ),
    "receipts and online, no cards": Case(
        ("receipts", "online"),
        0,
        ("cards",),
        "2026-10 診療分の券面情報がないため",
        ("card_expired", "ratio_online_vs_card"),
        ("eligibility_invalid", "ecert_expired"),
    ),
    "receipts and cards, no online": Case(
        ("receipts", "cards"),
        0,
        ("online",),
        "2026-10 診療分のオンライン資格確認結果がないため",
        ("eligibility_invalid", "eligibility_not_found", "ecert_expired", "ratio_online_vs_card"),
        ("card_expired",),
    ),
    "every kind": Case(("receipts", "online", "cards"), 0, None, ""),
}


def _sheet_top(xlsx: Path) -> list[tuple[str, str]]:
    """(text, fill) of column A down to the title row."""
    ws = openpyxl.load_workbook(xlsx)["概要"]
    out = []
    for row in ws.iter_rows(min_col=1, max_col=1):
        cell = row[0]
        out.append((str(cell.value or ""), str(cell.fill.fgColor.rgb)))
        if cell.value == TITLE:
            return out
    raise AssertionError("no title row in 概要")


def _read_ja(month: dict[str, Any]) -> str:
    """What 概要 says was read in a month, from findings.json's "read"."""
    parts = [f"レセプト {month['receipts']:,}件", f"オン資 {month['online']:,}件", f"券面 {month['cards']:,}件"]
    return "、".join(parts + ([f"返戻 {month['returns']:,}件"] if month["returns"] else []))


@pytest.mark.parametrize("name", list(CASES))
def test_nothing_to_check_matrix(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    folder = tmp_path / "in"
    folder.mkdir()
    for kind in case.kinds:
        shutil.copy(FILES[kind], folder)
    out = tmp_path / "out"
    res = henrei("reconcile", str(folder), "--out", str(out))
    console = res.stdout
    assert res.returncode == case.exit_code, console + res.stderr
    assert "Traceback" not in console + res.stderr and "指摘はありませんでした" not in console
    too_wide = [line for line in console.splitlines() if cell_len(line) > 80 and not line.startswith(f"  {out}")]
    assert too_wide == []
    assert "読み込んだ表" in console

    data = json.loads((out / "findings.json").read_text(encoding="utf-8"))["summary"]
    top = _sheet_top(out / "corrections.xlsx")
    sheet_text = "".join(text for text, _ in top)
    if case.missing is None:
        assert data["warnings"] == [] and data["checked"] is True
        assert top == [(TITLE, top[0][1])]  # nothing above the title
        assert "注意" not in console
        assert [m["month"] for m in data["read"]] == ["2026-10"]
        assert all(data["read"][0][k] > 0 for k in ("receipts", "online", "cards"))
        rows = list(openpyxl.load_workbook(out / "corrections.xlsx")["概要"].values)
        assert ("読み込んだ表（2026-10）", _read_ja(data["read"][0])) in [(r[0], r[1]) for r in rows]
        return
    (warning,) = data["warnings"]
    assert tuple(warning["missing"]) == case.missing
    assert data["checked"] is (case.missing != ("receipts",))
    assert set(case.named) <= set(warning["checks"]) and not set(case.not_named) & set(warning["checks"])
    # console: the warning in full (lines joined), naming what could not be checked
    joined = "".join(line.strip() for line in console.splitlines())
    assert "注意:" in console and case.said in joined
    for category in case.named:
        assert CATEGORY_LABELS_JA[category] in joined
    # 概要: the warning first, red, before the title; never "no findings"
    assert top[0][0].startswith("注意：") and all(fill == RED for _, fill in top[:-2])
    assert case.said in sheet_text and warning["message"].replace(" ", "") in sheet_text.replace(" ", "")
    rows = list(openpyxl.load_workbook(out / "corrections.xlsx")["概要"].values)
    cells = [str(c) for row in rows for c in row if c]
    read = {str(r[0]): str(r[1]) for r in rows if str(r[0]).startswith("読み込んだ表（")}
    assert read == {f"読み込んだ表（{m['month']}）": _read_ja(m) for m in data["read"]}
    assert not any(c.startswith("指摘はありませんでした。") for c in cells)
    if case.exit_code == 2:
        assert "照合結果" not in console and "レセプト一覧がないため、点検できませんでした。" in cells
        assert "追加して" in warning["message"]


# --- --out refused before anything is read ------------------------------------------------------


@pytest.fixture
def no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: Any, **_k: Any) -> None:
        raise AssertionError("the inputs were read")

    monkeypatch.setattr(engine, "read_inputs", refuse)  # the CLI imports it from there when it runs


def test_out_pointing_at_a_file_is_refused_before_reading(tmp_path: Path, no_reading: None) -> None:
    target = tmp_path / "corrections.xlsx"
    target.write_bytes(b"keep me")
    res = CliRunner().invoke(cli.app, ["reconcile", str(OCT), "--out", str(target)])
    assert res.exit_code == 2
    said = "".join(res.output.split())
    assert "出力先の誤り" in said and "はファイルです。出力先にはフォルダを指定してください" in said
    assert target.read_bytes() == b"keep me"


@pytest.mark.parametrize("where", ["inside", "same", "under a file"])
def test_other_unusable_outs(tmp_path: Path, no_reading: None, where: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (tmp_path / "afile").write_text("x")
    out = {"inside": folder / "out", "same": folder, "under a file": tmp_path / "afile" / "out"}[where]
    res = CliRunner().invoke(cli.app, ["reconcile", str(folder), "--out", str(out)])
    assert res.exit_code == 2
    said = "入力フォルダの外のフォルダを指定してください" if where != "under a file" else "がファイルです"
    assert said in "".join(res.output.split())


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_out_is_refused(tmp_path: Path, no_reading: None) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    res = CliRunner().invoke(cli.app, ["reconcile", str(OCT), "--out", str(locked / "out")])
    assert res.exit_code == 2 and "書き込めません" in res.output


def test_out_file_through_the_real_cli(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("x")
    res = henrei("reconcile", str(OCT), "--out", str(target))
    assert res.returncode == 2 and "Traceback" not in res.stdout + res.stderr
    assert "はファイルです" in res.stdout and "読み込んだ表" not in res.stdout


# --- 80 columns ----------------------------------------------------------------------------------


def _findings() -> pd.DataFrame:
    rows = [
        {"category": c, "severity": s, "source_file": "r.xlsx", "sheet": "S", "row": 2, "actual": ""}
        for c in CATEGORY_LABELS_JA
        for s in ("error", "warning")
    ]
    rows += [
        {
            "category": "input_invalid",
            "severity": "error",
            "source_file": "レセプト一覧 2026年10月分 社保・国保・後期（最終版）.xlsx",
            "sheet": "社保 後期",
            "row": 1234567,
            "actual": "「生年月日」列: 令和99年13月40日 昭和 ﾀﾅｶ",
        }
    ]
    df = pd.DataFrame(rows)
    for c in FINDING_COLUMNS:
        if c not in df:
            df[c] = ""
    return df


def test_console_at_80_columns_breaks_no_value(monkeypatch: pytest.MonkeyPatch) -> None:
    read = [
        MonthRead("2026-09", {"receipts": 1234567, "online": 0, "cards": 0, "returns": 12}),
        MonthRead("2026-10", {"receipts": 327, "online": 0, "cards": 312, "returns": 0}),
    ]
    summary = RunSummary(
        period="2026-09〜2026-10",
        files=[],
        receipts=1234894,
        started_at=datetime(2026, 11, 5, 9),
        finished_at=datetime(2026, 11, 5, 9, 1),
        returns=ReturnsSummary(total=1200, matched=1100, unmatched=100, predicted=550, by_class={}),
        read=read,
        warnings=run_warnings(read),
    )
    long_dir = "/srv/henrei/reports/clinic-with-a-long-name-C0001/2026-10/" + "x" * 40
    outputs = (Path(long_dir) / "corrections.xlsx", Path(long_dir) / "findings.json")
    problem = FileProblem("/data/受付 2026年10月/オンライン資格確認 一括照会 結果.xlsx", "ファイルを開けませんでした。")
    result = RunResult(_findings(), summary, [problem], {}, outputs)
    buf = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=buf, width=80, color_system=None, force_terminal=False))
    assert cli._show(result) == 2
    lines = buf.getvalue().splitlines()
    paths = {f"  {p}" for p in outputs}
    assert [line for line in lines if cell_len(line) > 80 and line not in paths] == []
    assert paths <= set(lines)  # each path whole, on a line of its own

    def on_one_line(value: str) -> bool:
        return any(value in line for line in lines)

    values = [
        *CATEGORY_LABELS_JA.values(),
        "2026-09",
        "1,234,567",
        "1,234,894件）",
        "1,200件（元のレセプトと照合",
        "1234567行目",
        "令和99年13月40日 昭和 ﾀﾅｶ",
        "レセプト一覧 2026年10月分 社保・国保・後期（最終版）.xlsx",
        problem.file,
    ]
    assert [v for v in values if not on_one_line(v)] == []
    text = "".join(line.strip() for line in lines)
    for w in summary.warnings:
        assert w.message.replace(" ", "") in text.replace(" ", "")


def test_what_was_read_survives_a_split_months_meta() -> None:
    # a split month keeps RunInfo as JSON between the parent and the part that combines
    read = [MonthRead("2026-10", {"receipts": 3, "online": 0, "cards": 1, "returns": 0})]
    info = RunInfo("2026-10", [], [], 3, False, datetime(2026, 11, 5, 9), read=read, warnings=run_warnings(read))
    back = RunInfo.from_json(json.loads(json.dumps(info.to_json())))
    assert back == info and back.warnings[0].missing == ("online",)
    assert summarise(back, None).warnings == tuple(info.warnings)
