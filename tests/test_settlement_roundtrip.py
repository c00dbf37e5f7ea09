"""The settlement list's 状態 round-trips like the findings': mark 返金済/徴収済 and メモ in
窓口精算リスト.xlsx, hand it back (``henrei reconcile --previous``, or an upload to the
worker) and the next settlement list of the month shows them on the same claims."""

from __future__ import annotations

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
from worker.reports import NotMarkedListError, is_marked_list, is_settlement_list, read_handed_back
from worker.reports.settlement_marks import normalise_settlement_status, read_settlement_marks

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"
MONTH = SAMPLES / "2026-10"
SETTLEMENT = "窓口精算リスト.xlsx"


def _lines(path: Path) -> dict[str, tuple[str, str]]:
    """{キー: (状態, メモ)} of a written settlement list, read as Excel would."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("窓口精算").to_python()
    head = [str(v) for v in rows[0]]
    k, st, memo = head.index("キー"), head.index("状態"), head.index("メモ")
    return {str(r[k]): (str(r[st]), str(r[memo])) for r in rows[1:] if r[k]}


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("first")
    reconcile([MONTH], out, Settings())
    return out


def _mark(src: Path, dst: Path) -> dict[str, str]:
    """Mark a copy as a clerk would: 返金済 with a memo, 徴収済 typed by hand, an unknown word,
    then every line sorted backwards (the totals line stays below)."""
    wb = openpyxl.load_workbook(src)
    ws = wb["窓口精算"]
    c = {str(cell.value): cell.column for cell in ws[1] if cell.value}
    rows = [r for r in range(2, ws.max_row + 1) if ws.cell(r, c["キー"]).value]
    kinds = {r: str(ws.cell(r, c["精算"]).value) for r in rows}
    refund = next(r for r in rows if kinds[r] == "返金")
    collect = next(r for r in rows if kinds[r] == "徴収")
    other = next(r for r in rows if r not in (refund, collect))
    ws.cell(refund, c["状態"]).value = "返金済"
    ws.cell(refund, c["メモ"]).value = "11/5 窓口で返金（受領書あり）"
    ws.cell(collect, c["状態"]).value = "　徴収済み "  # typed by hand
    ws.cell(other, c["状態"]).value = "済"  # neither: ignored with a warning
    marks = {
        n: str(ws.cell(r, c["キー"]).value) for n, r in (("refund", refund), ("collect", collect), ("other", other))
    }
    data = [[cell.value for cell in row] for row in ws.iter_rows(min_row=rows[0], max_row=rows[-1])]
    for r, values in zip(rows, reversed(data), strict=True):
        for col, v in enumerate(values, start=1):
            ws.cell(r, col).value = v
    wb.save(dst)
    return marks


def test_a_settlement_list_is_told_apart_from_a_correction_list(first: Path) -> None:
    assert is_settlement_list(first / SETTLEMENT) and not is_marked_list(first / SETTLEMENT)
    assert is_marked_list(first / "corrections.xlsx") and not is_settlement_list(first / "corrections.xlsx")
    assert not is_settlement_list(MONTH / "receipts_2026-10.xlsx")
    with pytest.raises(NotMarkedListError, match="窓口精算リスト"):
        read_settlement_marks(first / "corrections.xlsx")


@pytest.mark.parametrize(
    ("typed", "status"),
    [
        ("返金済", "返金済"),
        ("返金済み", "返金済"),
        ("ＦＵＬＬ", None),
        (" 徴収済 ", "徴収済"),
        ("未精算", "未精算"),
        ("済", None),
    ],
)
def test_hand_typed_settlement_statuses(typed: str, status: str | None) -> None:
    assert normalise_settlement_status(typed) == status


def test_marked_settlement_statuses_are_kept_through_the_previous_folder(first: Path, tmp_path: Path) -> None:
    previous = tmp_path / "previous"
    previous.mkdir()
    shutil.copy(first / "corrections.xlsx", previous / "corrections.xlsx")
    marks = _mark(first / SETTLEMENT, previous / SETTLEMENT)
    handed = read_handed_back([previous])
    assert handed.marked is not None and handed.settled is not None
    assert any("「済」" in w for _, w in handed.warnings())
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["reconcile", str(MONTH), "--out", str(out), "--previous", str(previous)])
    assert res.exit_code == 0, res.output
    assert "前回の窓口精算リスト" in res.output  # the warning about 「済」
    lines = _lines(out / SETTLEMENT)
    assert lines[marks["refund"]] == ("返金済", "11/5 窓口で返金（受領書あり）")
    assert lines[marks["collect"]] == ("徴収済", "")
    assert lines[marks["other"]] == ("未精算", "")
    untouched = set(lines) - set(marks.values())
    assert untouched and all(lines[k] == ("未精算", "") for k in untouched)
    totals = CalamineWorkbook.from_path(str(out / SETTLEMENT)).get_sheet_by_name("窓口精算").to_python()
    assert any("精算済 2件" in str(v) for row in totals for v in row)


def test_the_settlement_list_given_as_a_file_and_two_of_a_kind_refused(first: Path, tmp_path: Path) -> None:
    marked = tmp_path / "marked.xlsx"
    marks = _mark(first / SETTLEMENT, marked)
    out = tmp_path / "o"
    res = CliRunner().invoke(app, ["reconcile", str(MONTH), "--out", str(out), "--previous", str(marked)])
    assert res.exit_code == 0, res.output
    assert _lines(out / SETTLEMENT)[marks["refund"]][0] == "返金済"
    res = CliRunner().invoke(
        app,
        ["reconcile", str(MONTH), "--out", str(tmp_path / "p"), "--previous", str(marked), "--previous", str(marked)],
    )
    assert res.exit_code == 2 and "窓口精算リストが2つ" in res.output
    assert not (tmp_path / "p").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    res = CliRunner().invoke(app, ["reconcile", str(MONTH), "--out", str(tmp_path / "q"), "--previous", str(empty)])
    assert res.exit_code == 2 and "前回の出力フォルダ" in res.output


@pytest.fixture
def ctx(db_url: str, tmp_path: Path) -> Iterator[service.Context]:  # noqa: F811
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url)
    yield service.Context(settings)
    service.dispose_engines(db_url)


def _month_run(ctx: service.Context, paths: list[Path]) -> Path:
    """Upload and register ``paths``, run the month's job; its reports folder."""
    for p in paths:
        upload_id, _ = service.accept_upload(ctx, "C1", p)
        service.register_upload(ctx, upload_id, lambda _j: None)
    with service.session_scope(ctx.engine) as s:
        job_id = max(j.id for j in s.query(service.Job).filter_by(kind="reconcile", claim_month="2026-10"))
    assert service.start_job(ctx, job_id, None)
    service.run_reconcile(ctx, job_id)
    with service.session_scope(ctx.engine) as s:
        job = s.get_one(service.Job, job_id)
        assert job.status == "done", job.error
    return ctx.data_dir / "reports" / "C1" / "2026-10" / f"job-{job_id}"


def test_an_uploaded_settlement_list_sets_the_statuses_of_the_next_list(ctx: service.Context, tmp_path: Path) -> None:
    listed = _month_run(ctx, sorted(MONTH.iterdir()))
    marked = tmp_path / "窓口精算リスト（記入済み）.xlsx"
    marks = _mark(listed / SETTLEMENT, marked)
    upload_id, _ = service.accept_upload(ctx, "C1", marked)
    assert service.register_upload(ctx, upload_id, lambda _j: None) == []  # no run of its own
    with service.session_scope(ctx.engine) as s:
        upload = s.get_one(service.Upload, upload_id)
        assert upload.status == "marked"
        assert "窓口精算リスト「窓口精算リスト（記入済み）.xlsx」の状態・メモを読み込みました（変更 2件）" in (
            upload.error or ""
        )
        stored = {m.key: m for m in s.query(service.SettlementMark)}
    assert set(stored) == {marks["refund"], marks["collect"]}
    assert stored[marks["refund"]].changed_by == "Excel（窓口精算リスト（記入済み）.xlsx）"
    # the next run of the month (a new file): its settlement list shows the marks
    extra = tmp_path / "online_extra_2026-10.csv"
    extra.write_text("患者ID,照会日,資格有効性,保険者番号,番号,負担割合\n100001,2026/10/05,1,39136965,85767417,1割\n")
    nxt = _lines(_month_run(ctx, [extra]) / SETTLEMENT)
    assert nxt[marks["refund"]] == ("返金済", "11/5 窓口で返金（受領書あり）")
    assert nxt[marks["collect"]] == ("徴収済", "")
    # a CLI run's list (keyed without the clinic) changes nothing
    cli = tmp_path / "cli.xlsx"
    reconcile([MONTH], tmp_path / "cli_out", Settings())
    _mark(tmp_path / "cli_out" / SETTLEMENT, cli)
    other, _ = service.accept_upload(ctx, "C1", cli)
    service.register_upload(ctx, other, lambda _j: None)
    with service.session_scope(ctx.engine) as s:
        assert "読み飛ばしました" in (s.get_one(service.Upload, other).error or "")
        assert {m.key: str(m.status) for m in s.query(service.SettlementMark)} == {
            marks["refund"]: "返金済",
            marks["collect"]: "徴収済",
        }


def test_a_handed_back_correction_list_is_closed_as_marked(ctx: service.Context, tmp_path: Path) -> None:
    listed = _month_run(ctx, sorted(MONTH.iterdir()))
    upload_id, _ = service.accept_upload(ctx, "C1", listed / "corrections.xlsx")
    service.register_upload(ctx, upload_id, lambda _j: None)
    with service.session_scope(ctx.engine) as s:
        assert s.get_one(service.Upload, upload_id).status == "marked"
