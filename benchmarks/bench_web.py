#!/usr/bin/env python
"""Benchmark of the clerks' page: a month with 5,000 findings listed, filtered, paged.

Run from the repository root:

    .venv/bin/python benchmarks/bench_web.py --findings 5000 --repeat 20

Steps: a fresh data folder and SQLite database; ``--findings`` synthetic findings of one
clinic-month stored as a reconcile job stores them (``replace_findings``, a correction
list row), a tenth of them with a clerk's status; a clerk made with ``henrei users add``;
``henrei serve`` started (uvicorn, in-process jobs); the clerk logs in over HTTP and each
request below is sent ``--repeat`` times (after one warm-up), timing the whole HTTP
round trip. Prints median, p95 and max per request (ms) and writes the JSON to
``--out``. The page's target: every request under 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rules import CATEGORY_LABELS_JA, FINDING_COLUMNS  # noqa: E402
from worker.config import Settings  # noqa: E402
from worker.jobs import (  # noqa: E402
    Context,
    CorrectionList,
    Finding,
    Job,
    replace_findings,
    replace_month_patients,
    session_scope,
    set_finding_status,
)
from worker.jobs.month_patients import month_patients  # noqa: E402

CLINIC, MONTH, PASSWORD = "BENCH-CLINIC", "2026-10", "bench-password-1"


def synthetic_findings(n: int, month: str = MONTH) -> pd.DataFrame:
    """``n`` findings over every category and severity, 5 per patient (whole columns)."""
    i = pd.RangeIndex(n)
    cats = list(CATEGORY_LABELS_JA)
    sev = pd.Series(["error", "warning", "info"])
    return pd.DataFrame(
        {
            "source_file": "receipts.xlsx",
            "sheet": "社保",
            "row": (i + 2).to_numpy(),
            "patient_id": [f"{100000 + k // 5}" for k in i],
            "claim_month": month,
            "category": [cats[k % len(cats)] for k in i],
            "rule_id": [f"R{k % 7}" for k in i],
            "severity": sev[i % 3].to_numpy(),
            "expected": "2割",
            "actual": "3割",
            "message": "請求した負担割合 3割 は、確認できた負担割合 2割 と違います。",
            "action": "レセプトの負担割合を直してください。",
            "copay_diff_yen": pd.Series([(k % 11 - 5) * 110 for k in i], dtype="Int64"),
        },
        columns=list(FINDING_COLUMNS),
    )


FAMILIES = [("山田", "ヤマダ"), ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("髙橋", "タカハシ"), ("田中", "タナカ")]
GIVEN = [("太郎", "タロウ"), ("花子", "ハナコ"), ("一郎", "イチロウ"), ("幸子", "サチコ")]


def synthetic_context(findings: pd.DataFrame) -> pd.DataFrame:
    """Names for the findings' origins (the run's context): a family and a given name per patient."""
    k = pd.to_numeric(findings["patient_id"]).to_numpy()
    fam = [FAMILIES[i % len(FAMILIES)] for i in k]
    giv = [GIVEN[(i // len(FAMILIES)) % len(GIVEN)] for i in k]
    return pd.DataFrame(
        {
            "source_file": findings["source_file"],
            "sheet": findings["sheet"],
            "row": findings["row"],
            "name": [f"{f[0]}　{g[0]}" for f, g in zip(fam, giv, strict=True)],
            "kana": [f"{f[1]}　{g[1]}" for f, g in zip(fam, giv, strict=True)],
        }
    )


def store_month(settings: Settings, n: int, clinic: str = CLINIC, month: str = MONTH) -> list[str]:
    """Store ``n`` findings of the clinic-month as a finished reconcile job does; returns their keys."""
    ctx = Context(settings)
    with session_scope(ctx.engine) as s:
        job = Job(kind="reconcile", clinic_id=clinic, claim_month=month, status="done")
        s.add(job)
        s.flush()
        findings = synthetic_findings(n, month)
        replace_findings(s, clinic, month, job.id, findings)
        replace_month_patients(s, clinic, month, month_patients(findings, synthetic_context(findings)))
        s.add(CorrectionList(clinic_id=clinic, claim_month=month, job_id=job.id,
                             xlsx_path="none.xlsx", json_path="none.json"))  # fmt: skip
    with session_scope(ctx.engine) as s:
        keys = list(s.scalars(select(Finding.key).where(Finding.clinic_id == clinic).order_by(Finding.key)))
        for k in keys[::10]:
            set_finding_status(s, k, "対応中", "bench")
    return keys


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results-web-5000.json")
    args = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="henrei-bench-web-"))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HENREI_")}
    env.update(HENREI_DATA_DIR=str(data), HENREI_WEB_JOBS="inprocess", HENREI_WEB_PORT=str(port))
    t0 = time.perf_counter()
    store_month(Settings(data_dir=data), args.findings)
    print(f"stored {args.findings:,} findings in {time.perf_counter() - t0:.1f} s")
    cli = [sys.executable, "-m", "worker.cli"]
    subprocess.run([*cli, "users", "add", "bench", "--role", "clerk", "--clinic", CLINIC, "--password-stdin"],
                   input=PASSWORD + "\n", text=True, env=env, cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    proc = subprocess.Popen([*cli, "serve"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    results: dict[str, Any] = {}
    try:
        with httpx.Client(base_url=url, timeout=30) as c:
            for _ in range(100):
                try:
                    page = c.get("/login")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)[1]  # type: ignore[index]
            c.post("/login", data={"_csrf_token": token, "login": "bench", "password": PASSWORD})
            base = f"/months/{MONTH}/findings"

            def filtered(**form: str) -> None:
                r = c.post(f"{base}/filter", data={"_csrf_token": token, **form})
                assert r.status_code in (200, 302, 303), r.status_code

            cases: list[tuple[str, dict[str, str], str]] = [
                ("list, page 1", {}, f"{base}?page=1"),
                ("list, page 50", {}, f"{base}?page=50"),
                ("filter category", {"category": "eligibility_invalid"}, f"{base}?page=1"),
                ("filter severity + status", {"severity": "error", "status": "未対応"}, f"{base}?page=2"),
                ("filter patient", {"patient": "1005"}, f"{base}?page=1"),
                ("filter name (カナ in hiragana)", {"patient": "すずきはな"}, f"{base}?page=1"),
                ("filter name (kanji, 異体字)", {"patient": "高橋"}, f"{base}?page=2"),
                ("sort by money, page 20", {"sort": "money"}, f"{base}?page=20"),
                ("month view", {}, f"/months/{MONTH}"),
            ]
            for name, form, path in cases:
                filtered(**form) if form else filtered(clear="1")
                r = c.get(path)
                assert r.status_code == 200 and "件" in r.text, (name, r.status_code)
                times = []
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    r = c.get(path)
                    times.append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 200
                times.sort()
                results[name] = {
                    "median_ms": round(statistics.median(times), 1),
                    "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
                    "max_ms": round(times[-1], 1),
                }
                print(f"{name:28s} median {results[name]['median_ms']:6.1f} ms  p95 {results[name]['p95_ms']:6.1f}"
                      f"  max {results[name]['max_ms']:6.1f}")  # fmt: skip
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    out = {"findings": args.findings, "repeat": args.repeat, "nproc": os.cpu_count(), "requests": results}
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
