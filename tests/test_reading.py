"""Reading real clinic files: title rows, aliases, several tables, text cells, CSV
encodings, and hostile or broken files beside good ones (real reader, real child process)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import hostile
import openpyxl
import pandas as pd
import pytest
from conftest import SAMPLE_OCTOBER_RECEIPTS

from worker.cli import reconcile
from worker.config import Settings
from worker.normalise.typed import months_of, normalise
from worker.reading import RawTable, read_all

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"
SETTINGS = Settings()


def _receipts_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "10月分"
    ws.append(["レセプト一覧 令和8年10月診療分"])
    ws.append([])
    ws.append(
        [
            "患者 ＩＤ",
            "診療年月",
            "診療日",
            "氏名",
            "生年月日",
            "保険者番号",
            "番号",
            "枝番",
            "負担割合",
            "実日数",
            "合計点数",
            "備考",
        ]
    )
    ws.append(["A1", "R8.10", date(2026, 10, 3), "山田 太郎", "S55.5.10", 1040013, 5678, "00", "３割", 1, 1000, "メモ"])
    ws.append([])  # a blank row in the middle is skipped, not the end of the table
    ws.append(
        ["A2", "令和8年10月", "2026/10/04", "鈴木 花子", date(1980, 1, 2), "01040013", "12", 0, 0.3, 2, "800", ""]
    )
    online = wb.create_sheet("オン資")
    online.append(["照会日", "患者番号", "資格確認結果", "保険者番号", "負担割合"])
    online.append(["2026-10-03", "A1", "有効", "01040013", "30%"])
    wb.create_sheet("メモ").append(["これは表ではありません"])
    wb.save(path)
    return path


def test_title_rows_aliases_several_tables_and_text_cells(tmp_path: Path) -> None:
    path = _receipts_workbook(tmp_path / "book.xlsx")
    tables, problems, _ = read_all([path], SETTINGS)
    assert not problems
    kinds = {t.kind: t for t in tables}
    assert set(kinds) == {"receipts", "online"}
    rec = kinds["receipts"]
    assert rec.sheet == "10月分"
    assert rec.frame["_row"].tolist() == [4, 6]  # Excel rows, blank row skipped
    assert rec.headers["patient_id"] == "患者 ＩＤ"
    assert rec.frame["insurer_no"].tolist() == ["1040013", "01040013"]  # number cell and text cell
    assert rec.frame["card_branch"].tolist() == ["00", "0"]
    assert rec.frame["service_date"].tolist()[0] == "2026-10-03"
    assert "extra:備考" in rec.frame.columns  # unknown columns are kept


def test_csv_in_cp932_and_utf8(tmp_path: Path) -> None:
    header = "患者ID,照会日,資格有効性,保険者番号,負担割合\r\n"
    row = "A1,R8.10.3,無効（新しい資格あり）,01040013,３割\r\n"
    (tmp_path / "sjis.csv").write_bytes(("オンライン資格確認結果\r\n" + header + row).encode("cp932"))
    (tmp_path / "utf8.csv").write_bytes((header + row).encode("utf-8-sig"))
    tables, problems, _ = read_all([tmp_path / "sjis.csv", tmp_path / "utf8.csv"], SETTINGS)
    assert not problems
    assert [t.kind for t in tables] == ["online", "online"]
    for t in tables:
        assert t.frame["validity"].tolist() == ["無効（新しい資格あり）"]
    assert tables[0].frame["_row"].tolist() == [3]


@pytest.mark.parametrize(
    ("builder", "words"),
    [
        (hostile.huge_dimension_xlsx, "範囲"),
        (hostile.zip_bomb_xlsx, "展開"),
        (hostile.not_excel_xlsx, "Excel"),
        (hostile.empty_file, "空"),
        (hostile.binary_csv, "CSV"),
    ],
)
def test_hostile_file_beside_good_ones(tmp_path: Path, builder: object, words: str) -> None:
    month = tmp_path / "month"
    shutil.copytree(SAMPLES / "2026-10", month)
    bad = builder(month)  # type: ignore[operator]
    result = reconcile([month], tmp_path / "out")
    assert [p.file for p in result.problems] == [bad.name]
    assert words in result.problems[0].message
    assert result.summary.receipts == SAMPLE_OCTOBER_RECEIPTS  # the good files were all processed
    assert (tmp_path / "out" / "corrections.xlsx").exists()


def test_corrupt_copies_of_a_good_file(tmp_path: Path) -> None:
    month = tmp_path / "month"
    shutil.copytree(SAMPLES / "2026-10", month)
    good = month / "card_records_2026-10.xlsx"
    (tmp_path / "x").mkdir()
    broken = [hostile.truncated_xlsx(good, tmp_path / "x"), hostile.bitflipped_xlsx(good, tmp_path / "x")]
    result = reconcile([month, *broken], tmp_path / "out")
    assert sorted(p.file for p in result.problems) == sorted(b.name for b in broken)
    assert all(p.message for p in result.problems)
    assert result.summary.receipts == SAMPLE_OCTOBER_RECEIPTS


def test_reader_crash_is_contained(tmp_path: Path) -> None:
    """Without the guard's protection (the extraction alone), calamine aborts on the far
    cell: the child dies and the caller gets the failure. With it, the reader's guard refuses
    the file with its message, and the run goes on with the others."""
    from worker.reading.extract import extract_tables
    from worker.reading.isolation import IsolatedFailure, run_isolated

    bad = hostile.huge_dimension_xlsx(tmp_path)
    with pytest.raises(IsolatedFailure) as failed:
        run_isolated(extract_tables, str(bad), str(tmp_path / "out"), memory_bytes=2048 * 1024**2, timeout_s=120)
    assert failed.value.reason in ("crashed", "memory")
    good = tmp_path / "receipts.xlsx"
    shutil.copy(SAMPLES / "2026-10" / "receipts_2026-10.xlsx", good)
    tables, problems, _ = read_all([bad, good], Settings(reader_memory_mb=2048))
    assert [p.file for p in problems] == [bad.name] and "範囲" in problems[0].message
    assert tables and all(t.file == good.name for t in tables)


def test_cache_reads_a_content_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from worker.reading import read as reading

    path = _receipts_workbook(tmp_path / "book.xlsx")
    cache = tmp_path / "cache" / "ab" / "abcdef"
    first = reading.read_file(path, SETTINGS, cache_dir=cache)
    assert not isinstance(first, reading.FileProblem) and (cache / "manifest.json").exists()

    def no_parse(*_a: object, **_k: object) -> None:
        raise AssertionError("the cached content was parsed again")

    monkeypatch.setattr(reading, "run_reader", no_parse)
    second = reading.read_file(path, SETTINGS, display="renamed.xlsx", cache_dir=cache)
    assert not isinstance(second, reading.FileProblem)
    assert [t.kind for t in second] == [t.kind for t in first]
    assert second[0].file == "renamed.xlsx"
    pd.testing.assert_frame_equal(second[0].frame, first[0].frame)
    assert not list((tmp_path / "cache" / "ab").glob(".*"))  # no temp folder left


def test_months_of_a_table_are_those_normalise_gives() -> None:
    """The worker finds an upload's months from its month fields alone (``months_of``)."""
    samples = sorted(p for p in SAMPLES.glob("2026-*/*") if p.suffix in (".xlsx", ".csv"))
    tables, problems, _ = read_all(samples, Settings())
    assert not problems and len(tables) >= 4
    for t in tables:
        typed, _ = normalise(t)
        expected = {m for f in ("claim_month", "checked_on") for m in typed[f].dropna().dt.strftime("%Y-%m") if m}
        assert months_of(t) == expected, t.file
    odd = RawTable(
        kind="receipts",
        file="x.csv",
        sheet="",
        frame=pd.DataFrame(
            {"_row": [2, 3, 4, 5, 6], "claim_month": ["R8.10", "令和8年9月", "２０２６－０８", "不明", None]}
        ),
    )
    assert months_of(odd) == {"2026-10", "2026-09", "2026-08"}
    assert months_of(RawTable(kind="cards", file="c.csv", sheet="", frame=pd.DataFrame({"_row": [2]}))) == set()
