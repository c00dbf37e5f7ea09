"""The page's patient search and both sides of the association survey, in Debian's Chromium
against a real ``henrei serve`` (in-process jobs, SQLite):

- a clerk finds a patient by hiragana カナ or kanji name on the work list and on 「患者を探す」;
  the name is never in a URL, the serve log or the audit log;
- an opted-in clinic writes its month's submission from the month view and downloads it
  (counts only); a clinic that has not opted in has no button and gets 404;
- the association uploads submissions (a bad one refused with its reason), aggregates,
  sees the published tables (「―」 where suppressed) and downloads survey.xlsx and
  summary.json; it gets 404 on every clinic URL, and a clinic's user 404 on its pages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from web_server import CHROMIUM, PASSWORD, ROOT, Server, add_user, henrei_env, screenshot, serve

from benchmarks.survey_synth import random_submissions
from worker.survey.schema import decode_envelope
from worker.survey.submission import write_submission

pw = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]
SAMPLES = ROOT / "sample_receipts"
MONTH = "2026-10"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("web-survey")
    clinics = data / "survey-clinics.toml"
    clinics.write_text('[clinic-a]\nassociation_id = "13-0042"\nprefecture = "東京都"\nclinic_type = "医科診療所"\n')
    env = henrei_env(data, HENREI_SURVEY_CLINICS=str(clinics))
    add_user(env, "clerk-a", "CLINIC-A", clinic_name="Aクリニック")
    add_user(env, "clerk-b", "CLINIC-B", clinic_name="Bクリニック")
    add_user(env, "assoc", None, role="association")
    with serve(data, HENREI_SURVEY_CLINICS=str(clinics)) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


def login(browser: Any, server: Server, user: str, home: str = "/") -> Any:
    page = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True).new_page()
    page.goto(server.url + "/login")
    page.fill("input[name=login]", user)
    page.fill("input[name=password]", PASSWORD[user])
    page.click("button.primary")
    page.wait_for_url(server.url + home)
    return page


def db(server: Server) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{server.data_dir / 'henrei.db'}")


def upload_and_wait(page: Any, files: list[Path]) -> None:
    page.set_input_files("#file-input", [str(p) for p in files])
    page.click("#upload-button")
    page.wait_for_function(
        "() => { const r = document.querySelectorAll('#upload-result tr.open'); "
        "return document.querySelectorAll('#upload-result tr').length > 1 && r.length === 0; }",
        timeout=180_000,
    )


@pytest.fixture(scope="module")
def clinic_a(browser: Any, server: Server) -> Any:
    """Clerk A with the two sample months reconciled; clerk B with the October receipts."""
    page = login(browser, server, "clerk-a")
    upload_and_wait(page, sorted(p for p in SAMPLES.glob("2026-*/*") if p.is_file()))
    b = login(browser, server, "clerk-b")
    upload_and_wait(b, [SAMPLES / MONTH / f"receipts_{MONTH}.xlsx"])
    b.close()
    return page


def _a_patient(server: Server) -> tuple[str, str, str]:
    """(patient ID, name, カナ) of one of clinic A's October patients with a finding."""
    with db(server).connect() as c:
        row = c.execute(
            sa.text(
                "SELECT patient_id, name, kana FROM month_patients WHERE clinic_id = 'CLINIC-A' AND run_month = :m"
                " AND kana LIKE '% %' AND name NOT LIKE '%●%' ORDER BY patient_id LIMIT 1"
            ),
            {"m": MONTH},
        ).one()
    return str(row[0]), str(row[1]), str(row[2])


def test_a_clerk_finds_a_patient_by_kana_or_name_and_the_name_goes_nowhere_else(clinic_a: Any, server: Server) -> None:
    page = clinic_a
    pid, name, kana = _a_patient(server)
    family = kana.split(" ")[0]
    hiragana = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in family)
    # the work list: its patient filter takes a part of the カナ in hiragana
    page.goto(f"{server.url}/months/{MONTH}/findings")
    page.fill("input[name=patient]", hiragana)
    page.click("text=絞り込む")
    page.wait_for_load_state()
    rows = page.locator("table.findings tbody tr")
    assert rows.count() >= 1
    listed = page.locator("td.pid a").all_inner_texts()
    assert pid in listed and hiragana not in page.url
    assert name in page.locator("table.findings").inner_text()
    screenshot(page, "findings-by-kana")
    # 「患者を探す」: the kanji name without its space
    page.click("text=患者を探す")
    page.fill("input[name=q]", name.replace(" ", ""))
    page.click("button:has-text('患者を探す')")
    hit = page.locator("table.patients tr", has_text=pid)
    assert hit.count() == 1 and kana in hit.inner_text()
    assert page.url == f"{server.url}/patients"
    hit.locator("a").click()
    assert page.url.endswith("/patient") and name in page.locator(".patient-name").inner_text()
    assert name not in page.title() and kana not in page.title()
    page.fill("input[name=q]", "た")  # a part of many カナ, in hiragana: several patients
    page.click("button:has-text('患者を探す')")
    assert page.locator("table.patients tbody tr").count() > 3
    screenshot(page, "patient-search")
    # nothing of the name in the server's log or the audit log
    log = (server.data_dir / "serve.log").read_text(encoding="utf-8", errors="replace")
    with db(server).connect() as c:
        audit = json.dumps(
            [list(map(str, r)) for r in c.execute(sa.text("SELECT * FROM audit_log"))], ensure_ascii=False
        )
    for text in (name, name.replace(" ", ""), hiragana, family):
        assert text not in log and text not in audit
    assert "patient_search" in audit


def test_a_clerk_of_another_clinic_finds_none_of_clinic_as_patients(
    clinic_a: Any, browser: Any, server: Server
) -> None:
    pid, name, _ = _a_patient(server)
    b = login(browser, server, "clerk-b")
    b.goto(server.url + "/patients")
    b.fill("input[name=q]", name.replace(" ", ""))
    b.click("button:has-text('患者を探す')")
    with db(server).connect() as c:
        keys_a = {r[0] for r in c.execute(sa.text("SELECT key FROM findings WHERE clinic_id = 'CLINIC-A'"))}
        b_has_him = c.execute(
            sa.text("SELECT count(*) FROM month_patients WHERE clinic_id = 'CLINIC-B' AND patient_id = :p"), {"p": pid}
        ).scalar()
    # clinic B's receipts name the same sample patients: a hit is B's own, linking to B's findings
    links = [str(a.get_attribute("href")) for a in b.locator("table.patients a").all()]
    assert not any(h.split("/")[2] in keys_a for h in links)
    assert (pid in b.locator("main").inner_text()) == bool(b_has_him)
    b.close()


def test_an_opted_in_clinic_writes_its_submission_from_the_month_view(
    clinic_a: Any, browser: Any, server: Server, tmp_path: Path
) -> None:
    page = clinic_a
    page.goto(f"{server.url}/months/{MONTH}")
    page.click("#survey-export")
    page.locator("#survey-download").wait_for(timeout=60_000)
    assert "完了" in page.locator("#survey-box").inner_text()
    page.locator("#survey-download").scroll_into_view_if_needed()
    screenshot(page, "month-survey")
    with page.expect_download() as dl:
        page.click("#survey-download")
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    assert path.name == f"henrei-survey-13-0042-{MONTH}.json"
    sub = decode_envelope(path.read_bytes()).submission
    assert (sub.clinic, sub.month, sub.prefecture) == ("13-0042", MONTH, "東京都") and sub.receipts == 327
    pid, name, kana = _a_patient(server)
    text = path.read_text(encoding="utf-8")
    assert pid not in text and name not in text and kana.split(" ")[0] not in text
    # clinic B has not opted in: no button, and the URLs are not found
    b = login(browser, server, "clerk-b")
    b.goto(f"{server.url}/months/{MONTH}")
    b.wait_for_load_state("networkidle")
    assert b.locator("#survey-export").count() == 0
    token = b.locator("input[name=_csrf_token]").first.get_attribute("value")
    assert b.request.post(f"{server.url}/months/{MONTH}/survey", headers={"x-csrftoken": token}).status == 404
    assert b.request.get(f"{server.url}/months/{MONTH}/survey/file").status == 404
    b.close()


@pytest.fixture(scope="module")
def submissions(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("submissions")
    files = [write_submission(s, out) for s in random_submissions(40, [MONTH])]
    bad = out / "tampered.json"
    env = json.loads(files[0].read_text(encoding="utf-8"))
    env["submission"]["receipts"] += 1  # the hash no longer matches
    bad.write_text(json.dumps(env), encoding="utf-8")
    return [*files, bad]


def test_the_association_uploads_aggregates_and_sees_published_tables_only(
    clinic_a: Any, browser: Any, server: Server, submissions: list[Path], tmp_path: Path
) -> None:
    a = login(browser, server, "assoc", "/association")
    assert "まだ集計していません" in a.content()
    a.set_input_files("#survey-files", [str(p) for p in submissions])
    a.click("#survey-upload")
    a.wait_for_load_state()
    results = a.locator("table.upload-results").inner_text()
    assert results.count("受け取りました") == len(submissions) - 1
    assert re.search(r"tampered\.json\s+取り込めません：.+", results), results
    assert a.locator("#inbox-count").inner_text() == f"{len(submissions) - 1}件"
    a.click("#aggregate-button")
    a.locator("#survey-jobs tr.done").wait_for(timeout=120_000)
    a.goto(server.url + "/association")
    tables = a.locator("section.survey-table")
    assert tables.count() >= 6
    text = a.locator("main").inner_text()
    assert "問4 トラブルの種類" in text and "―" in text and "提出 40件" in text
    screenshot(a, "association")
    with a.expect_download() as dl:
        a.click("text=集計表（Excel）")
    xlsx = tmp_path / "survey.xlsx"
    dl.value.save_as(xlsx)
    assert "概要" in openpyxl.load_workbook(xlsx, read_only=True).sheetnames
    with a.expect_download() as dl:
        a.click("text=summary.json")
    summary = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
    assert summary["import"]["submissions"] == 40 and summary["schema"] == "henrei.survey-summary/1"
    # aggregates only: none of clinic A's patients, findings or clinic IDs on the page
    _, name, _ = _a_patient(server)
    page_text = a.content()
    assert name not in page_text and "CLINIC-A" not in page_text and "13-0042" not in page_text


def test_the_association_gets_nothing_of_a_clinic_and_a_clinic_nothing_of_the_association(
    clinic_a: Any, browser: Any, server: Server
) -> None:
    with db(server).connect() as c:
        keys = [r[0] for r in c.execute(sa.text("SELECT key FROM findings WHERE clinic_id = 'CLINIC-A' LIMIT 3"))]
        jobs = [str(r[0]) for r in c.execute(sa.text("SELECT id FROM jobs WHERE clinic_id = 'CLINIC-A'"))]
    a = login(browser, server, "assoc", "/association")
    clinic_urls = [
        "/",
        "/patients",
        f"/jobs?ids={','.join(jobs)}",
        f"/months/{MONTH}",
        f"/months/{MONTH}/findings",
        f"/months/{MONTH}/returns",
        f"/months/{MONTH}/survey",
        f"/months/{MONTH}/survey/file",
        *(f"/months/{MONTH}/documents/{d}" for d in ("corrections", "inquiry", "settlement")),
        *(f"/findings/{k}/patient" for k in keys),
    ]
    for url in clinic_urls:
        r = a.request.get(server.url + url)
        assert r.status == 404, (url, r.status)
        assert not any(k in r.text() for k in keys)
    token = a.locator("input[name=_csrf_token]").first.get_attribute("value")
    for url in ("/patients", f"/months/{MONTH}/findings/status", f"/months/{MONTH}/survey", f"/months/{MONTH}/rebuild"):
        r = a.request.post(server.url + url, form={"q": "ア", "key": keys[0], "status": "対象外"},
                           headers={"x-csrftoken": token})  # fmt: skip
        assert r.status == 404, url
    clerk = clinic_a
    token = clerk.locator("input[name=_csrf_token]").first.get_attribute("value")
    for url in ("/association", "/association/jobs", "/association/documents/survey", "/association/documents/summary"):
        assert clerk.request.get(server.url + url).status == 404, url
    for url in ("/association/aggregate", "/association/upload"):
        assert clerk.request.post(server.url + url, headers={"x-csrftoken": token}).status == 404, url
    a.goto(server.url + f"/months/{MONTH}/findings")
    screenshot(a, "association-not-found")
