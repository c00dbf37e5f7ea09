"""The clerk's statuses round-trip through Excel: mark 状態/メモ in corrections.xlsx, hand it
back (``henrei reconcile --previous``, or an upload to the worker) and the next list shows
them on the same findings; a finding that is gone is listed as 解消 on 概要."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from test_storage import db_url  # noqa: F401
from typer.testing import CliRunner

from worker import jobs as service
from worker.cli import app, reconcile
from worker.config import Settings
from worker.reports import NotMarkedListError, read_marked
from worker.reports.marked import normalise_status

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"
MONTH = SAMPLES / "2026-10"


def _cols(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, int]:
    return {str(c.value): c.column for c in ws[1] if c.value}


def _lines(path: Path, sheet: str = "指摘一覧") -> dict[str, tuple[str, str]]:
    """{keys cell: (状態, メモ)} of a written list, read as the clerk's Excel would."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    head = [str(v) for v in rows[0]]
    k, st, memo = head.index("キー"), head.index("状態"), head.index("メモ")
    return {str(r[k]): (str(r[st]), str(r[memo])) for r in rows[1:]}


def _summary_text(path: Path) -> str:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("概要").to_python()
    return "\n".join(" | ".join(str(v) for v in r if v != "") for r in rows)


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("first")
    reconcile([MONTH], out, Settings())
    return out / "corrections.xlsx"


def _mark(src: Path, dst: Path) -> dict[str, object]:
    """Mark a copy as a clerk would: statuses (one typed by hand with spaces and full width),
    a memo, an unknown word, a merged line, a deleted row, then the rows sorted backwards."""
    wb = openpyxl.load_workbook(src)
    ws = wb["指摘一覧"]
    c = _cols(ws)
    keys = [ws.cell(r, c["キー"]).value for r in range(2, ws.max_row + 1)]
    merged = next(i for i, k in enumerate(keys) if "," in str(k)) + 2
    single = [i + 2 for i, k in enumerate(keys) if "," not in str(k)]
    done, busy, typed, unknown, deleted = single[:5]
    ws.cell(done, c["状態"]).value = "対応済"
    ws.cell(done, c["メモ"]).value = "レセコン修正済み（10/31 佐藤）"
    ws.cell(busy, c["状態"]).value = "対応中"
    ws.cell(typed, c["状態"]).value = "　対象外 "  # typed by hand: full-width and ASCII spaces
    ws.cell(unknown, c["状態"]).value = "やった"
    ws.cell(merged, c["状態"]).value = "対応済"
    marks = {
        "done": keys[done - 2],
        "busy": keys[busy - 2],
        "typed": keys[typed - 2],
        "unknown": keys[unknown - 2],
        "merged": keys[merged - 2],
        "deleted": keys[deleted - 2],
    }
    # sort: every data row backwards (values only), then delete one row
    data = [[cell.value for cell in row] for row in ws.iter_rows(min_row=2, max_row=ws.max_row)]
    for r, values in enumerate(reversed(data), start=2):
        for col, v in enumerate(values, start=1):
            ws.cell(r, col).value = v
    gone = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, c["キー"]).value == marks["deleted"])
    ws.delete_rows(gone)
    wb.save(dst)
    return marks


def test_marked_statuses_are_kept_on_the_same_findings(first: Path, tmp_path: Path) -> None:
    marked_path = tmp_path / "marked.xlsx"
    marks = _mark(first, marked_path)
    marked = read_marked(marked_path)
    assert any("やった" in w for w in marked.warnings)  # an unknown word: ignored, said
    out = tmp_path / "second"
    reconcile([MONTH], out, Settings(), previous=marked)
    lines = _lines(out / "corrections.xlsx")
    assert lines[str(marks["done"])] == ("対応済", "レセコン修正済み（10/31 佐藤）")
    assert lines[str(marks["busy"])] == ("対応中", "")
    assert lines[str(marks["typed"])] == ("対象外", "")
    assert lines[str(marks["unknown"])] == ("未対応", "")
    assert lines[str(marks["merged"])] == ("対応済", "")
    assert lines[str(marks["deleted"])] == ("未対応", "")  # a deleted row: back as nobody touched it
    report = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    statuses = {s["key"]: s["status"] for s in report["statuses"]}
    for key in str(marks["merged"]).split(","):  # a merged line's status: each of its findings
        assert statuses[key] == "対応済"
    assert report["resolved"] == []  # same inputs: nothing gone
    assert "前回の指摘は、すべて今回も見つかりました" in _summary_text(out / "corrections.xlsx")


def test_a_fixed_finding_is_listed_as_resolved(first: Path, tmp_path: Path) -> None:
    month = tmp_path / "2026-10"
    shutil.copytree(MONTH, month)
    receipts = month / "receipts_2026-10.xlsx"
    wb = openpyxl.load_workbook(receipts)
    fixed = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value == "未確定":  # 合計点数 the clerk has now filled in
                    cell.value = 520
                    fixed += 1
    assert fixed
    wb.save(receipts)
    before = read_marked(first)
    gone = [line for line in before.lines if line.content.startswith("「合計点数」列の値「未確定」")]
    assert gone
    out = tmp_path / "out"
    reconcile([month], out, Settings(), previous=before)
    text = _summary_text(out / "corrections.xlsx")
    assert "解消した指摘" in text
    for line in gone:
        assert line.patient_id in text and line.content in text
    report = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    resolved = {r["key"]: r["category"] for r in report["resolved"]}
    for line in gone:
        assert all(resolved[k] == "input_invalid" for k in line.keys)
    assert not set(resolved) & set(_lines(out / "corrections.xlsx"))


def test_a_list_of_another_period_carries_nothing_and_says_why(first: Path, tmp_path: Path) -> None:
    out = tmp_path / "sept"
    reconcile([SAMPLES / "2026-09"], out, Settings(), previous=read_marked(first))
    text = _summary_text(out / "corrections.xlsx")
    assert "対象期間が 2026-10 で、今回（2026-09）と違う" in text
    assert json.loads((out / "findings.json").read_text(encoding="utf-8"))["resolved"] == []


def test_a_file_that_is_not_a_henrei_list_is_refused_in_japanese(tmp_path: Path) -> None:
    with pytest.raises(NotMarkedListError, match="henrei の訂正リスト"):
        read_marked(MONTH / "receipts_2026-10.xlsx")
    res = CliRunner().invoke(
        app, ["reconcile", str(MONTH), "--out", str(tmp_path / "o"), "--previous", str(MONTH / "receipts_2026-10.xlsx")]
    )
    assert res.exit_code == 2
    assert "訂正リスト（corrections.xlsx）ではありません" in res.output
    assert not (tmp_path / "o").exists()  # refused before anything is read


def test_the_cli_option_previous(first: Path, tmp_path: Path) -> None:
    marked_path = tmp_path / "marked.xlsx"
    marks = _mark(first, marked_path)
    out = tmp_path / "o"
    res = CliRunner().invoke(app, ["reconcile", str(MONTH), "--out", str(out), "--previous", str(marked_path)])
    assert res.exit_code == 0, res.output
    assert "やった" in res.output  # the warning about the unknown status
    assert _lines(out / "corrections.xlsx")[str(marks["busy"])] == ("対応中", "")


@pytest.mark.parametrize(
    ("typed", "status"),
    [
        ("対応済", "対応済"),
        (" 対応済み ", "対応済"),
        ("対応\u3000中", "対応中"),
        ("ﾀｲｵｳｽﾞﾐ", None),
        ("済", "対応済"),
        ("", None),
    ],
)
def test_hand_typed_statuses(typed: str, status: str | None) -> None:
    assert normalise_status(typed) == status


# ------------------------------------------------------------------ the worker


@pytest.fixture
def ctx(db_url: str, tmp_path: Path) -> Iterator[service.Context]:  # noqa: F811
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url)
    yield service.Context(settings)
    service.dispose_engines(db_url)


def _month_run(ctx: service.Context, paths: list[Path]) -> Path:
    """Upload and register ``paths``, run the month's job; its corrections.xlsx."""
    queued: list[int] = []
    for p in paths:
        upload_id, _ = service.accept_upload(ctx, "C1", p)
        service.register_upload(ctx, upload_id, queued.append)
    with service.session_scope(ctx.engine) as s:
        job_id = max(j.id for j in s.query(service.Job).filter_by(kind="reconcile", claim_month="2026-10"))
    assert service.start_job(ctx, job_id, None)
    service.run_reconcile(ctx, job_id)
    with service.session_scope(ctx.engine) as s:
        job = s.get_one(service.Job, job_id)
        assert job.status == "done", job.error
    return next((ctx.data_dir / "reports" / "C1" / "2026-10" / f"job-{job_id}").glob("corrections.xlsx"))


def test_an_uploaded_marked_list_sets_the_statuses_shown_in_the_next_list(ctx: service.Context, tmp_path: Path) -> None:
    listed = _month_run(ctx, sorted(MONTH.iterdir()))
    marked_path = tmp_path / "corrections（記入済み）.xlsx"
    marks = _mark(listed, marked_path)
    upload_id, _ = service.accept_upload(ctx, "C1", marked_path)
    assert service.register_upload(ctx, upload_id, lambda _j: None) == []  # no run of its own
    with service.session_scope(ctx.engine) as s:
        upload = s.get_one(service.Upload, upload_id)
        assert "状態・メモを読み込みました" in (upload.error or "")
        frame = service.findings_frame(s, "C1", "2026-10")
        stored = {st.key: st for st in s.query(service.FindingStatus)}
    status = dict(zip(frame["key"], frame["status"], strict=True))
    assert status[str(marks["done"])] == "対応済"
    assert stored[str(marks["done"])].changed_by == "Excel（corrections（記入済み）.xlsx）"
    assert stored[str(marks["done"])].note == "レセコン修正済み（10/31 佐藤）"
    for key in str(marks["merged"]).split(","):
        assert status[key] == "対応済"
    assert str(marks["busy"]) in stored and str(marks["deleted"]) not in stored
    # a new file of the month: its list shows the marks (the workbook is no input)
    extra = tmp_path / "online_extra_2026-10.csv"
    extra.write_text("患者ID,照会日,資格有効性,保険者番号,番号,負担割合\n100001,2026/10/05,1,39136965,85767417,1割\n")
    nxt = _lines(_month_run(ctx, [extra]))
    assert nxt[str(marks["done"])] == ("対応済", "レセコン修正済み（10/31 佐藤）")
    assert nxt[str(marks["typed"])] == ("対象外", "")


def test_another_clinics_list_changes_nothing(ctx: service.Context, tmp_path: Path, first: Path) -> None:
    _month_run(ctx, sorted(MONTH.iterdir()))
    marked_path = tmp_path / "cli.xlsx"
    _mark(first, marked_path)  # a CLI run's list: keyed without the clinic
    upload_id, _ = service.accept_upload(ctx, "C1", marked_path)
    service.register_upload(ctx, upload_id, lambda _j: None)
    with service.session_scope(ctx.engine) as s:
        assert s.query(service.FindingStatus).count() == 0
        assert "読み飛ばしました" in (s.get_one(service.Upload, upload_id).error or "")
