"""The web page's pieces without a browser: clinic IDs, upload names, filters, lockout,
the clinic scope of the work list and of status changes, the SVG charts (real SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_web import store_month
from worker.clinic_ids import canonical_clinic_id
from worker.config import Settings
from worker.jobs import Context, FindingStatus, Role, session_scope
from worker.web.accounts import LoginOutcome, add_user, authenticate, load_user
from worker.web.chart import category_chart, months_chart
from worker.web.findings_data import PAGE_SIZE, FindingFilter, findings_page, patient_of, set_statuses
from worker.web.routes_months import display_name
from worker.web.runner import JobMode, JobRunner, broker_answers


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, web_lockout_failures=3, web_jobs="inprocess")


def test_clinic_ids_are_nfkc_and_trimmed_and_refuse_paths() -> None:
    assert canonical_clinic_id("　ＣＬＩＮＩＣ－０１ ") == "CLINIC-01"
    for bad in ("", "../x", "a/b", ".hidden", "x" * 65, "c:"):
        with pytest.raises(ValueError, match="医療機関ID"):
            canonical_clinic_id(bad)


def test_upload_names_are_shown_never_paths() -> None:
    assert display_name("月次/2026-10/receipts.xlsx") == "receipts.xlsx"
    assert display_name(r"C:\Users\事務\レセプト.xlsx") == "レセプト.xlsx"
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("a\x00b\nc.csv") == "abc.csv"
    assert display_name("") == "（名前のないファイル）"


def test_filters_keep_only_known_values() -> None:
    f = FindingFilter.clean({"category": "DROP TABLE", "severity": "error", "status": "対応済", "sort": "x"})
    assert (f.category, f.severity, f.status, f.sort) == ("", "error", "対応済", "severity")


def test_lockout_after_repeated_failures_even_with_the_right_password(settings: Settings) -> None:
    engine = Context(settings).engine
    add_user(engine, "Clerk", "correct-horse-1", Role.CLERK, clinic_id="c1")
    assert authenticate(engine, settings, "clerk", "wrong")[0] == LoginOutcome.BAD
    assert authenticate(engine, settings, "ｃｌｅｒｋ", "correct-horse-1")[0] == LoginOutcome.OK  # resets the count
    outcomes = [authenticate(engine, settings, "clerk", "wrong")[0] for _ in range(3)]
    assert outcomes == [LoginOutcome.BAD, LoginOutcome.BAD, LoginOutcome.LOCKED]
    outcome, user_id = authenticate(engine, settings, "clerk", "correct-horse-1")
    assert outcome == LoginOutcome.LOCKED and user_id is not None
    assert load_user(engine, user_id) is None  # a locked user's session no longer works
    assert authenticate(engine, settings, "nobody", "x")[0] == LoginOutcome.BAD


def test_users_need_a_clinic_by_role_and_a_long_password(settings: Settings) -> None:
    engine = Context(settings).engine
    with pytest.raises(ValueError, match="医療機関ID"):
        add_user(engine, "a", "long-enough-1", Role.CLERK)
    with pytest.raises(ValueError, match="属しません"):
        add_user(engine, "v", "long-enough-1", Role.VENDOR_ADMIN, clinic_id="c1")
    with pytest.raises(ValueError, match="10文字以上"):
        add_user(engine, "b", "short", Role.CLERK, clinic_id="c1")
    add_user(engine, "v", "long-enough-1", Role.VENDOR_ADMIN)
    with pytest.raises(ValueError, match="すでに使われています"):
        add_user(engine, "V", "long-enough-1", Role.VENDOR_ADMIN)


def test_the_work_list_pages_filters_and_is_scoped_by_clinic(settings: Settings) -> None:
    engine = Context(settings).engine
    keys_a = store_month(settings, 500, clinic="A")
    store_month(settings, 30, clinic="B")
    page = findings_page(engine, "A", "2026-10", FindingFilter(), 3)
    assert (page.total, page.pages, len(page.rows)) == (500, 500 // PAGE_SIZE, PAGE_SIZE)
    seen = {
        r.key for p in range(1, page.pages + 1) for r in findings_page(engine, "A", "2026-10", FindingFilter(), p).rows
    }
    assert seen == set(keys_a)  # every finding once over the pages, none of clinic b
    errors = findings_page(engine, "A", "2026-10", FindingFilter(severity="error", status="対応中"), 1)
    assert errors.total and all(r.severity == "error" and r.status == "対応中" for r in errors.rows)
    one = findings_page(engine, "A", "2026-10", FindingFilter(patient="100007"), 1)
    assert one.total == 5 and {r.patient_id for r in one.rows} == {"100007"}
    assert findings_page(engine, "B", "2026-10", FindingFilter(patient="100099"), 1).total == 0
    assert patient_of(engine, "B", keys_a[0]) is None and patient_of(engine, "A", keys_a[0]) is not None


def test_status_changes_only_touch_the_sessions_clinic(settings: Settings) -> None:
    engine = Context(settings).engine
    keys_a = store_month(settings, 20, clinic="A")
    keys_b = store_month(settings, 20, clinic="B")
    assert set_statuses(engine, "B", keys_a[:5], "対象外", None, "intruder") == 0
    assert set_statuses(engine, "A", [keys_a[1], keys_b[1]], "対応済", "メモ", "事務A") == 1
    with session_scope(engine) as s:
        st = s.get(FindingStatus, keys_a[1])
        assert st is not None and (st.status, st.note, st.changed_by) == ("対応済", "メモ", "事務A")
        assert s.get(FindingStatus, keys_b[1]) is None
        assert not [x for x in s.query(FindingStatus).all() if x.changed_by == "intruder"]
    # a selection keeps each finding's own note
    set_statuses(engine, "A", [keys_a[1], keys_a[2]], "対応中", None, "事務A")
    with session_scope(engine) as s:
        assert s.get_one(FindingStatus, keys_a[1]).note == "メモ"


def test_charts_escape_their_text_and_carry_no_script_or_style() -> None:
    svg = str(category_chart([("x", "<script>alert(1)</script>", 3, 2, 1)]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "style=" not in svg
    assert svg.count("<rect") == 3
    months = str(months_chart([(f"2026-{m:02d}", m) for m in range(1, 13)], "2026-12"))
    assert months.count("<rect") == 12 and "12月" in months and "2026年" in months


def test_with_no_broker_the_jobs_run_in_the_pages_process(tmp_path: Path) -> None:
    assert not broker_answers("redis://127.0.0.1:1/0", timeout=0.5)
    assert not broker_answers("")
    runner = JobRunner(Settings(data_dir=tmp_path, broker_url="redis://127.0.0.1:1/0"))  # web_jobs=auto
    try:
        assert runner.mode == JobMode.INPROCESS and "このパソコン" in runner.mode_ja
    finally:
        runner.close()


def test_with_a_broker_that_answers_the_jobs_go_to_celery(tmp_path: Path) -> None:
    url = "redis://127.0.0.1:6379/13"
    if not broker_answers(url):
        pytest.skip("Redis is not running on 127.0.0.1:6379 (scripts/services.sh starts it)")
    runner = JobRunner(Settings(data_dir=tmp_path, broker_url=url))
    assert runner.mode == JobMode.CELERY and "Celery" in runner.mode_ja


def test_the_in_process_sweeper_runs_a_left_survey_job_here_not_on_a_broker(tmp_path: Path) -> None:
    """A survey job left queued by a stop of the page is run by the page's own pool when it
    starts again (there is no broker to send it to): here the empty inbox fails it with the reason."""
    import time
    from datetime import timedelta

    from worker.jobs import Job, JobKind, JobStatus, utcnow

    settings = Settings(data_dir=tmp_path, web_jobs="inprocess", sweep_every_s=1, sweep_stale_s=1,
                        broker_url="redis://127.0.0.1:1/0")  # fmt: skip
    engine = Context(settings).engine
    with session_scope(engine) as s:
        old = utcnow() - timedelta(hours=1)
        job = Job(kind=JobKind.SURVEY_AGGREGATE, status=JobStatus.QUEUED, created_at=old, enqueued_at=old)
        s.add(job)
        s.flush()
        job_id = job.id
    runner = JobRunner(settings)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with session_scope(engine) as s:
                done = s.get_one(Job, job_id)
            if done.status != JobStatus.QUEUED and done.status != JobStatus.RUNNING:
                break
            time.sleep(0.3)
    finally:
        runner.close()
    assert done.status == JobStatus.FAILED and "集計できる提出ファイルがありません" in (done.error or "")
