"""worker.reports: corrections.xlsx for clerks and findings.json for machines."""

from __future__ import annotations

import dataclasses
import json
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from rules import (
    CATEGORIES,
    CATEGORY_LABELS_JA,
    FINDING_COLUMNS,
    SEVERITY_LABELS_JA,
    empty_findings,
)
from worker.engine.results import FileStatus, ReturnsSummary, RunSummary
from worker.reports import findings_json, findings_sheet, reclaims_sheet, workbook, write_reports
from worker.reports.clerk_list import clerk_list
from worker.reports.formats import YEN_FORMAT

HEADERS = [
    "重要度",
    "患者ID",
    "氏名",
    "カナ",
    "診療日",
    "区分",
    "内容",
    "対応",
    "窓口負担の差額",
    "元データ",
    "状態",
    "メモ",
    "正しい値",
    "現在の値",
    "ファイル",
    "シート",
    "行",
    "区分コード",
    "ルールID",
    "キー",
]
COL = {h: i + 1 for i, h in enumerate(HEADERS)}  # 1-based column per header

DANGEROUS = [
    '=HYPERLINK("http://x")',
    "+81",
    "-1",
    "@SUM(A1)",
    "<r>x</r>",
    "<r><t>injected</t></r>",
    "http://example.com/",
    "0012",
]

# OOXML escapes a literal "_x0041_" as "_x005F_x0041_"; Excel shows "_x0041_" (without the
# escape Excel would show "A"). openpyxl unescapes a shared string (a small workbook, built
# in memory) but returns an inline string (a big one, streamed) in its escaped form.
LITERAL_ESCAPE = "_x0041_"
LITERAL_ESCAPE_XML = "_x005F_x0041_"


def _row(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "source_file": "レセプト.xlsx",
        "sheet": "Sheet1",
        "row": 2,
        "patient_id": "000123",
        "claim_month": "2026-10",
        "category": "ratio_billed_vs_verified",
        "rule_id": "R001",
        "severity": "error",
        "expected": "3割",
        "actual": "1割",
        "message": "請求した負担割合が資格確認の結果と異なります。",
        "action": "負担割合を3割に直して請求してください。",
        "copay_diff_yen": pd.NA,
    }
    base.update(kw)
    return base


def _findings(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    for c in FINDING_COLUMNS:
        if c == "row":
            df[c] = df[c].astype("int64")
        elif c == "copay_diff_yen":
            df[c] = df[c].astype("Int64")
        else:
            df[c] = df[c].astype(object)
    return df


@pytest.fixture
def findings() -> pd.DataFrame:
    return _findings(
        [
            _row(row=2, message='=HYPERLINK("http://x")', expected="+81", copay_diff_yen=1200),
            _row(row=3, expected="-1", actual="@SUM(A1)", copay_diff_yen=-300),
            _row(row=4, category="eligibility_invalid", rule_id="E001", actual="<r>x</r>"),
            _row(
                row=5,
                category="name_mismatch",
                severity="warning",
                expected="山田\x01太郎",
                actual="<r><t>injected</t></r>",
                copay_diff_yen=500,
            ),
            _row(row=6, category="name_mismatch", severity="warning", patient_id="0012"),
            _row(
                row=7,
                source_file="C:\\受付\\/レセ/10月.xlsx",
                category="masked_characters",
                severity="info",
                expected="",
                actual="http://example.com/",
                message=LITERAL_ESCAPE,
                copay_diff_yen=pd.NA,
            ),
        ]
    )


@pytest.fixture
def summary() -> RunSummary:
    return RunSummary(
        period="2026-10",
        files=[
            FileStatus("レセプト.xlsx", "ok", "レセプト一覧(Sheet1, 6行)", ""),
            FileStatus("=壊れた.xlsx", "error", "", "ファイルを開けませんでした。"),
        ],
        receipts=6,
        started_at=datetime(2026, 11, 5, 9, 0),
        finished_at=datetime(2026, 11, 5, 9, 1),
    )


def _summary_rows(ws: Any) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _find_row(rows: list[list[Any]], first: str) -> int:
    for i, r in enumerate(rows):
        if r and r[0] == first:
            return i
    raise AssertionError(f"no row starting with {first!r}")


def test_workbook_layout_and_safety(tmp_path: Path, findings: pd.DataFrame, summary: RunSummary) -> None:
    out = tmp_path / "new" / "dir"
    xlsx, js = write_reports(findings, summary, out)
    assert xlsx == out / "corrections.xlsx" and xlsx.is_file()
    assert js == out / "findings.json" and js.is_file()
    assert sorted(p.name for p in out.iterdir()) == ["corrections.xlsx", "findings.json"]

    with zipfile.ZipFile(xlsx) as z:  # the literal is escaped in the file (Excel shows it as is)
        xml = z.read("xl/sharedStrings.xml").decode()
    assert f"<t>{LITERAL_ESCAPE_XML}</t>" in xml and f"<t>{LITERAL_ESCAPE}</t>" not in xml
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["概要", "指摘一覧"]
    ws = wb["指摘一覧"]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.max_row == 1 + len(findings)
    assert ws.auto_filter.ref == f"A1:T{1 + len(findings)}"
    assert ws.freeze_panes == "D2"  # the header row and 重要度・患者ID・氏名 stay in view

    # the lines are sorted for the clerk (test_clerk_list.py): find each by its origin row
    at = {ws.cell(i, COL["行"]).value: i for i in range(2, 2 + len(findings))}
    assert sorted(at) == sorted(findings["row"].tolist())
    # every text cell is a plain string cell with the exact input value (minus \x01)
    for rec in findings.to_dict("records"):
        i = at[rec["row"]]
        for header, field in [
            ("患者ID", "patient_id"),
            ("内容", "message"),
            ("正しい値", "expected"),
            ("現在の値", "actual"),
            ("ルールID", "rule_id"),
        ]:
            cell = ws.cell(i, COL[header])
            want = str(rec[field]).replace("\x01", "")
            if want == "":
                assert cell.value is None
            else:
                assert cell.data_type == "s", (header, want)
                assert cell.value == want
        assert ws.cell(i, COL["重要度"]).value == SEVERITY_LABELS_JA[rec["severity"]]
        assert ws.cell(i, COL["区分"]).value == CATEGORY_LABELS_JA[rec["category"]]
        assert ws.cell(i, COL["区分コード"]).value == rec["category"]
        assert ws.cell(i, COL["ファイル"]).value == rec["source_file"]
        assert ws.cell(i, COL["元データ"]).value == f"{rec['source_file']}\n{rec['sheet']} {rec['row']}行"
        assert ws.cell(i, COL["診療日"]).value == "2026/10"  # no service date known: the claim month
        assert ws.cell(i, COL["状態"]).value == "未対応" and ws.cell(i, COL["メモ"]).value is None
    sheet_xml = _assert_dangerous_text_stays_text(xlsx, ws, "sheet2.xml", DANGEROUS)
    assert LITERAL_ESCAPE_XML in sheet_xml

    # money: a number shown with its sign spelled out, blank where NA
    yen = {r: ws.cell(at[r], COL["窓口負担の差額"]) for r in findings["row"]}
    assert [yen[r].value for r in findings["row"]] == [1200, -300, None, 500, None, None]
    assert yen[2].data_type == "n" and yen[2].number_format == YEN_FORMAT

    # severity colours: error row differs from warning row differs from info row
    def fill(r: int, header: str = "重要度") -> str:
        return str(ws.cell(at[r], COL[header]).fill.fgColor.rgb)

    err, warn, info = fill(2), fill(5), fill(7)
    assert len({err, warn, info}) == 3
    assert fill(2, "内容") == err and fill(2, "メモ") == err  # the whole row carries the colour
    assert fill(3) == err


def test_summary_sheet(tmp_path: Path, findings: pd.DataFrame, summary: RunSummary) -> None:
    xlsx, _ = write_reports(findings, summary, tmp_path)
    ws = openpyxl.load_workbook(xlsx)["概要"]
    rows = _summary_rows(ws)
    assert rows[_find_row(rows, "対象期間")][1] == "2026-10"
    assert rows[_find_row(rows, "作成日時")][1] == "2026-11-05 09:01"
    assert rows[_find_row(rows, "点検したレセプト数")][1] == 6
    assert rows[_find_row(rows, "指摘の件数")][1] == len(findings)

    ok = rows[_find_row(rows, "レセプト.xlsx")]
    assert ok[1] == "読込済" and ok[2] == "レセプト一覧(Sheet1, 6行)"
    bad_i = _find_row(rows, "=壊れた.xlsx")
    assert rows[bad_i][1] == "読込エラー" and rows[bad_i][2] == "ファイルを開けませんでした。"
    assert ws.cell(bad_i + 1, 1).data_type == "s"

    # counts: every category appears, with its code, and equals the input counts
    head = _find_row(rows, "区分")
    assert rows[head][:6] == ["区分", "区分コード", "要修正", "要確認", "参考", "合計"]
    table = rows[head + 1 : head + 1 + len(CATEGORIES)]
    assert [r[1] for r in table] == list(CATEGORIES)
    assert [r[0] for r in table] == [CATEGORY_LABELS_JA[c] for c in CATEGORIES]
    expected = findings.groupby(["category", "severity"]).size()
    for r in table:
        cat = r[1]
        for j, sev in enumerate(("error", "warning", "info")):
            assert r[2 + j] == int(expected.get((cat, sev), 0)), (cat, sev)
        assert r[5] == int((findings["category"] == cat).sum())
    total = rows[head + 1 + len(CATEGORIES)]
    assert total[0] == "合計" and total[2:6] == [3, 2, 1, 6]

    over = rows[_find_row(rows, "患者の払い過ぎ（返金が必要）")]
    under = rows[_find_row(rows, "患者の払い不足（追加徴収が必要）")]
    assert over[1:3] == [1700, 2]
    assert under[1:3] == [300, 1]
    for row in ws.iter_rows():
        for c in row:
            assert c.data_type != "f"


def _assert_dangerous_text_stays_text(xlsx: Path, ws: Any, sheet_file: str, dangerous: Sequence[str]) -> str:
    """Every dangerous string is in the sheet as text; no cell is a formula or a link, and
    the sheet's XML and its texts have no formula, injected markup or control character.
    Returns the XML."""
    seen = {c.value for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)}
    for text in dangerous:
        assert text in seen, text
    for row in ws.iter_rows():
        for c in row:
            assert c.data_type != "f"
            assert c.hyperlink is None
    with zipfile.ZipFile(xlsx) as z:
        names = z.namelist()
        sheet_xml = z.read(f"xl/worksheets/{sheet_file}").decode("utf-8")
        if "xl/sharedStrings.xml" in names:  # a small workbook's texts (a big one's are inline)
            sheet_xml += z.read("xl/sharedStrings.xml").decode("utf-8")
    assert not any("hyperlink" in n or "externalLink" in n for n in names)
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    assert "<t>injected</t>" not in sheet_xml  # "<r>..</r>" text is escaped, not markup
    assert "\x01" not in sheet_xml
    return sheet_xml


def test_json(tmp_path: Path, findings: pd.DataFrame, summary: RunSummary) -> None:
    _, js = write_reports(findings, summary, tmp_path)
    raw = js.read_bytes()
    assert "請求した負担割合".encode() in raw  # UTF-8, not \u escapes
    assert "/レセ/10月.xlsx".encode() in raw
    data = json.loads(raw.decode("utf-8"))
    assert set(data) == {"summary", "findings"}
    got = data["findings"]
    assert len(got) == len(findings)
    for rec, want in zip(got, findings.to_dict("records"), strict=True):
        assert list(rec) == list(FINDING_COLUMNS)
        for k in FINDING_COLUMNS:
            v = want[k]
            if k == "copay_diff_yen":
                assert rec[k] == (None if pd.isna(v) else int(v))
            elif k == "row":
                assert rec[k] == int(v) and isinstance(rec[k], int)
            else:
                assert rec[k] == v  # the JSON keeps the text untouched (\x01 too)
    s = data["summary"]
    assert s["period"] == "2026-10" and s["receipts"] == 6 and s["findings"] == 6
    assert [f["status"] for f in s["files"]] == ["ok", "error"]
    assert s["files"][1]["message"] == "ファイルを開けませんでした。"
    assert list(s["counts"]["by_category"]) == list(CATEGORIES)
    assert s["counts"]["by_category"]["name_mismatch"] == {
        "error": 0,
        "warning": 2,
        "info": 0,
        "total": 2,
    }
    assert s["counts"]["by_severity"] == {"error": 3, "warning": 2, "info": 1}
    assert s["copay"] == {
        "overpaid_yen": 1700,
        "overpaid_findings": 2,
        "underpaid_yen": 300,
        "underpaid_findings": 1,
        "net_yen": 1400,
    }


def test_json_chunks_join(
    tmp_path: Path,
    findings: pd.DataFrame,
    summary: RunSummary,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(findings_json, "JSON_CHUNK_ROWS", 4)
    monkeypatch.setattr(workbook, "PREP_CHUNK_ROWS", 4)
    xlsx, js = write_reports(findings, summary, tmp_path)
    got = json.loads(js.read_text("utf-8"))["findings"]
    assert [r["row"] for r in got] == findings["row"].tolist()  # the JSON keeps the given order
    ws = openpyxl.load_workbook(xlsx)["指摘一覧"]
    assert [ws.cell(i, COL["行"]).value for i in range(2, 8)] == clerk_list(findings, None)["row"].tolist()


def test_empty_findings(tmp_path: Path, summary: RunSummary) -> None:
    xlsx, js = write_reports(empty_findings(), summary, tmp_path)
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["概要", "指摘一覧"]
    ws = wb["指摘一覧"]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.max_row == 1
    rows = _summary_rows(wb["概要"])
    assert rows[_find_row(rows, "指摘の件数")][1] == 0
    head = _find_row(rows, "区分")
    assert [r[1] for r in rows[head + 1 : head + 1 + len(CATEGORIES)]] == list(CATEGORIES)
    data = json.loads(js.read_text("utf-8"))
    assert data["findings"] == []
    assert data["summary"]["copay"]["overpaid_yen"] == 0


def test_split_over_sheets(
    tmp_path: Path,
    findings: pd.DataFrame,
    summary: RunSummary,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workbook, "MAX_ROWS_PER_SHEET", 4)
    xlsx, _ = write_reports(findings, summary, tmp_path)
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["概要", "指摘一覧", "指摘一覧(2)"]
    first, second = wb["指摘一覧"], wb["指摘一覧(2)"]
    assert first.max_row == 5 and second.max_row == 3
    assert [c.value for c in second[1]] == HEADERS
    assert second.auto_filter.ref == "A1:T3" and second.freeze_panes == "D2"
    rows = [first.cell(i, COL["行"]).value for i in range(2, 6)]
    rows += [second.cell(i, COL["行"]).value for i in range(2, 4)]
    assert rows == clerk_list(findings, None)["row"].tolist()


def test_failed_write_leaves_nothing(
    tmp_path: Path,
    findings: pd.DataFrame,
    summary: RunSummary,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = {"n": 0}
    real = findings_sheet._write_rows

    def boom(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        real(*args, **kwargs)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(findings_sheet, "_write_rows", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_reports(findings, summary, tmp_path)
    assert calls["n"] == 1
    assert list(tmp_path.iterdir()) == []


def test_failed_json_keeps_previous_files(
    tmp_path: Path,
    findings: pd.DataFrame,
    summary: RunSummary,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_reports(findings.iloc[:1], summary, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def boom(*args: Any, **kwargs: Any) -> None:
        raise OSError("no space left")

    monkeypatch.setattr(findings_json, "_write_json_body", boom)
    with pytest.raises(OSError, match="no space left"):
        write_reports(findings, summary, tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_missing_column_is_rejected(tmp_path: Path, summary: RunSummary) -> None:
    with pytest.raises(ValueError, match="copay_diff_yen"):
        write_reports(empty_findings().drop(columns="copay_diff_yen"), summary, tmp_path)


def test_unencodable_text_does_not_abort(tmp_path: Path, summary: RunSummary) -> None:
    df = _findings([_row(), _row(row=3)])
    df["message"] = pd.Series(["壊れた\ud800文字\x0b", "ok"], dtype=object)
    xlsx, js = write_reports(df, summary, tmp_path)
    ws = openpyxl.load_workbook(xlsx)["指摘一覧"]
    assert ws.cell(2, COL["内容"]).value == "壊れた文字"
    got = json.loads(js.read_text("utf-8"))["findings"]
    assert [r["message"] for r in got] == ["壊れた\ufffd文字\x0b", "ok"]


# --------------------------------------------------------------------------------------
# Returns (返戻): the 「返戻再請求」 sheet, the 「返戻」 summary block, JSON
# --------------------------------------------------------------------------------------
RECLAIM_HEADERS = [
    "返戻年月",
    "診療年月",
    "患者ID",
    "氏名",
    "元のレセプト",
    "照合方法",
    "返戻理由",
    "分類",
    "詳細",
    "対応",
    "再請求",
    "事前チェック",
    "請求点数",
    "返戻ファイル",
    "行",
]
RCOL = {h: i + 1 for i, h in enumerate(RECLAIM_HEADERS)}


def _reclaim(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "返戻年月": "2026-11",
        "診療年月": "2026-10",
        "患者ID": "000123",
        "氏名": "山田 太郎",
        "元のレセプト": "レセプト.xlsx 2行",
        "照合方法": "患者ID・診療年月",
        "返戻理由": "資格喪失後の受診",
        "分類": "資格",
        "詳細": "資格喪失後の受診",
        "対応": "新しい保険証を確認して再請求してください。",
        "再請求": "可",
        "事前チェック": "指摘済み",
        "請求点数": 1234,
        "返戻ファイル": "返戻.csv",
        "行": 2,
    }
    base.update(kw)
    return base


@pytest.fixture
def reclaims() -> pd.DataFrame:
    df = pd.DataFrame(
        [
            _reclaim(氏名='=HYPERLINK("http://x")', 対応="+81", 請求点数=1234, 行=2),
            _reclaim(
                患者ID="0012",
                返戻理由="@SUM(A1)",
                詳細="-1",
                分類="<r><t>injected</t></r>",
                再請求="確認待ち",
                事前チェック="",
                請求点数=pd.NA,
                行=3,
            ),
            _reclaim(
                元のレセプト="",
                照合方法="照合できず",
                氏名="山田\x01花子",
                返戻ファイル="http://example.com/",
                再請求="不可",
                請求点数=56,
                行=pd.NA,
            ),
        ],
        columns=RECLAIM_HEADERS,
    )
    df["請求点数"] = df["請求点数"].astype("Int64")
    df["行"] = df["行"].astype("Int64")
    for c in RECLAIM_HEADERS:
        if c not in ("請求点数", "行"):
            df[c] = df[c].astype(object)
    return df


def _with_returns(summary: RunSummary, **kw: Any) -> RunSummary:
    base: dict[str, Any] = {
        "total": 4,
        "matched": 3,
        "unmatched": 1,
        "predicted": 2,
        "by_class": {"資格": 3, "不詳 記載不備": 2, "負担割合": 1, "その他": 0},
    }
    base.update(kw)
    return dataclasses.replace(summary, returns=ReturnsSummary(**base))


def _expected_text(v: Any) -> str | None:
    if v is None or v is pd.NA:
        return None
    s = str(v).replace("\x01", "")
    return s or None


def test_reclaims_sheet(tmp_path: Path, findings: pd.DataFrame, summary: RunSummary, reclaims: pd.DataFrame) -> None:
    xlsx, _ = write_reports(findings, summary, tmp_path, reclaims=reclaims)
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["概要", "指摘一覧", "返戻再請求"]
    ws = wb["返戻再請求"]
    assert [c.value for c in ws[1]] == RECLAIM_HEADERS
    assert ws.max_row == 1 + len(reclaims)
    assert ws.auto_filter.ref == f"A1:O{1 + len(reclaims)}"
    assert ws.freeze_panes == "A2"

    # rows in order; every column but 請求点数 is a string cell with the input text
    for i, rec in enumerate(reclaims.to_dict("records"), start=2):
        for h in RECLAIM_HEADERS:
            cell = ws.cell(i, RCOL[h])
            if h == "請求点数":
                continue
            want = _expected_text(rec[h])
            if want is None:
                assert cell.value is None, (i, h)
            else:
                assert cell.data_type == "s", (i, h)
                assert cell.value == want, (i, h)
    assert [ws.cell(i, RCOL["行"]).value for i in range(2, 5)] == ["2", "3", None]

    # 請求点数: number with #,##0, blank where NA
    points = [ws.cell(i, RCOL["請求点数"]) for i in range(2, 5)]
    assert [c.value for c in points] == [1234, None, 56]
    assert points[0].data_type == "n" and points[0].number_format == "#,##0"

    # safety: the dangerous strings stay text; no formula, link or injected markup
    dangerous = ['=HYPERLINK("http://x")', "+81", "-1", "@SUM(A1)", "<r><t>injected</t></r>", "http://example.com/"]
    _assert_dangerous_text_stays_text(xlsx, ws, "sheet3.xml", dangerous)

    # fills: 可 (green) differs from 確認待ち (yellow) differs from anything else (none)
    def fill(r: int, header: str = "患者ID") -> str:
        return str(ws.cell(r, RCOL[header]).fill.fgColor.rgb)

    ok, wait, other = fill(2), fill(3), fill(4)
    assert len({ok, wait, other}) == 3
    assert ok.endswith("C6EFCE") and wait.endswith("FFEB9C")
    assert fill(2, "対応") == ok and fill(2, "請求点数") == ok  # the whole row carries the colour
    assert fill(3, "請求点数") == wait

    # widths: 対応/理由 columns are wider than the short ones
    def width(h: str) -> float:
        return float(ws.column_dimensions[openpyxl.utils.get_column_letter(RCOL[h])].width)

    assert width("対応") > width("患者ID") and width("返戻理由") > width("再請求")

    # the summary names the sheet and explains the colours
    rows = _summary_rows(wb["概要"])
    assert rows[_find_row(rows, "返戻再請求のシート")][1] == "返戻再請求"


def test_reclaims_empty(tmp_path: Path, summary: RunSummary) -> None:
    empty = pd.DataFrame({h: pd.Series([], dtype=object) for h in RECLAIM_HEADERS})
    xlsx, js = write_reports(empty_findings(), summary, tmp_path, reclaims=empty)
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["概要", "指摘一覧", "返戻再請求"]
    ws = wb["返戻再請求"]
    assert [c.value for c in ws[1]] == RECLAIM_HEADERS
    assert ws.max_row == 1 and ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:O1"
    assert json.loads(js.read_text("utf-8"))["reclaims"] == []


def test_without_reclaims_nothing_changes(tmp_path: Path, findings: pd.DataFrame, summary: RunSummary) -> None:
    xlsx, js = write_reports(findings, summary, tmp_path)
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["概要", "指摘一覧"]
    rows = _summary_rows(wb["概要"])
    assert not any(r[0] in ("返戻再請求のシート", "返戻の件数", "返戻の分類") for r in rows)
    data = json.loads(js.read_text("utf-8"))
    assert set(data) == {"summary", "findings"} and "returns" not in data["summary"]


def test_returns_summary_block(tmp_path: Path, findings: pd.DataFrame, summary: RunSummary) -> None:
    xlsx, js = write_reports(findings, _with_returns(summary), tmp_path)
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["概要", "指摘一覧"]  # the block alone adds no sheet
    ws = wb["概要"]
    rows = _summary_rows(ws)
    count_i = _find_row(rows, "返戻の件数")
    assert rows[count_i - 1][0] == "返戻"  # the block's heading (not the category 返戻)
    assert rows[count_i][1] == 4
    assert rows[_find_row(rows, "元のレセプトと照合できた件数")][1] == 3
    assert rows[_find_row(rows, "照合できなかった件数")][1] == 1
    share_i = _find_row(rows, "事前チェックで指摘済みだった割合")
    assert count_i < share_i
    share = ws.cell(share_i + 1, 2)
    assert share.data_type == "n" and share.value == pytest.approx(2 / 3)
    assert share.number_format == "0.0%"  # Excel shows 66.7%
    assert f"{share.value:.1%}" == "66.7%"
    cls = _find_row(rows, "返戻の分類")
    assert rows[cls + 1 : cls + 5] == [
        ["資格", 3, *rows[cls + 1][2:]],
        ["不詳 記載不備", 2, *rows[cls + 2][2:]],
        ["負担割合", 1, *rows[cls + 3][2:]],
        ["その他", 0, *rows[cls + 4][2:]],
    ]
    for row in ws.iter_rows():
        for c in row:
            assert c.data_type != "f"

    s = json.loads(js.read_text("utf-8"))["summary"]
    assert s["returns"] == {
        "total": 4,
        "matched": 3,
        "unmatched": 1,
        "predicted": 2,
        "predicted_share": pytest.approx(2 / 3),
        "by_class": {"資格": 3, "不詳 記載不備": 2, "負担割合": 1, "その他": 0},
    }
    assert list(s["returns"]["by_class"]) == ["資格", "不詳 記載不備", "負担割合", "その他"]


def test_returns_summary_nothing_matched(tmp_path: Path, summary: RunSummary) -> None:
    sm = _with_returns(summary, total=2, matched=0, unmatched=2, predicted=0)
    xlsx, js = write_reports(empty_findings(), sm, tmp_path)
    rows = _summary_rows(openpyxl.load_workbook(xlsx)["概要"])
    assert rows[_find_row(rows, "事前チェックで指摘済みだった割合")][1] == "—"
    assert json.loads(js.read_text("utf-8"))["summary"]["returns"]["predicted_share"] is None


def test_json_reclaims(
    tmp_path: Path,
    findings: pd.DataFrame,
    summary: RunSummary,
    reclaims: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(findings_json, "JSON_CHUNK_ROWS", 2)
    _, js = write_reports(findings, _with_returns(summary), tmp_path, reclaims=reclaims)
    raw = js.read_bytes()
    assert "返戻理由".encode() in raw  # UTF-8 keys, not \u escapes
    data = json.loads(raw.decode("utf-8"))
    assert list(data) == ["summary", "findings", "reclaims"]
    assert len(data["findings"]) == len(findings)
    got = data["reclaims"]
    assert len(got) == len(reclaims)
    for rec, want in zip(got, reclaims.to_dict("records"), strict=True):
        assert list(rec) == RECLAIM_HEADERS
        for k in RECLAIM_HEADERS:
            v = want[k]
            if v is None or v is pd.NA:
                assert rec[k] is None, k
            elif k in ("請求点数", "行"):
                assert rec[k] == int(v) and isinstance(rec[k], int)
            else:
                assert rec[k] == v  # text kept untouched (\x01 too)
    assert [r["請求点数"] for r in got] == [1234, None, 56]
    assert data["summary"]["returns"]["predicted"] == 2


def test_reclaims_values_normalised(tmp_path: Path, summary: RunSummary) -> None:
    # float columns of whole numbers read "12" (not "12.0"); a non-number 請求点数 stays text
    df = pd.DataFrame(
        {
            "患者ID": ["1", "2", "3"],
            "再請求": ["可", "確認待ち", None],
            "請求点数": pd.Series([100.0, float("nan"), 2.5]),
            "行": pd.Series([12.0, float("nan"), 14.0]),
        }
    )
    df2 = df.copy()
    df2["請求点数"] = pd.Series([100, "不明", None], dtype=object)
    xlsx, js = write_reports(empty_findings(), summary, tmp_path, reclaims=df)
    ws = openpyxl.load_workbook(xlsx)["返戻再請求"]
    assert [ws.cell(i, 4).value for i in range(2, 5)] == ["12", None, "14"]
    assert [ws.cell(i, 3).value for i in range(2, 5)] == [100, None, 2.5]
    got = json.loads(js.read_text("utf-8"))["reclaims"]
    assert [r["行"] for r in got] == [12, None, 14]
    assert [r["請求点数"] for r in got] == [100, None, 2.5]

    xlsx, js = write_reports(empty_findings(), summary, tmp_path, reclaims=df2)
    ws = openpyxl.load_workbook(xlsx)["返戻再請求"]
    cells = [ws.cell(i, 3) for i in range(2, 5)]
    assert [c.value for c in cells] == [100, "不明", None]
    assert cells[0].data_type == "n" and cells[1].data_type == "s"
    assert [r["請求点数"] for r in json.loads(js.read_text("utf-8"))["reclaims"]] == [100, "不明", None]


def test_reclaims_split_over_sheets(
    tmp_path: Path,
    findings: pd.DataFrame,
    summary: RunSummary,
    reclaims: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workbook, "MAX_ROWS_PER_SHEET", 2)
    monkeypatch.setattr(workbook, "PREP_CHUNK_ROWS", 1)
    xlsx, _ = write_reports(findings.iloc[:2], summary, tmp_path, reclaims=reclaims)
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["概要", "指摘一覧", "返戻再請求", "返戻再請求(2)"]
    first, second = wb["返戻再請求"], wb["返戻再請求(2)"]
    assert [c.value for c in second[1]] == RECLAIM_HEADERS
    assert second.auto_filter.ref == "A1:O2" and second.freeze_panes == "A2"
    ids = [first.cell(i, RCOL["患者ID"]).value for i in (2, 3)] + [second.cell(2, RCOL["患者ID"]).value]
    assert ids == reclaims["患者ID"].tolist()


def test_failed_reclaims_write_leaves_nothing(
    tmp_path: Path,
    findings: pd.DataFrame,
    summary: RunSummary,
    reclaims: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(reclaims_sheet, "_write_reclaim_rows", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_reports(findings, summary, tmp_path, reclaims=reclaims)
    assert list(tmp_path.iterdir()) == []


def test_reclaims_duplicate_columns_rejected(tmp_path: Path, summary: RunSummary) -> None:
    df = pd.DataFrame([["a", "b"]], columns=["氏名", "氏名"])
    with pytest.raises(ValueError, match="氏名"):
        write_reports(empty_findings(), summary, tmp_path, reclaims=df)
    assert list(tmp_path.iterdir()) == []


def test_a_streamed_workbook_reads_as_one_built_in_memory(
    tmp_path: Path, findings: pd.DataFrame, summary: RunSummary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to IN_MEMORY_ROWS lines the workbook is built in memory (shared strings), above it
    streamed row by row (constant memory, inline strings): the same cells, the same safety."""
    small, _ = write_reports(findings, summary, tmp_path / "small")
    monkeypatch.setattr(workbook, "IN_MEMORY_ROWS", 0)
    big, _ = write_reports(findings, summary, tmp_path / "big")
    with zipfile.ZipFile(small) as a, zipfile.ZipFile(big) as b:
        assert "xl/sharedStrings.xml" in a.namelist()
        assert "<is>" in b.read("xl/worksheets/sheet2.xml").decode()  # streamed: inline strings
    for sheet in ("概要", "指摘一覧"):
        one = pd.read_excel(small, sheet_name=sheet, header=None, dtype=str, engine="calamine")
        two = pd.read_excel(big, sheet_name=sheet, header=None, dtype=str, engine="calamine")
        pd.testing.assert_frame_equal(one, two)
    ws = openpyxl.load_workbook(big)["指摘一覧"]
    xml = _assert_dangerous_text_stays_text(big, ws, "sheet2.xml", [d for d in DANGEROUS if d != LITERAL_ESCAPE])
    assert LITERAL_ESCAPE_XML in xml
