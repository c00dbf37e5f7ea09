"""Every sheet of corrections.xlsx prints for the clerk: A4 landscape, one page wide, the
header row on every page, a page header and footer naming the clinic, the claim month,
the sheet and 「n / m ページ」, the developer columns outside the print area, long text
wrapped in rows tall enough for it. Read back from the workbook's XML."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from rules import FINDING_COLUMNS
from worker.cli import reconcile
from worker.engine.results import FileStatus, RunSummary
from worker.reports import write_reports
from worker.reports.formats import FINDINGS_HEADERS, LAST_PRINTED, LAYOUT
from worker.reports.page_setup import PageHeader, period_label
from worker.reports.row_height import LINE_PT, MAX_ROW_PT, row_heights, text_lines

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"
LAYOUT_COL = {c.header: i + 1 for i, c in enumerate(LAYOUT)}
LONG = "オンライン資格確認の負担割合と券面の負担割合が異なります。保険者に確認してください。" * 3


def _findings(n: int = 5) -> pd.DataFrame:
    rows = [
        {
            "source_file": "レセプト.xlsx",
            "sheet": "国保",
            "row": 2 + i,
            "patient_id": f"P{i}",
            "claim_month": "2026-10",
            "category": "ratio_online_vs_card",
            "rule_id": "RATIO_ONLINE_CARD",
            "severity": "warning",
            "expected": "3割",
            "actual": "2割",
            "message": LONG if i == 0 else "短い内容",
            "action": "確認してください。",
            "copay_diff_yen": pd.NA,
        }
        for i in range(n)
    ]
    df = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    df["copay_diff_yen"] = df["copay_diff_yen"].astype("Int64")
    return df


def _summary() -> RunSummary:
    return RunSummary(
        period="2026-10",
        files=[FileStatus("レセプト.xlsx", "ok", "レセプト一覧（国保、5行）", "")],
        receipts=5,
        started_at=datetime(2026, 11, 5, 9, 0),
        finished_at=datetime(2026, 11, 5, 9, 1),
    )


def _reclaims() -> pd.DataFrame:
    return pd.DataFrame({"患者ID": ["P1"], "対応": ["再請求してください。"], "再請求": ["可"], "請求点数": [100]})


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], str]:
    """The workbook of a job (clinic and month known): its path, sheet XML by sheet name, workbook XML."""
    out = tmp_path_factory.mktemp("print")
    xlsx, _ = write_reports(
        _findings(), _summary(), out, reclaims=_reclaims(), clinic="さくら&内科", claim_month="2026-10"
    )
    with zipfile.ZipFile(xlsx) as z:
        names = ["概要", "指摘一覧", "返戻再請求"]
        sheets = {n: z.read(f"xl/worksheets/sheet{i + 1}.xml").decode() for i, n in enumerate(names)}
        wb_xml = z.read("xl/workbook.xml").decode()
    return xlsx, sheets, wb_xml


def _attrs(xml: str, tag: str) -> dict[str, str]:
    m = re.search(rf"<{tag}\b([^>]*)/?>", xml)
    assert m, tag
    return dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))


def _defined(wb_xml: str, name: str, sheet_id: int) -> str:
    m = re.search(rf'<definedName name="{re.escape(name)}" localSheetId="{sheet_id}"[^>]*>([^<]*)<', wb_xml)
    assert m, (name, sheet_id)
    return m.group(1)


@pytest.mark.parametrize("sheet", ["概要", "指摘一覧", "返戻再請求"])
def test_every_sheet_prints_a4_landscape_one_page_wide(book: Any, sheet: str) -> None:
    _, sheets, _ = book
    xml = sheets[sheet]
    setup = _attrs(xml, "pageSetup")
    assert setup["orientation"] == "landscape" and setup["paperSize"] == "9"
    assert setup.get("fitToWidth", "1") == "1"  # 1 is the default: XlsxWriter leaves it out
    assert setup["fitToHeight"] == ("2" if sheet == "概要" else "0")  # 概要: at most 2 pages tall
    assert _attrs(xml, "pageSetUpPr")["fitToPage"] == "1"
    assert _attrs(xml, "printOptions")["horizontalCentered"] == "1"
    margins = _attrs(xml, "pageMargins")
    assert float(margins["left"]) <= 0.5 and float(margins["top"]) >= 0.5  # room for the header


@pytest.mark.parametrize("sheet", ["概要", "指摘一覧", "返戻再請求"])
def test_header_and_footer_name_clinic_month_sheet_and_pages(book: Any, sheet: str) -> None:
    _, sheets, _ = book
    header = re.search(r"<oddHeader>(.*?)</oddHeader>", sheets[sheet])
    footer = re.search(r"<oddFooter>(.*?)</oddFooter>", sheets[sheet])
    assert header and footer
    h = header.group(1).replace("&amp;", "&")
    f = footer.group(1).replace("&amp;", "&")
    assert "&L&10 さくら&&内科" in h  # the clinic, its & doubled (never a code)
    assert "&A" in h and "&R&10 2026年10月診療分" in h
    assert "&P / &N ページ" in f and "作成 2026-11-05 09:01" in f


def test_print_areas_and_repeated_header_rows(book: Any) -> None:
    _, _, wb_xml = book
    n = len(_findings())
    last = openpyxl.utils.get_column_letter(LAST_PRINTED + 1)
    assert FINDINGS_HEADERS[LAST_PRINTED] == "メモ"  # the clerk's columns end with メモ
    assert _defined(wb_xml, "_xlnm.Print_Area", 1) == f"指摘一覧!$A$1:${last}${n + 1}"
    assert _defined(wb_xml, "_xlnm.Print_Titles", 1) == "指摘一覧!$1:$1"
    assert _defined(wb_xml, "_xlnm.Print_Area", 2) == "返戻再請求!$A$1:$D$2"
    assert _defined(wb_xml, "_xlnm.Print_Titles", 2) == "返戻再請求!$1:$1"
    assert re.fullmatch(r"概要!\$A\$1:\$F\$\d+", _defined(wb_xml, "_xlnm.Print_Area", 0))
    assert 'name="_xlnm.Print_Titles" localSheetId="0"' not in wb_xml  # 概要 has no header row


def test_columns_outside_the_print_area(book: Any) -> None:
    xlsx, _, _ = book
    ws = openpyxl.load_workbook(xlsx)["指摘一覧"]
    for i, c in enumerate(LAYOUT):
        dim = ws.column_dimensions[openpyxl.utils.get_column_letter(i + 1)]
        assert (i <= LAST_PRINTED) == (c.part == "print"), c.header
        assert dim.width >= 6, c.header  # every column has a width (現在の値 too)
        if c.part == "developer":  # grouped and folded away: 区分コード, ルールID, file/sheet/row
            assert dim.hidden and dim.outline_level == 1, c.header
        elif c.part == "key":
            assert dim.hidden and dim.outline_level == 0 and c.header == "キー"
        else:
            assert not dim.hidden, c.header
    assert [c.header for c in LAYOUT if c.part == "developer"] == ["ファイル", "シート", "行", "区分コード", "ルールID"]


def test_long_text_wraps_and_rows_grow(book: Any) -> None:
    xlsx, _, _ = book
    ws = openpyxl.load_workbook(xlsx)["指摘一覧"]
    col = {c.header: i + 1 for i, c in enumerate(LAYOUT)}
    for r in range(2, 7):
        for h in ("氏名", "区分", "内容", "対応", "元データ"):
            cell = ws.cell(r, col[h])
            assert cell.alignment.wrap_text and cell.alignment.vertical == "top", (r, h)
        assert not ws.cell(r, col["現在の値"]).alignment.wrap_text  # not printed: one line
    long_row = next(r for r in range(2, 7) if ws.cell(r, col["内容"]).value == LONG)
    width = LAYOUT[col["内容"] - 1].width
    lines = text_lines(pd.Series([LONG]), width)[0]
    assert lines >= 6
    # XlsxWriter rounds a height to whole pixels (0.75 pt)
    assert ws.row_dimensions[long_row].height == pytest.approx(min(MAX_ROW_PT, lines * LINE_PT + 3.5), abs=0.75)
    short = [r for r in range(2, 7) if r != long_row]
    # the short lines are as tall as their longest cell (区分 on three lines), no taller
    for r in short:
        assert ws.row_dimensions[r].height == pytest.approx(3 * LINE_PT + 3.5, abs=0.75)

    summary = openpyxl.load_workbook(xlsx)["概要"]
    files_row = next(r for r in range(1, 40) if summary.cell(r, 1).value == "レセプト.xlsx")
    assert summary.cell(files_row, 3).alignment.wrap_text
    assert f"C{files_row}:F{files_row}" in {str(m) for m in summary.merged_cells.ranges}


def test_text_lines_is_an_upper_estimate() -> None:
    # a full-width character takes ~2.1 units, a paragraph starts a new line
    got = text_lines(pd.Series(["", "あ" * 10, "あ" * 10 + "\n" + "x", "a" * 100], index=[7, 8, 9, 10]), 20)
    assert got.tolist() == [1, 2, 3, 6]
    heights = row_heights([(pd.Series(["x", "あ" * 40]), 20.0)], 2)
    assert heights[0] is None and heights[1] == pytest.approx(5 * LINE_PT + 3.5)
    assert row_heights([(pd.Series(["あ" * 10_000]), 10.0)], 1) == [MAX_ROW_PT]


def test_page_header_text_is_safe() -> None:
    page = PageHeader("A&B\x01" + "長" * 100, "2026年10月診療分", "2026-11-05 09:01")
    h = page.header()
    assert "A&&B" in h and "\x01" not in h
    assert len(h) < 255  # Excel ignores a longer header
    assert PageHeader("", "2026年10月診療分", "x").header().startswith("&C")  # no clinic: nothing on the left
    assert PageHeader("123", "x", "x").header().startswith("&L&10 123")  # a size code never eats digits


def test_period_label() -> None:
    assert period_label("2026-10") == "2026年10月診療分"
    assert period_label("2026-09〜2026-10") == "2026年09月〜2026年10月診療分"
    assert period_label("（診療年月なし）") == "（診療年月なし）"


def test_cli_run_has_no_clinic_and_the_run_period(tmp_path: Path) -> None:
    xlsx, _ = write_reports(_findings(), _summary(), tmp_path)
    with zipfile.ZipFile(xlsx) as z:
        xml = z.read("xl/worksheets/sheet2.xml").decode().replace("&amp;", "&")
    header = re.search(r"<oddHeader>(.*?)</oddHeader>", xml)
    assert header and header.group(1).startswith("&C") and "2026年10月診療分" in header.group(1)


# ------------------------------------------------------------------ as a clerk prints it


@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext")), reason="needs LibreOffice and poppler")
def test_the_sample_printed_by_libreoffice(tmp_path: Path) -> None:
    """The bundled month through LibreOffice to PDF: 概要 on at most two pages, every page of
    指摘一覧 one page wide with the header row, no wrapped text cut off."""
    run = reconcile([SAMPLES], tmp_path / "out")
    xlsx = run.outputs[0]
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(xlsx)],
        check=True,
        capture_output=True,
        timeout=300,
        env={**os.environ, "HOME": str(tmp_path)},  # a profile of its own
    )
    text = subprocess.run(
        ["pdftotext", "-raw", str(tmp_path / "corrections.pdf"), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = [re.sub(r"\s+", "", p) for p in text.split("\f") if p.strip()]
    header = [c.header for c in LAYOUT[: LAST_PRINTED + 1]]  # text runs come in any order

    def kind(page: str) -> str:
        if all(h in page for h in header):
            return "指摘一覧"
        return "返戻再請求" if "返戻年月" in page else "概要"

    kinds = [kind(p) for p in pages]
    assert kinds == sorted(kinds, key=["概要", "指摘一覧", "返戻再請求"].index)  # in sheet order
    assert 1 <= kinds.count("概要") <= 2 and kinds.count("返戻再請求") == 1
    assert kinds.count("指摘一覧") >= 2  # and each of them carries the whole header row
    assert all(f"{i}/{len(pages)}ページ" in p for i, p in enumerate(pages, start=1))
    lists = "".join(p for p, k in zip(pages, kinds, strict=True) if k == "指摘一覧")
    for h in ("区分コード", "ルールID", "キー", "RATIO_AGE_BILLED", "ratio_implausible_for_age"):
        assert h not in lists, h  # developer columns stay off paper
    ws = openpyxl.load_workbook(xlsx)["指摘一覧"]
    body = "".join(pages)
    for r in range(2, ws.max_row + 1):
        for h in ("区分", "内容", "対応", "元データ"):
            value = ws.cell(r, LAYOUT_COL[h]).value
            if value:  # the end of every wrapped text is on paper: the row was tall enough
                assert re.sub(r"\s+", "", value)[-10:] in body, (r, h, value)
