"""The clerks' page in Debian's Chromium (Playwright for Python, no browser download),
against a real ``henrei serve`` (in-process jobs, SQLite) — the issue's "Done when":
log in, upload the samples, watch the jobs finish, see the month view, filter the
findings, mark one 対応済 with a note, reload and see it kept, download the workbook and
open it; a second clinic's user gets nothing of the first by any URL or ID; a POST without
the CSRF token is refused; repeated bad passwords lock a login; an idle session ends.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from web_server import CHROMIUM, PASSWORD, ROOT, Server, add_user, henrei_env, screenshot, serve

pw = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]
SAMPLES = ROOT / "sample_receipts"
MONTH = "2026-10"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("web")
    env = henrei_env(data)
    add_user(env, "clerk-a", "CLINIC-A", clinic_name="Aクリニック")
    add_user(env, "clerk-b", "CLINIC-B", clinic_name="Bクリニック")
    add_user(env, "clerk-c", "CLINIC-C")
    add_user(env, "vendor", None, role="vendor_admin")
    add_user(env, "admin-a", "CLINIC-A", role="clinic_admin")
    add_user(env, "admin-b", "CLINIC-B", role="clinic_admin")
    with serve(data) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


def login(browser: Any, server: Server, user: str) -> Any:
    page = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True).new_page()
    page.goto(server.url + "/login")
    if user == "clerk-a":
        screenshot(page, "login")
    page.fill("input[name=login]", user)
    page.fill("input[name=password]", PASSWORD[user])
    page.click("button.primary")
    page.wait_for_url(server.url + ("/vendor" if user == "vendor" else "/"))
    return page


def db(server: Server) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{server.data_dir / 'henrei.db'}")


@pytest.fixture(scope="module")
def clinic_a(browser: Any, server: Server, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Clerk A logged in, the two sample months uploaded (with a broken file) and reconciled."""
    page = login(browser, server, "clerk-a")
    files = sorted(p for p in SAMPLES.glob("2026-*/*") if p.is_file())
    broken = tmp_path_factory.mktemp("broken") / "壊れたファイル.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is not a workbook")
    page.set_input_files("#file-input", [str(p) for p in [*files, broken]])
    screenshot(page, "home-empty")
    page.click("#upload-button")
    result = page.locator("#upload-result")
    for p in files:
        result.get_by_text(p.name).first.wait_for()
    # live progress: the rows update without a reload until every job has ended
    page.wait_for_function(
        "() => { const r = document.querySelectorAll('#upload-result tr.open'); "
        "return document.querySelectorAll('#upload-result tr').length > 1 && r.length === 0; }",
        timeout=120_000,
    )
    text = result.inner_text()
    screenshot(page, "upload-done")
    # the broken file failed with its reason in Japanese; every other file was read
    failed = result.locator("tr.failed")
    assert failed.count() == 1 and "壊れたファイル.xlsx" in failed.inner_text(), text
    assert re.search(r"[ぁ-んァ-ン一-龥]{4,}", failed.locator("td").nth(3).inner_text())
    assert "レセプト一覧 327行" in text and "券面情報 312行" in text and "返戻一覧" in text
    assert re.search(r"照合\s+2026-10\s+完了", text), text
    # the same files again are one upload
    page.set_input_files("#file-input", [str(files[0])])
    page.click("#upload-button")
    page.get_by_text("同じ内容のファイルはすでに受け付けています").wait_for()
    return page


def test_clerk_uploads_works_the_findings_and_downloads_the_workbook(
    clinic_a: Any, server: Server, tmp_path: Path
) -> None:
    page = clinic_a
    page.goto(f"{server.url}/")
    screenshot(page, "home")
    page.goto(f"{server.url}/months/{MONTH}")
    screenshot(page, "month")
    assert page.title() == "2026-10 診療分 — henrei 返戻チェック"
    tiles = page.locator(".tiles").inner_text()
    assert "327件" in tiles and "円" in tiles
    assert page.locator("svg[aria-label='区分ごとの件数'] rect").count() >= 5
    assert page.locator("svg[aria-label='直近12か月の指摘件数'] rect").count() == 12

    page.click("text=指摘一覧で対応する")
    total = int(re.search(r"([\d,]+)件", page.locator(".bar").inner_text())[1].replace(",", ""))
    page.select_option("select[name=category]", "eligibility_invalid")
    page.click("text=絞り込む")
    page.wait_for_load_state()
    filtered = int(re.search(r"([\d,]+)件", page.locator(".bar").inner_text())[1].replace(",", ""))
    assert 0 < filtered < total
    assert set(page.locator("td .cat").all_inner_texts()) == {"資格無効"}
    assert "patient" not in page.url and "category" not in page.url  # filters live in the session

    row = page.locator("table.findings tbody tr").first
    key = row.locator("input[name=key]").get_attribute("value")
    row.locator("select[name=status]").select_option("対応済")
    row.locator("input[name=note]").fill("レセコンで保険者番号を修正")
    row.locator("text=保存").click()
    page.locator(f"tr:has(input[name=key][value='{key}']) .status-cell .muted").wait_for()
    page.reload()
    row = page.locator(f"tr:has(input[name=key][value='{key}'])")
    assert row.locator("select[name=status]").input_value() == "対応済"
    assert row.locator("input[name=note]").input_value() == "レセコンで保険者番号を修正"
    assert "clerk-a" in row.locator(".status-cell .muted").inner_text()
    screenshot(page, "findings-filtered")

    # a selection at once
    page.click("text=条件を消す")
    picks = page.locator("input.pick")
    picks.nth(1).check()
    picks.nth(2).check()
    page.select_option(".bulk select[name=status]", "対応中")
    page.click("text=まとめて変更")
    page.wait_for_function("() => document.querySelectorAll('tr.closed, tr .status-cell .muted').length >= 3")
    with db(server).connect() as c:
        statuses = dict(c.execute(sa.text("SELECT status, count(*) FROM finding_statuses GROUP BY status")).all())
    assert statuses == {"対応済": 1, "対応中": 2}
    screenshot(page, "findings")

    # the patient page: every finding of the patient, the URL names the finding, not the patient
    page.click(f"tr:has(input[name=key][value='{key}']) td:nth-child(3) a")
    assert "患者ID" in page.locator("h1").inner_text()
    assert page.url.endswith(f"/findings/{key}/patient")
    screenshot(page, "patient")

    # September's returns (received in October) are on September's list, with their claims
    page.goto(f"{server.url}/months/2026-09/returns")
    assert page.locator("table.returns tbody tr").count() == 13
    screenshot(page, "returns")

    # the statuses set here go into the workbook when the month's documents are made again
    page.goto(f"{server.url}/months/{MONTH}")
    assert "状態を変えた指摘が 3件" in page.locator("form.warn-box").inner_text()
    page.click("text=書類を作り直す")
    page.locator(".jobs tr.done").wait_for(timeout=120_000)
    page.reload()
    assert page.locator("form.warn-box").count() == 0
    with page.expect_download() as dl:
        page.click("text=訂正リスト（Excel）")
    path = tmp_path / "corrections.xlsx"
    dl.value.save_as(path)
    assert dl.value.suggested_filename == f"corrections_{MONTH}.xlsx"
    wb = openpyxl.load_workbook(path, read_only=True)
    assert "指摘一覧" in wb.sheetnames and "概要" in wb.sheetnames
    cells = {str(v) for row in wb["指摘一覧"].iter_rows(values_only=True) for v in row if v is not None}
    assert "対応済" in cells and "レセコンで保険者番号を修正" in cells


def test_another_clinic_gets_nothing_of_clinic_a(clinic_a: Any, browser: Any, server: Server) -> None:
    with db(server).connect() as c:
        keys = [r[0] for r in c.execute(sa.text("SELECT key FROM findings WHERE clinic_id = 'CLINIC-A' LIMIT 3"))]
        jobs = [str(r[0]) for r in c.execute(sa.text("SELECT id FROM jobs WHERE clinic_id = 'CLINIC-A'"))]
        before = c.execute(sa.text("SELECT count(*) FROM finding_statuses")).scalar()
    assert keys and jobs
    b = login(browser, server, "clerk-b")
    assert "2026年10月" not in b.content()
    req = b.request
    urls = [
        f"/months/{MONTH}",
        f"/months/{MONTH}/findings",
        f"/months/{MONTH}/findings?page=2",
        f"/months/{MONTH}/returns",
        *(f"/months/{MONTH}/documents/{d}" for d in ("corrections", "inquiry", "settlement")),
        *(f"/findings/{k}/patient" for k in keys),
    ]
    for url in urls:
        r = req.get(server.url + url)
        body = r.text()
        assert r.status == 404, (url, r.status)
        assert keys[0] not in body
    r = req.get(f"{server.url}/jobs?ids={','.join(jobs)}")
    assert "receipts_2026-10" not in r.text() and "完了" not in r.text()
    token = b.locator("input[name=_csrf_token]").first.get_attribute("value")
    for form in ({"key": keys[0], "status": "対象外", "note": "x"}, {"keys": keys, "status": "対象外"}):
        r = req.post(f"{server.url}/months/{MONTH}/findings/status", form=form, headers={"x-csrftoken": token})
        assert r.status == 404
    for url in (f"/months/{MONTH}/rebuild", f"/months/{MONTH}/findings/filter"):
        r = req.post(server.url + url, form={"category": "returned"}, headers={"x-csrftoken": token})
        assert r.status == 404, url
    with db(server).connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM finding_statuses")).scalar() == before
        assert c.execute(sa.text("SELECT count(*) FROM finding_statuses WHERE status = '対象外'")).scalar() == 0
    # the vendor page is not a clerk's
    assert req.get(server.url + "/vendor").status == 403
    b.goto(f"{server.url}/months/{MONTH}")
    screenshot(b, "not-found")


def test_the_vendor_admin_sees_job_health_across_clinics_but_no_findings(
    clinic_a: Any, browser: Any, server: Server
) -> None:
    v = login(browser, server, "vendor")
    row = v.locator("tr", has_text="CLINIC-A").inner_text()
    assert "Aクリニック" in row and re.search(r"\b[1-9]\d*\b", row)
    screenshot(v, "vendor")
    for url in ("/", f"/months/{MONTH}", f"/months/{MONTH}/findings", f"/months/{MONTH}/documents/corrections"):
        assert v.request.get(server.url + url).status == 404, url  # a clinic's pages do not exist for it


def test_a_post_without_the_csrf_token_is_refused(clinic_a: Any, server: Server) -> None:
    with db(server).connect() as c:
        key = c.execute(sa.text("SELECT key FROM findings WHERE clinic_id = 'CLINIC-A' LIMIT 1")).scalar()
    r = clinic_a.request.post(f"{server.url}/months/{MONTH}/findings/status", form={"key": key, "status": "対象外"})
    assert r.status == 403
    r = clinic_a.request.post(server.url + "/logout")
    assert r.status == 403
    with db(server).connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM finding_statuses WHERE status = '対象外'")).scalar() == 0


def test_security_headers_and_cookies(clinic_a: Any, server: Server) -> None:
    r = clinic_a.request.get(f"{server.url}/months/{MONTH}/findings")
    h = r.headers
    assert "script-src 'self'" in h["content-security-policy"] and "unsafe-inline" not in h["content-security-policy"]
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
    cookies = {c["name"]: c for c in clinic_a.context.cookies()}
    assert cookies["session"]["httpOnly"] and cookies["session"]["sameSite"] == "Lax"
    assert "<script>" not in clinic_a.content().replace("<script src=", "")  # no inline script


def test_the_audit_log_has_logins_uploads_downloads_and_statuses_without_patient_data(
    clinic_a: Any, server: Server
) -> None:
    with db(server).connect() as c:
        rows = c.execute(sa.text("SELECT login, clinic_id, action, detail FROM audit_log")).all()
        patients = {r[0] for r in c.execute(sa.text("SELECT DISTINCT patient_id FROM findings"))}
    actions = {r.action for r in rows if r.login == "clerk-a"}
    assert {"login", "upload", "download", "status"} <= actions
    text = json.dumps([list(map(str, r)) for r in rows], ensure_ascii=False)
    assert not any(p and re.search(rf"\b{re.escape(p)}\b", text) for p in patients)
    log = (server.data_dir / "serve.log").read_text()
    assert not any(p and re.search(rf"\b{re.escape(p)}\b", log) for p in patients if len(p) >= 5)


def test_repeated_bad_passwords_lock_the_login(browser: Any, server: Server) -> None:
    page = browser.new_page()
    for _ in range(5):
        page.goto(server.url + "/login")
        page.fill("input[name=login]", "clerk-c")
        page.fill("input[name=password]", "wrong-password")
        page.click("button.primary")
    assert "ロックされています" in page.locator(".error-box").inner_text()
    page.fill("input[name=login]", "clerk-c")
    page.fill("input[name=password]", PASSWORD["clerk-c"])  # the right one, too late
    page.click("button.primary")
    assert "ロックされています" in page.locator(".error-box").inner_text()
    assert page.url.endswith("/login")
    page.set_viewport_size({"width": 1366, "height": 768})
    screenshot(page, "login-locked")
    page.close()


def test_an_idle_session_ends_and_the_session_id_changes_at_login(browser: Any, tmp_path: Path) -> None:
    env = henrei_env(tmp_path)
    add_user(env, "clerk-a", "CLINIC-A")
    with serve(tmp_path, HENREI_WEB_SESSION_MINUTES="0.05") as s:  # 3 seconds
        ctx = browser.new_context()
        page = ctx.new_page()
        page.goto(s.url + "/login")
        before = {c["name"]: c["value"] for c in ctx.cookies()}.get("session")
        page.fill("input[name=login]", "clerk-a")
        page.fill("input[name=password]", PASSWORD["clerk-a"])
        page.click("button.primary")
        page.wait_for_url(s.url + "/")
        after = {c["name"]: c["value"] for c in ctx.cookies()}["session"]
        assert after != before
        time.sleep(4.5)
        page.goto(s.url + "/")
        assert page.url.startswith(s.url + "/login")
        assert "自動でログアウトします" in page.content()
        ctx.close()


def test_a_clinic_admin_adds_a_clerk_and_unlocks_only_their_own_clinics_users(browser: Any, server: Server) -> None:
    admin = login(browser, server, "admin-a")
    admin.click("text=利用者の管理")
    admin.fill("input[name=login]", "clerk-a2")
    admin.fill("input[name=display_name]", "受付 二郎")
    admin.fill("input[name=password]", "password-a2-123")
    admin.click("text=追加する")
    assert "追加しました" in admin.locator(".ok-box").inner_text()
    assert "受付 二郎" in admin.locator("table").inner_text()
    screenshot(admin, "users")
    with db(server).connect() as c:
        a2 = c.execute(sa.text("SELECT id, clinic_id, role FROM users WHERE login = 'clerk-a2'")).one()
        # lock clerk-a2 as five bad passwords would
        c.execute(sa.text("UPDATE users SET locked_until = '2999-01-01 00:00:00' WHERE id = :i"), {"i": a2.id})
        c.commit()
    assert (a2.clinic_id, a2.role) == ("CLINIC-A", "clerk")
    other = login(browser, server, "admin-b")
    assert "clerk-a2" not in other.goto(server.url + "/users").text()  # type: ignore[union-attr]
    token = other.locator("input[name=_csrf_token]").first.get_attribute("value")
    r = other.request.post(f"{server.url}/users/{a2.id}/unlock", headers={"x-csrftoken": token})
    assert r.status == 404
    admin.goto(server.url + "/users")
    admin.click("text=ロックを解除")
    with db(server).connect() as c:
        assert c.execute(sa.text("SELECT locked_until FROM users WHERE id = :i"), {"i": a2.id}).scalar() is None
    clerk = browser.new_page()
    clerk.goto(server.url + "/login")
    clerk.fill("input[name=login]", "clerk-a2")
    clerk.fill("input[name=password]", "password-a2-123")
    clerk.click("button.primary")
    clerk.wait_for_url(server.url + "/")
    assert clerk.request.get(server.url + "/users").status == 403  # a clerk manages nobody
