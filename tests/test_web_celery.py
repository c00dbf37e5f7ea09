"""The page with real Celery workers (issue 13 item 1, the server mode): ``henrei serve``
sends the jobs to Redis, a separate ``henrei worker`` process runs them, and the browser
sees each job go to 完了 without a reload; with ``HENREI_SURVEY_AUTO_EXPORT=on`` the
worker writes each month's survey submission of the opted-in clinic after its reconcile.
The broker is the test's own Redis database (``HENREI_TEST_REDIS_DB`` on 127.0.0.1:6379,
or the whole of ``HENREI_TEST_REDIS_URL``), flushed before and after.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from web_server import CHROMIUM, HENREI, PASSWORD, ROOT, add_user, henrei_env, screenshot, serve

pw = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]
REDIS_DB = int(os.environ.get("HENREI_TEST_REDIS_DB", "9"))
BROKER = os.environ.get("HENREI_TEST_REDIS_URL") or f"redis://127.0.0.1:6379/{REDIS_DB}"
SAMPLES = ROOT / "sample_receipts"


@pytest.fixture
def broker() -> Iterator[str]:
    r = redis.Redis.from_url(BROKER)
    try:
        r.ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis must run on 127.0.0.1:6379 (scripts/services.sh starts it)")
    r.flushdb()
    yield BROKER
    r.flushdb()


def _settings(tmp_path: Path, broker: str) -> dict[str, str]:
    """The page's and the worker's settings: one data folder, database and broker; clinic A
    opted in to the survey, exported after each month's reconcile."""
    clinics = tmp_path / "survey-clinics.toml"
    if not clinics.exists():
        clinics.write_text('[clinic-a]\nassociation_id = "13-0042"\nprefecture = "東京都"\n')
    return {"HENREI_BROKER_URL": broker, "HENREI_WEB_JOBS": "celery", "HENREI_SURVEY_CLINICS": str(clinics),
            "HENREI_SURVEY_AUTO_EXPORT": "on"}  # fmt: skip


@pytest.fixture
def worker(tmp_path: Path, broker: str) -> Iterator[dict[str, str]]:
    """A ``henrei worker`` (2 processes) on the test's data folder, database and broker."""
    env = henrei_env(tmp_path, **_settings(tmp_path, broker))
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen([*HENREI, "worker", "-c", "2"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    try:
        yield env
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_uploads_on_the_page_run_on_the_celery_worker_and_the_page_shows_done_live(
    tmp_path: Path, broker: str, worker: dict[str, str]
) -> None:
    add_user(worker, "clerk-a", "CLINIC-A", clinic_name="Aクリニック")
    files = sorted(p for p in SAMPLES.glob("2026-*/*") if p.is_file())
    with serve(tmp_path, **_settings(tmp_path, broker)) as server:
        with pw.sync_playwright() as p:
            b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            page = b.new_context(viewport={"width": 1366, "height": 768}).new_page()
            page.goto(server.url + "/login")
            page.fill("input[name=login]", "clerk-a")
            page.fill("input[name=password]", PASSWORD["clerk-a"])
            page.click("button.primary")
            page.wait_for_url(server.url + "/")
            assert "照合サーバー（Celery ワーカー）で処理しています" in page.locator(".mode").inner_text()
            page.set_input_files("#file-input", [str(f) for f in files])
            page.click("#upload-button")
            result = page.locator("#upload-result")
            result.locator("tr.open").first.wait_for(timeout=30_000)  # shown before the worker finished
            page.wait_for_function(
                "() => { const r = document.querySelectorAll('#upload-result tr.open'); "
                "return document.querySelectorAll('#upload-result tr').length > 1 && r.length === 0; }",
                timeout=240_000,
            )
            text = result.inner_text()
            screenshot(page, "upload-celery")
            b.close()
        assert re.search(r"照合\s+2026-10\s+完了", text), text
        assert re.search(r"照合\s+2026-09\s+完了", text), text
        assert "失敗" not in text
        # the jobs ran in the worker's processes, not in the page's
        db = sa.create_engine(f"sqlite:///{tmp_path / 'henrei.db'}")
        sql = "SELECT celery_task_id FROM jobs WHERE status = 'done' AND kind IN ('register', 'reconcile')"
        with db.connect() as c:
            tasks = [r[0] for r in c.execute(sa.text(sql))]
        assert len(tasks) == len(files) + 2 and all(t and not t.startswith("inprocess-") for t in tasks)
        assert "inprocess" not in (tmp_path / "serve.log").read_text()
        # each month's submission was written by the worker after its reconcile
        sql = "SELECT claim_month, status FROM jobs WHERE kind = 'survey_export'"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with db.connect() as c:
                exports = dict(c.execute(sa.text(sql)).all())
            if sorted(exports) == ["2026-09", "2026-10"] and set(exports.values()) == {"done"}:
                break
            time.sleep(0.5)
        assert exports == {"2026-09": "done", "2026-10": "done"}
        outbox = sorted(p.name for p in (tmp_path / "survey" / "outbox" / "CLINIC-A").iterdir())
        assert outbox == ["henrei-survey-13-0042-2026-09.json", "henrei-survey-13-0042-2026-10.json"]
    worker_log = (tmp_path / "worker.log").read_text(encoding="utf-8", errors="replace")
    assert "henrei.register_upload" in worker_log and "henrei.reconcile" in worker_log
    assert "henrei.survey_export" in worker_log
