"""Finding a patient by name or カナ (issue 13 item 6): the month's run keeps its list's
patients (``worker.jobs.month_patients``), searches fold like ``name_mismatch`` and stay
inside the session's clinic. The sample month goes through the real reconcile job on
SQLite and PostgreSQL; the names searched for are read from the sample workbook itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from test_storage import db_url  # noqa: F401

from worker import jobs as service
from worker.config import Settings
from worker.jobs.month_patients import kana_key, month_patients, name_key
from worker.web.findings_data import FindingFilter, find_patients, findings_page, patient_findings

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"
MONTH = "2026-10"


def _contains(key: str, query_key: str) -> bool:
    """As the SQL does: some reading of the query inside the stored key."""
    return any(q and q in key for q in query_key.split("\n"))


def test_search_keys_fold_width_kana_variants_spaces_and_dashes() -> None:
    assert _contains(kana_key("ヤマダ　タロウ"), kana_key("やまだ"))
    assert _contains(kana_key("ﾔﾏﾀﾞ ﾀﾛｳ"), kana_key("ヤマダタロウ"))
    assert _contains(kana_key("サトウ－タロウ"), kana_key("さとうたろう"))  # the dash as a separator
    assert _contains(kana_key("コ-ヒ-"), kana_key("コーヒー"))  # the dash as ー
    assert _contains(name_key("髙橋　一郎"), name_key("高橋"))
    assert _contains(name_key("高橋 一郎"), name_key("髙橋一"))
    assert _contains(name_key("山田　太郎"), name_key("山田太郎"))
    assert not _contains(kana_key("サイトウ　マナブ"), kana_key("サトウ"))
    assert not _contains(name_key("太田　学"), name_key("大田"))  # two 常用漢字 stay apart
    assert "\n" not in kana_key("さとう") and name_key("") == kana_key("") == ""


def test_month_patients_take_each_patients_first_name_from_the_context_and_drop_bad_text() -> None:
    findings = pd.DataFrame(
        {
            "source_file": ["r.xlsx", "r.xlsx", "o.csv", "x.csv"],
            "sheet": ["S", "S", "", ""],
            "row": [4, 4, 2, 9],
            "patient_id": ["P1", "P1", "P2", ""],
        }
    )
    context = pd.DataFrame(
        {
            "source_file": ["r.xlsx", "o.csv", "x.csv"],
            "sheet": ["S", "", ""],
            "row": [4, 2, 9],
            "name": pd.Series(["山田　太郎", "bad\udcff\x00name", "誰か"], dtype=object),
            "kana": ["ヤマダ　タロウ", "", "ダレカ"],
        }
    )
    got = month_patients(findings, context).set_index("patient_id")
    assert list(got.index) == ["P1", "P2"]  # a finding without a patient ID names nobody
    assert (got.at["P1", "name"], got.at["P1", "kana"]) == ("山田　太郎", "ヤマダ　タロウ")
    assert got.at["P1", "kana_key"] == "ヤマダタロウ"
    assert got.at["P2", "name"] == "bad\ufffdname" and got.at["P2", "kana"] == ""
    assert month_patients(findings, None).empty


def _sample_names() -> dict[str, tuple[str, str]]:
    """patient ID -> (氏名, カナ) as the sample receipts hold them (the reader reads the
    full-width space between family and given name as a space)."""
    ws = openpyxl.load_workbook(SAMPLES / MONTH / f"receipts_{MONTH}.xlsx", read_only=True).active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    return {
        str(r[0]): (str(r[3]).replace("\u3000", " "), str(r[4]).replace("\u3000", " "))
        for r in rows[3:]
        if r[0] is not None
    }


@pytest.fixture
def ctx(db_url: str, tmp_path: Path) -> Iterator[service.Context]:  # noqa: F811
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url)
    yield service.Context(settings)
    service.dispose_engines(db_url)


def _reconcile(ctx: service.Context, clinic: str) -> None:
    queued: list[int] = []
    for p in sorted((SAMPLES / MONTH).iterdir()):
        upload_id, _ = service.accept_upload(ctx, clinic, p)
        service.register_upload(ctx, upload_id, queued.append)
    for job_id in dict.fromkeys(queued):
        if service.start_job(ctx, job_id, None):
            service.run_reconcile(ctx, job_id)


def test_the_months_run_keeps_its_patients_and_the_list_finds_them_by_name_or_kana_in_its_clinic_only(
    ctx: service.Context,
) -> None:
    _reconcile(ctx, "C1")
    names = _sample_names()
    with service.session_scope(ctx.engine) as s:
        stored = {
            r.patient_id: (r.name, r.kana)
            for r in s.scalars(sa.select(service.MonthPatient).where(service.MonthPatient.run_month == MONTH))
        }
        with_findings = set(
            s.scalars(
                sa.select(service.Finding.patient_id).where(
                    service.Finding.run_month == MONTH, service.Finding.patient_id != ""
                )
            )
        )
    assert set(stored) == with_findings  # exactly the patients the list names
    in_sample = [p for p in stored if p in names]
    assert len(in_sample) > 20
    assert all(stored[p] == names[p] for p in in_sample)

    # a patient found by hiragana of the カナ's family name, by the kanji name without its space
    pid = sorted(in_sample)[0]
    name, kana = names[pid]
    family_hiragana = "".join(chr(ord(c) - 0x60) for c in kana.split(" ")[0])
    for query in (family_hiragana, name.replace(" ", ""), pid):
        hits = find_patients(ctx.engine, "C1", query)
        assert pid in {h.patient_id for h in hits}, query
        hit = next(h for h in hits if h.patient_id == pid)
        assert (hit.name, hit.kana) == (name, kana) and hit.findings >= 1
        listed = findings_page(ctx.engine, "C1", MONTH, FindingFilter(patient=query), 1)
        assert listed.total >= 1 and pid in {r.patient_id for r in listed.rows}
        assert all(r.name == names[r.patient_id][0] for r in listed.rows if r.patient_id in names)
    whole = findings_page(ctx.engine, "C1", MONTH, FindingFilter(patient=name.replace(" ", "")), 1)
    assert {r.patient_id for r in whole.rows} == {p for p in stored if names.get(p, ("",))[0] == name}
    assert {r.name for r in patient_findings(ctx.engine, "C1", pid)} == {name}

    # another clinic finds nothing of C1's patients; nothing matches made-up text
    assert find_patients(ctx.engine, "C2", family_hiragana) == []
    assert findings_page(ctx.engine, "C2", MONTH, FindingFilter(patient=family_hiragana), 1).total == 0
    assert find_patients(ctx.engine, "C1", "存在しない名前") == []
    assert find_patients(ctx.engine, "C1", "%") == []  # LIKE wildcards are escaped

    # a re-run of the month replaces its patients, it does not add to them
    with service.session_scope(ctx.engine) as s:
        before = s.scalar(sa.select(sa.func.count()).select_from(service.MonthPatient))
    queued = service.queue_reconcile(ctx, "C1", MONTH, lambda _job: None)
    assert service.start_job(ctx, queued, None)
    service.run_reconcile(ctx, queued)
    with service.session_scope(ctx.engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(service.MonthPatient)) == before


def test_the_benchmarks_names_are_found_by_hiragana_and_by_the_old_form_of_a_kanji(tmp_path: Path) -> None:
    """The month the web benchmark measures: its name filters find what they claim to."""
    from benchmarks.bench_web import store_month

    settings = Settings(data_dir=tmp_path)
    store_month(settings, 200, clinic="A")
    engine = service.Context(settings).engine
    kana = findings_page(engine, "A", "2026-10", FindingFilter(patient="すずきはな"), 1)
    assert kana.total > 0 and {r.kana for r in kana.rows} == {"スズキ\u3000ハナコ"}
    kanji = findings_page(engine, "A", "2026-10", FindingFilter(patient="高橋"), 1)
    assert kanji.total > 0 and all(r.name.startswith("髙橋") for r in kanji.rows)
    assert findings_page(engine, "B", "2026-10", FindingFilter(patient="高橋"), 1).total == 0
