#!/usr/bin/env python
"""Benchmark of the Celery worker on Redis: one month uploaded, split into parts, timed.

Run from the repository root (Redis on 127.0.0.1:6379; database 8 is flushed):

    .venv/bin/python benchmarks/bench_worker.py --receipts 200000 --workers 1 2 4 --form xlsx

Steps:
1. make (or reuse) the month's files under benchmarks/_data/<form>-<N>-<seed>/ as
   benchmarks/bench_core.py does (generate_month + write_month);
2. baseline: ``worker.cli.reconcile(files, out)`` timed in a fresh subprocess (what
   the in-process CLI runs);
3. for each worker count W: a fresh data folder and SQLite database, Redis database 8
   flushed, one ``python -m worker.cli worker -c W`` process with HENREI_SPLIT_PARTS=W and
   HENREI_SPLIT_RECEIPTS=N/2 (so the month is split even at W=1), the 3 files uploaded
   as ``henrei upload`` does (``worker.jobs.accept_upload`` + a register job each), then
   (a) wall time from the first upload until every job of the clinic is finished
   (the last job's ``finished_at``), and
   (b) the final reconcile's own duration (the split parent's ``started_at`` to
   ``finished_at`` in the jobs table: load the cached tables, split, parts, combine,
   store), and when the last register job (reading a file) finished.
   The worker is stopped with SIGTERM to its process group and the folder removed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(os.path.abspath(__file__)).parent.parent
BENCH = ROOT / "benchmarks"
DATA = BENCH / "_data"
OUT = DATA / "_out"
REDIS_DB = 8
BROKER = f"redis://127.0.0.1:6379/{REDIS_DB}"
CLINIC = "bench-clinic"
from bench_core import MARKER, run_marked  # noqa: E402  (the script's folder is on sys.path)

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _log(msg: str) -> None:
    print(f"[bench-worker {datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def data_dir(form: str, n: int, seed: int) -> Path:
    return DATA / f"{form}-{n}-{seed}"


def _list_data(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def ensure_data(n: int, form: str, seed: int) -> list[Path]:
    """The month's files, generated with bench_core's gen stage when missing."""
    folder = data_dir(form, n, seed)
    files = _list_data(folder)
    if len(files) == 3:
        _log(f"reusing {folder.relative_to(ROOT)}")
        return files
    _log(f"generating {folder.relative_to(ROOT)} (xlsx: ~30 s per 100k receipts) ...")
    cmd = [
        sys.executable, str(BENCH / "bench_core.py"), "--_child", "gen",
        "--receipts", str(n), "--form", form, "--seed", str(seed), "--sample-interval", "0",
    ]  # fmt: skip
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    files = _list_data(folder)
    if len(files) != 3:
        raise RuntimeError(f"expected 3 files in {folder}, found {[p.name for p in files]}")
    return files


# ------------------------------------------------------------------ baseline (in-process)


def baseline_child(folder: Path) -> int:
    import logging

    logging.basicConfig(level=logging.WARNING)
    from worker.cli import reconcile

    out = OUT / f"worker-baseline-{folder.name}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    result = reconcile(_list_data(folder), out)
    seconds = time.perf_counter() - t0
    if result.problems:
        raise RuntimeError(f"file problems: {result.problems}")
    shutil.rmtree(out, ignore_errors=True)
    doc = {
        "seconds": round(seconds, 3),
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        "receipts": result.summary.receipts,
        "findings": len(result.findings),
    }
    print(MARKER + json.dumps(doc), flush=True)
    return 0


def run_baseline(folder: Path) -> dict[str, Any]:
    cmd = [sys.executable, os.path.abspath(__file__), "--_baseline", str(folder)]
    return run_marked(cmd, "baseline")


# ------------------------------------------------------------------ the worker


def _redis_flush() -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_workers(files: list[Path], n: int, workers: int, timeout: float) -> dict[str, Any]:
    import redis
    from sqlalchemy import select

    from tasks.uploads import register_upload
    from worker import jobs as worker_jobs
    from worker.config import Settings
    from worker.jobs.celery_app import app

    tmp = Path(tempfile.mkdtemp(prefix=f"henrei-bench-w{workers}-"))
    data = tmp / "data"
    db_url = f"sqlite:///{tmp / 'henrei.db'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HENREI_")},
        "HENREI_DATA_DIR": str(data),
        "HENREI_DATABASE_URL": db_url,
        "HENREI_BROKER_URL": BROKER,
        "HENREI_SPLIT_PARTS": str(workers),
        "HENREI_SPLIT_RECEIPTS": str(max(1, n // 2)),
    }
    _redis_flush()
    settings = Settings(data_dir=data, database_url=db_url, broker_url=BROKER)
    ctx = worker_jobs.Context(settings)
    _ = ctx.engine  # create the schema before the worker starts
    log = open(tmp / "worker.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "worker", "-c", str(workers)],
        env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_ready(tmp / "worker.log", proc, 60)
        conn = app.connection_for_write(BROKER)
        load_before = os.getloadavg()[0]
        t_upload = datetime.now().astimezone()
        t0 = time.perf_counter()
        upload_ids = []
        for p in files:  # what `henrei upload` does
            upload_id, created = worker_jobs.accept_upload(ctx, CLINIC, p)
            if created:
                worker_jobs.queue_register(ctx, upload_id, lambda j: register_upload.apply_async((j,), connection=conn))
            upload_ids.append(upload_id)
        upload_s = time.perf_counter() - t0

        def snapshot() -> list[worker_jobs.Job]:
            with worker_jobs.session_scope(ctx.engine) as s:
                jobs = list(s.scalars(select(worker_jobs.Job).where(worker_jobs.Job.clinic_id == CLINIC)))
                s.expunge_all()
            return jobs

        rds = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)

        def finished(jobs: list[worker_jobs.Job]) -> bool:
            # nothing queued or being worked on (acks_late: a running task's message is
            # in "unacked"), and every job of the clinic finished
            idle = rds.llen("henrei") == 0 and rds.hlen("unacked") == 0
            has_reconcile = any(j.kind == "reconcile" for j in jobs)
            return idle and has_reconcile and all(j.status in ("done", "failed") for j in jobs)

        end = time.monotonic() + timeout
        stable = 0
        while True:
            if time.monotonic() > end:
                raise TimeoutError(f"W={workers}: jobs not finished within {timeout} s (log: {tmp / 'worker.log'})")
            if proc.poll() is not None:
                raise RuntimeError(f"W={workers}: worker exited with {proc.returncode} (log: {tmp / 'worker.log'})")
            jobs = snapshot()
            stable = stable + 1 if finished(jobs) else 0
            if stable >= 2:
                break
            time.sleep(0.5)
        observed_s = time.perf_counter() - t0
        failed = [(j.id, j.kind, j.error) for j in jobs if j.status == "failed"]
        if failed:
            raise RuntimeError(f"W={workers}: failed jobs {failed}")
        last_finish = max(j.finished_at for j in jobs if j.finished_at)
        wall_s = (last_finish - t_upload).total_seconds()
        parents = sorted((j for j in jobs if j.kind == "reconcile"), key=lambda j: j.finished_at or j.created_at)
        ran = [j for j in parents if "same_as" not in (j.result or {})]
        final = ran[-1]
        registers = [j for j in jobs if j.kind == "register"]
        assert final.started_at and final.finished_at
        final_s = (final.finished_at - final.started_at).total_seconds()
        parts = [j for j in jobs if j.parent_id == final.id]
        return {
            "workers": workers,
            "split_parts": workers,
            "split_receipts": max(1, n // 2),
            "upload_s": round(upload_s, 3),
            "wall_s": round(wall_s, 3),
            "observed_wall_s": round(observed_s, 3),
            "final_job_s": round(final_s, 3),
            "wall_receipts_per_s": round(n / wall_s, 1),
            "final_receipts_per_s": round(n / final_s, 1),
            "reconcile_jobs": len(parents),
            "reconcile_runs": len(ran),
            "register_spans_s": [
                round((j.finished_at - j.started_at).total_seconds(), 3)
                for j in registers
                if j.started_at and j.finished_at
            ],
            "registered_after_s": round(
                max((j.finished_at - t_upload).total_seconds() for j in registers if j.finished_at), 3
            ),
            "final_job": {
                "id": final.id,
                "parts": len(parts),
                "result": final.result,
                "part_seconds": [
                    (p.result or {}).get("seconds") for p in sorted(parts, key=lambda p: p.part_index or 0)
                ],
                "part_spans_s": [
                    round((p.finished_at - p.started_at).total_seconds(), 3)
                    for p in sorted(parts, key=lambda p: p.part_index or 0)
                    if p.started_at and p.finished_at
                ],
            },
            "other_reconcile_jobs_s": [
                round((j.finished_at - j.started_at).total_seconds(), 3)
                for j in ran[:-1]
                if j.started_at and j.finished_at
            ],
            "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        }
    finally:
        _stop(proc)
        log.close()
        _redis_flush()
        worker_jobs.dispose_engines(db_url)
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_ready(log: Path, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Until Celery says the worker is ready (so start-up is not in the figures)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        if b"ready." in log.read_bytes():
            return
        time.sleep(0.2)
    _log("worker did not log 'ready.' in time; starting anyway")


# ------------------------------------------------------------------ report


def print_table(n: int, base: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    print()
    print(f"== worker benchmark: {n:,} receipts, {os.cpu_count()} CPUs ==")
    print(f"{'run':<26}{'wall s':>9}{'rcpt/s':>10}{'final job s':>13}{'rcpt/s':>10}{'parts':>7}{'jobs':>6}")
    print(f"{'in-process reconcile':<26}{base['seconds']:>9.2f}{n / base['seconds']:>10,.0f}{'-':>13}{'-':>10}")
    for r in runs:
        print(
            f"{'worker -c ' + str(r['workers']):<26}{r['wall_s']:>9.2f}{r['wall_receipts_per_s']:>10,.0f}"
            f"{r['final_job_s']:>13.2f}{r['final_receipts_per_s']:>10,.0f}{r['final_job']['parts']:>7}"
            f"{r['reconcile_jobs']:>6}"
        )
    print(f"baseline stages (s): {base['timings']}")
    for r in runs:
        fj = r["final_job"]
        secs = (fj["result"] or {}).get("seconds")
        print(f"W={r['workers']}: parent stages (s) {secs}; parts (s) {fj['part_seconds']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--receipts", type=int, default=200_000)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--form", choices=("xlsx", "csv"), default="xlsx")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=900, help="seconds to wait for one worker run")
    p.add_argument("--_baseline", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._baseline:
        return baseline_child(Path(args._baseline))

    # a SIGTERM unwinds like an exception, so the worker and its folder are cleaned up
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    n = args.receipts
    files = ensure_data(n, args.form, args.seed)
    _log("baseline: worker.cli.reconcile in a fresh process ...")
    base = run_baseline(data_dir(args.form, n, args.seed))
    _log(f"  baseline {base['seconds']:.2f} s ({n / base['seconds']:,.0f} receipts/s)")
    runs = []
    for w in args.workers:
        _log(f"worker -c {w} (split into {w} parts) ...")
        r = run_workers(files, n, w, args.timeout)
        _log(f"  wall {r['wall_s']:.2f} s, final job {r['final_job_s']:.2f} s, {r['reconcile_jobs']} reconcile job(s)")
        runs.append(r)
    print_table(n, base, runs)
    doc = {
        "receipts": n,
        "form": args.form,
        "seed": args.seed,
        "updated_at": datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": sys.platform},
        "database": "sqlite",
        "broker": BROKER,
        "baseline_in_process": {**base, "receipts_per_s": round(n / base["seconds"], 1)},
        "workers": runs,
    }
    path = BENCH / f"results-worker-{n}.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"results: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
