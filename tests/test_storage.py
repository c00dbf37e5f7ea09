"""worker.jobs' stores against real databases: SQLite in tmp_path and PostgreSQL (a schema per test).

PostgreSQL is reached at HENREI_TEST_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
its tests are skipped, saying why, only when that server cannot be reached.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError

from rules import FINDING_COLUMNS, empty_findings
from worker.cli import reconcile
from worker.config import Settings
from worker.jobs import (
    FindingStatus,
    Job,
    NightlyRun,
    Upload,
    finding_key,
    findings_frame,
    make_engine,
    replace_findings,
    session_scope,
    set_finding_status,
    store_upload,
    upgrade,
)
from worker.jobs.database import alembic_config
from worker.jobs.models import Base

SAMPLE_MONTH = Path(__file__).resolve().parents[1] / "sample_receipts" / "2026-10"
STALE = Settings().sweep_stale
PG_URL = os.environ.get("HENREI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@cache
def _pg_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        import psycopg
    except ImportError as e:  # pragma: no cover - psycopg is a dependency
        return f"psycopg is not installed: {e}"
    u = make_url(PG_URL)
    try:
        with psycopg.connect(
            host=u.host, port=u.port or 5432, user=u.username, password=u.password, dbname=u.database, connect_timeout=3
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as e:
        return f"PostgreSQL at {u.render_as_string(hide_password=True)} is unreachable: {e}".strip()
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'henrei.db'}"
        return
    reason = _pg_unreachable()
    if reason:
        pytest.skip(reason)
    schema = f"henrei_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    try:
        with admin.begin() as c:
            c.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        yield make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.begin() as c:
            c.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = make_engine(db_url)
    upgrade(e)
    yield e
    e.dispose()


def _run_children(script: str, n: int, *args: str) -> list[str]:
    """Run ``script`` in ``n`` fresh interpreters that start its body at the same moment."""
    start_at = time.time() + 3.0  # after every child has imported what it needs
    prelude = f"import sys, time\nstart_at = {start_at!r}\n"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", prelude + textwrap.dedent(script), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd="/",  # upgrade must not depend on the cwd
        )
        for _ in range(n)
    ]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(out.strip())
    return outs


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head
    return head


def _current(engine: Engine) -> str | None:
    with engine.connect() as c:
        return MigrationContext.configure(c).get_current_revision()


def _new_job(engine: Engine, clinic: str = "C1", month: str = "2026-10") -> int:
    with session_scope(engine) as s:
        job = Job(kind="reconcile", clinic_id=clinic, claim_month=month, status="running")
        s.add(job)
        s.flush()
        return job.id


def _frame(n: int, *, month: str = "2026-10", rule: str = "RATIO_BILLED", start: int = 0) -> pd.DataFrame:
    rows = range(start, start + n)
    return pd.DataFrame(
        {
            "source_file": ["receipts.xlsx"] * n,
            "sheet": ["国保"] * n,
            "row": pd.Series(list(rows), dtype="int64"),
            "patient_id": [f"P{i:06d}" for i in rows],
            "claim_month": [month] * n,
            "category": ["ratio_billed_vs_verified"] * n,
            "rule_id": [rule] * n,
            "severity": (["error", "warning", "info"] * n)[:n],
            "expected": ["2割"] * n,
            "actual": ["3割"] * n,
            "message": [f"請求した負担割合 3割 が違います（{i}）" for i in rows],
            "action": ["直してください"] * n,
            "copay_diff_yen": pd.Series([i if i % 2 else None for i in rows], dtype="Int64"),
        },
        columns=list(FINDING_COLUMNS),
    )


# --------------------------------------------------------------------------- migrations


def test_upgrade_twice_is_idempotent_and_matches_the_model(db_url: str) -> None:
    e = make_engine(db_url)
    try:
        upgrade(e)
        upgrade(e)
        assert _current(e) == _head()
        with e.connect() as c:
            diff = compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata)
        assert diff == [], f"the migrations and the model differ: {diff}"
    finally:
        e.dispose()


def test_upgrade_from_0001_with_jobs_keeps_them_and_downgrades(db_url: str) -> None:
    """0002 (register jobs, one queued reconcile job per clinic-month) on a database in use."""
    from alembic import command

    e = make_engine(db_url)
    try:
        with e.begin() as c:
            command.upgrade(alembic_config(c), "0001")
        with e.begin() as c:
            for status in ("queued", "queued", "done"):  # 0001 allowed two queued jobs of a month
                c.execute(
                    sa.text(
                        "INSERT INTO jobs (kind, clinic_id, claim_month, status, attempts, lost_workers, created_at)"
                        " VALUES ('reconcile', 'C1', '2026-10', :status, 0, 0, CURRENT_TIMESTAMP)"
                    ),
                    {"status": status},
                )
        upgrade(e)
        assert _current(e) == _head()
        with session_scope(e) as s:
            jobs = s.scalars(sa.select(Job).order_by(Job.id)).all()
            assert [(j.id, j.status) for j in jobs] == [(1, "queued"), (3, "done")]
            s.add(Job(kind="register", clinic_id="C1", upload_id=None))
        with pytest.raises(IntegrityError), session_scope(e) as s:
            s.add(Job(kind="reconcile", clinic_id="C1", claim_month="2026-10", status="queued"))
        with e.begin() as c:
            command.downgrade(alembic_config(c), "0001")
        assert _current(e) == "0001"
        with e.connect() as c:
            kinds = c.execute(sa.text("SELECT kind FROM jobs ORDER BY id")).scalars().all()
        assert kinds == ["reconcile", "reconcile"]
    finally:
        e.dispose()


def test_upgrade_to_0004_marks_handed_back_lists_and_downgrades(db_url: str) -> None:
    """0004: a marked list handed back before it was closed as failed; it becomes marked."""
    from alembic import command

    e = make_engine(db_url)
    try:
        with e.begin() as c:
            command.upgrade(alembic_config(c), "0003")
        with e.begin() as c:
            for i, error in enumerate(("訂正リスト「a.xlsx」の状態・メモを読み込みました（変更 3件）。", "読めません")):
                c.execute(
                    sa.text(
                        "INSERT INTO uploads (clinic_id, sha256, original_name, stored_path, size, source, status,"
                        " error, received_at) VALUES ('C1', :sha, 'a.xlsx', 'x', 1, 'upload', 'failed', :error,"
                        " CURRENT_TIMESTAMP)"
                    ),
                    {"sha": str(i) * 64, "error": error},
                )
        upgrade(e)
        with e.connect() as c:
            assert c.execute(sa.text("SELECT status FROM uploads ORDER BY id")).scalars().all() == ["marked", "failed"]
        with e.begin() as c:
            command.downgrade(alembic_config(c), "0003")
        with e.connect() as c:
            assert c.execute(sa.text("SELECT status FROM uploads ORDER BY id")).scalars().all() == ["failed", "failed"]
            assert "settlement_statuses" not in sa.inspect(c).get_table_names()
    finally:
        e.dispose()


@pytest.mark.slow
def test_upgrade_from_several_processes_at_once(db_url: str) -> None:
    outs = _run_children(
        """
        from worker.jobs import make_engine, upgrade
        e = make_engine(sys.argv[1])
        time.sleep(max(0.0, start_at - time.time()))
        upgrade(e)
        print("ok")
        """,
        4,
        db_url,
    )
    assert outs == ["ok"] * 4
    e = make_engine(db_url)
    try:
        assert _current(e) == _head()
        assert "findings" in sa.inspect(e).get_table_names()
    finally:
        e.dispose()


# --------------------------------------------------------------------------- uploads


def test_store_upload_dedupes_by_content_per_clinic(engine: Engine, tmp_path: Path) -> None:
    data = tmp_path / "data"
    src = tmp_path / "レセプト一覧.XLSX"
    src.write_bytes(b"receipts of october" * 1000)
    copy = tmp_path / "copy.xlsx"
    copy.write_bytes(src.read_bytes())
    sha = hashlib.sha256(src.read_bytes()).hexdigest()

    with session_scope(engine) as s:
        first, created1 = store_upload(s, data, "CLINIC-A", src)
    with session_scope(engine) as s:
        second, created2 = store_upload(s, data, "CLINIC-A", copy, source="drop")
        third, created3 = store_upload(s, data, "CLINIC-B", src, original_name="other.xlsx")

    assert (created1, created2, created3) == (True, False, True)
    assert second.id == first.id and third.id != first.id
    assert first.sha256 == sha and first.size == src.stat().st_size
    assert first.original_name == "レセプト一覧.XLSX" and first.source == "upload" and first.status == "accepted"
    assert first.stored_path == f"uploads/CLINIC-A/{sha[:2]}/{sha}.xlsx"
    assert (data / first.stored_path).read_bytes() == src.read_bytes()
    assert first.received_at.tzinfo is not None and first.received_at.utcoffset() == UTC.utcoffset(None)
    with session_scope(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Upload)) == 2
    stored = sorted(p.relative_to(data).as_posix() for p in (data / "uploads").rglob("*") if p.is_file())
    assert stored == [first.stored_path, third.stored_path]  # no leftover temporary files


def test_store_upload_rejects_a_clinic_id_that_is_not_a_folder_name(engine: Engine, tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_text("x")
    with session_scope(engine) as s, pytest.raises(ValueError):
        store_upload(s, tmp_path / "data", "../evil", src)


@pytest.mark.slow
def test_store_upload_from_several_processes_at_once_is_one_row(engine: Engine, db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    src = tmp_path / "online.csv"
    src.write_bytes(os.urandom(256 * 1024))
    outs = _run_children(
        """
        from pathlib import Path
        from worker.jobs import make_engine, session_scope, store_upload
        e = make_engine(sys.argv[1])
        time.sleep(max(0.0, start_at - time.time()))
        with session_scope(e) as s:
            up, created = store_upload(s, Path(sys.argv[2]), "CLINIC-A", Path(sys.argv[3]))
        print(up.id, created)
        """,
        4,
        db_url,
        str(data),
        str(src),
    )
    ids = {o.split()[0] for o in outs}
    assert len(ids) == 1
    assert sorted(o.split()[1] for o in outs) == ["False", "False", "False", "True"]
    with session_scope(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Upload)) == 1
    assert len([p for p in (data / "uploads").rglob("*") if p.is_file()]) == 1


# --------------------------------------------------------------------------- findings


def test_finding_key_is_stable_across_processes() -> None:
    args = ("C1", "2026-10", "receipts.xlsx", "国保", 7, "RATIO_BILLED")
    here = finding_key(*args)
    out = subprocess.run(
        [sys.executable, "-c", f"from worker.jobs import finding_key; print(finding_key(*{args!r}))"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "123"},
    ).stdout.strip()
    assert out == here and len(here) == 40
    assert finding_key("C1", "2026-10", "receipts.xlsx", "国保", 8, "RATIO_BILLED") != here
    # the same name in decomposed form (as macOS spells file names) is the same finding
    assert finding_key("C1", "m", "データ.xlsx", "s", 1, "R") == finding_key(
        "C1", "m", "テ\u3099ータ.xlsx", "s", 1, "R"
    )


def _keys(engine: Engine, clinic: str = "C1", month: str = "2026-10") -> list[str]:
    with session_scope(engine) as s:
        return sorted(findings_frame(s, clinic, month)["key"])


def test_replace_findings_twice_with_the_same_frame_changes_nothing(engine: Engine) -> None:
    frame = _frame(50)
    job1, job2 = _new_job(engine), _new_job(engine)
    with session_scope(engine) as s:
        assert replace_findings(s, "C1", "2026-10", job1, frame) == 50
    before = _keys(engine)
    with session_scope(engine) as s:
        assert replace_findings(s, "C1", "2026-10", job2, frame) == 50
    assert _keys(engine) == before and len(before) == 50
    with session_scope(engine) as s:
        got = findings_frame(s, "C1", "2026-10")
    assert list(got.columns) == [*FINDING_COLUMNS, "key", "status"]
    assert (got["status"] == "未対応").all()
    # errors first, then file, sheet, row
    sev = got["severity"].map({"error": 0, "warning": 1, "info": 2})
    assert sev.is_monotonic_increasing
    assert got[got["severity"] == "error"]["row"].is_monotonic_increasing
    one = got.set_index("row").loc[1]
    assert one["copay_diff_yen"] == 1 and one["patient_id"] == "P000001" and one["sheet"] == "国保"
    assert got.set_index("row")["copay_diff_yen"].isna()[2]
    assert got["row"].dtype == "int64" and str(got["copay_diff_yen"].dtype) == "Int64"
    assert got.loc[0, "key"] == finding_key(
        "C1", "2026-10", "receipts.xlsx", "国保", int(got["row"].iloc[0]), "RATIO_BILLED"
    )


def test_replace_findings_with_a_changed_frame_replaces_and_keeps_clerk_statuses(engine: Engine) -> None:
    job1, job2 = _new_job(engine), _new_job(engine)
    with session_scope(engine) as s:
        replace_findings(s, "C1", "2026-10", job1, _frame(10))  # rows 0..9
        replace_findings(s, "C2", "2026-10", job1, _frame(10))  # another clinic, untouched below
    kept = finding_key("C1", "2026-10", "receipts.xlsx", "国保", 5, "RATIO_BILLED")
    gone = finding_key("C1", "2026-10", "receipts.xlsx", "国保", 0, "RATIO_BILLED")
    with session_scope(engine) as s:
        set_finding_status(s, kept, "対応中", "clerk-a", note="保険者に確認中")
        set_finding_status(s, kept, "対応済", "clerk-b")
        set_finding_status(s, gone, "対象外", "clerk-a")
        with pytest.raises(ValueError):
            set_finding_status(s, kept, "done", "clerk-a")

    changed = _frame(10, start=5)  # rows 5..14: 0..4 fixed, 10..14 new
    changed.loc[changed["row"] == 5, "message"] = "新しい文面"
    with session_scope(engine) as s:
        assert replace_findings(s, "C1", "2026-10", job2, changed) == 10

    with session_scope(engine) as s:
        got = findings_frame(s, "C1", "2026-10").set_index("row")
        other = findings_frame(s, "C2", "2026-10")
        status = s.get(FindingStatus, kept)
    assert sorted(got.index) == list(range(5, 15))
    assert got.loc[5, "status"] == "対応済" and got.loc[5, "message"] == "新しい文面"
    assert (got.drop(index=5)["status"] == "未対応").all()
    assert len(other) == 10
    assert status is not None and status.changed_by == "clerk-b" and status.note is None
    assert status.changed_at.tzinfo is not None
    with session_scope(engine) as s:  # the status of a finding that went away stays, should it come back
        assert s.get(FindingStatus, gone) is not None
        replace_findings(s, "C1", "2026-10", job2, _frame(15))
    with session_scope(engine) as s:
        assert findings_frame(s, "C1", "2026-10").set_index("row").loc[0, "status"] == "対象外"


def test_a_renamed_rule_keeps_the_clerks_statuses_under_its_old_id(engine: Engine) -> None:
    job = _new_job(engine)
    with session_scope(engine) as s:
        replace_findings(s, "C1", "2026-10", job, _frame(3, rule="RATIO_OLD"))
        set_finding_status(
            s, finding_key("C1", "2026-10", "receipts.xlsx", "国保", 1, "RATIO_OLD"), "対応済", "clerk-a"
        )
    renamed = {"RATIO_OLD": "RATIO_NEW"}
    with session_scope(engine) as s:  # the next release calls the rule RATIO_NEW
        replace_findings(s, "C1", "2026-10", job, _frame(3, rule="RATIO_NEW"), aliases=renamed)
    with session_scope(engine) as s:
        got = findings_frame(s, "C1", "2026-10").set_index("row")
    assert set(got["rule_id"]) == {"RATIO_NEW"}
    assert got["status"].to_dict() == {0: "未対応", 1: "対応済", 2: "未対応"}
    with session_scope(engine) as s:  # without the alias the status would be orphaned
        replace_findings(s, "C2", "2026-10", job, _frame(3, rule="RATIO_OLD"))
        set_finding_status(
            s, finding_key("C2", "2026-10", "receipts.xlsx", "国保", 1, "RATIO_OLD"), "対応済", "clerk-a"
        )
        replace_findings(s, "C2", "2026-10", job, _frame(3, rule="RATIO_NEW"), aliases={})
    with session_scope(engine) as s:
        assert (findings_frame(s, "C2", "2026-10")["status"] == "未対応").all()


def test_replace_findings_stores_each_row_under_its_own_month(engine: Engine) -> None:
    job = _new_job(engine)
    frame = pd.concat([_frame(3), _frame(2, month="2026-08"), _frame(2, month="", rule="X")], ignore_index=True)
    with session_scope(engine) as s:
        replace_findings(s, "C1", "2026-10", job, frame)
        assert len(findings_frame(s, "C1", "2026-10")) == 5  # the two empty months fell back to the argument
        assert len(findings_frame(s, "C1", "2026-08")) == 2
    with session_scope(engine) as s:  # the re-run without the returns removes them from their month too
        replace_findings(s, "C1", "2026-10", job, _frame(3))
        assert len(findings_frame(s, "C1", "2026-08")) == 0
        assert len(findings_frame(s, "C1", "2026-10")) == 3


def test_replace_findings_keeps_repeats_of_a_rule_on_one_row(engine: Engine) -> None:
    job = _new_job(engine)
    frame = pd.concat([_frame(1), _frame(1)], ignore_index=True)
    frame.loc[1, "message"] = "二つ目"
    with session_scope(engine) as s:
        assert replace_findings(s, "C1", "2026-10", job, frame) == 2
        assert replace_findings(s, "C1", "2026-10", job, frame) == 2
        got = findings_frame(s, "C1", "2026-10")
    assert len(got) == 2 and got["key"].nunique() == 2


def test_replace_findings_with_no_findings_clears_the_month(engine: Engine) -> None:
    job = _new_job(engine)
    with session_scope(engine) as s:
        replace_findings(s, "C1", "2026-10", job, _frame(5))
        assert replace_findings(s, "C1", "2026-10", job, empty_findings()) == 0
        got = findings_frame(s, "C1", "2026-10")
    assert got.empty and list(got.columns) == [*FINDING_COLUMNS, "key", "status"]


def test_findings_of_a_real_run_round_trip(engine: Engine, tmp_path: Path) -> None:
    result = reconcile([SAMPLE_MONTH], tmp_path / "out")
    expected = result.findings
    assert len(expected) > 0
    job = _new_job(engine)
    with session_scope(engine) as s:
        assert replace_findings(s, "C1", "2026-10", job, expected) == len(expected)
        got = findings_frame(s, "C1", "2026-10")
    months = set(expected["claim_month"].replace("", "2026-10"))
    with session_scope(engine) as s:
        stored = sum(len(findings_frame(s, "C1", m)) for m in months)
    assert stored == len(expected)
    mine = expected[expected["claim_month"].isin(["2026-10", ""])]
    cols = [c for c in FINDING_COLUMNS if c != "claim_month"]

    def canon(df: pd.DataFrame) -> list[tuple[object, ...]]:
        return sorted(
            tuple(None if pd.isna(v) else v for v in r) for r in df[cols].astype(object).itertuples(index=False)
        )

    assert canon(got) == canon(mine)


@pytest.mark.slow
def test_replace_20k_findings_is_fast(engine: Engine) -> None:
    job = _new_job(engine)
    frame = _frame(20_000)
    t0 = time.perf_counter()
    with session_scope(engine) as s:
        replace_findings(s, "C1", "2026-10", job, frame)
    t1 = time.perf_counter()
    changed = pd.concat([frame.iloc[1000:], _frame(1000, start=20_000)], ignore_index=True)
    with session_scope(engine) as s:
        replace_findings(s, "C1", "2026-10", job, changed)
    t2 = time.perf_counter()
    with session_scope(engine) as s:
        got = findings_frame(s, "C1", "2026-10")
    t3 = time.perf_counter()
    print(
        f"\n[{engine.dialect.name}] 20k findings: insert {t1 - t0:.2f}s, "
        f"re-run (1k gone, 1k new, 19k updated) {t2 - t1:.2f}s, findings_frame {t3 - t2:.2f}s"
    )
    assert len(got) == 20_000 and got["row"].min() == 1000


# --------------------------------------------------------------------------- jobs, nightly runs


def test_nightly_run_date_is_unique(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(NightlyRun(run_date=date(2026, 11, 1)))
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(NightlyRun(run_date=date(2026, 11, 1)))
    with session_scope(engine) as s:
        s.add(NightlyRun(run_date=date(2026, 11, 2), report={"clinics": 3}))
        assert s.scalar(sa.select(sa.func.count()).select_from(NightlyRun)) == 2


def test_jobs_keep_aware_utc_times_and_json_results(engine: Engine) -> None:
    started = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    with session_scope(engine) as s:
        parent = Job(kind="reconcile", clinic_id="C1", claim_month="2026-10")
        s.add(parent)
        s.flush()
        part = Job(kind="part", parent_id=parent.id, part_index=0, part_count=2, started_at=started)
        s.add(part)
        s.flush()
        part_id = part.id
    with session_scope(engine) as s:
        job = s.get(Job, part_id)
        assert job is not None
        assert job.status == "queued" and job.attempts == 0 and job.lost_workers == 0
        assert job.started_at == started and job.started_at.tzinfo is not None
        assert job.created_at.tzinfo is not None
        job.result = {"findings": 3}
    with session_scope(engine) as s:
        job = s.get(Job, part_id)
        assert job is not None and job.result == {"findings": 3}
        job.result["errors"] = 1  # in-place changes are saved too
    with session_scope(engine) as s:
        job = s.get(Job, part_id)
        assert job is not None and job.result == {"findings": 3, "errors": 1}
        job.heartbeat_at = datetime(2026, 11, 1, 9, 31)  # naive: refused
        with pytest.raises(sa.exc.StatementError):
            s.flush()
        s.rollback()
    with pytest.raises(IntegrityError), session_scope(engine) as s:  # the database's CHECK refuses it
        s.execute(sa.text("INSERT INTO jobs (kind, status, attempts, lost_workers) VALUES ('reconcile', 'x', 0, 0)"))
    with pytest.raises(sa.exc.StatementError, match="not a valid JobStatus"), session_scope(engine) as s:
        s.add(Job(kind="reconcile", status="sleeping"))  # and the model's enum before it is sent


def test_settings_derive_the_database_from_the_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HENREI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HENREI_DATABASE_URL", raising=False)
    monkeypatch.delenv("HENREI_BROKER_URL", raising=False)
    st = Settings.from_env()
    assert st.data_dir == tmp_path
    assert st.database_url == f"sqlite:///{tmp_path / 'henrei.db'}"
    assert st.broker_url == "redis://localhost:6379/0"
    monkeypatch.setenv("HENREI_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert Settings.from_env().database_url == "postgresql+psycopg://u@h/db"
    assert Settings(data_dir=Path("/srv/x")).database_url == "sqlite:////srv/x/henrei.db"


def test_two_registrations_at_once_share_one_queued_reconcile_job(engine: Engine) -> None:
    """Registrations of one month's files at the same moment queue one job, not two."""
    import threading

    from sqlalchemy.orm import Session

    from worker import jobs as service
    from worker import jobs as st

    taken: dict[str, tuple[int, bool]] = {}

    def other() -> None:
        with st.session_scope(engine) as b:
            taken["id"] = service.queued_reconcile(b, "C1", "2026-10", stale_after=STALE)

    with Session(engine) as a:
        first, sent = service.queued_reconcile(a, "C1", "2026-10", stale_after=STALE)  # inserted, not committed yet
        assert sent  # a new job: its message is to be sent
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(1.0)
        # PostgreSQL: the other insert waits on the unique index; SQLite: on the write lock
        assert thread.is_alive()
        a.commit()
        thread.join(30)
    assert taken["id"] == (first, False)  # the same job, sent a moment ago: not sent twice
    with st.session_scope(engine) as s:
        queued = s.scalars(sa.select(st.Job.id).where(st.Job.kind == "reconcile", st.Job.status == "queued")).all()
        assert queued == [first]
        # once it runs, the next registration queues a new one
        s.get_one(st.Job, first).status = "running"
    with st.session_scope(engine) as s:
        assert service.queued_reconcile(s, "C1", "2026-10", stale_after=STALE)[0] != first


def test_a_database_error_never_quotes_the_rows_values(engine: Engine) -> None:
    """Celery logs a task's error text: the database's must not carry patient data."""
    row = {"clinic_id": "C1", "sha256": "a" * 64, "original_name": "山田太郎_受診.csv", "stored_path": "x", "size": 1}
    with session_scope(engine) as s:
        s.add(Upload(**row))
    with pytest.raises(IntegrityError) as caught, session_scope(engine) as s:
        s.add(Upload(**row))  # the same content twice: unique (clinic, sha256)
    assert "山田" not in str(caught.value) and "hidden" in str(caught.value)
