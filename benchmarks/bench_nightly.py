#!/usr/bin/env python
"""The vendor's nightly case: many small clinic-months through the Celery worker, per minute,
with 1, 2 and 4 worker processes (issue 11).

    .venv/bin/python benchmarks/bench_nightly.py --clinics 12 --receipts 1000 --workers 1 2 4

Each of K clinics gets its own synthetic month (seeds 0..K-1, so that no two share a file's
content; ``benchmarks/_data/xlsx-N-<seed>``), its three files uploaded as ``henrei upload``
does. For each worker count W: a fresh data folder and SQLite database, Redis database
``HENREI_BENCH_REDIS_DB`` (default 11) flushed, one ``henrei worker -c W`` started and ready
before the clock starts; the figure is the wall time from the first upload to the last
finished job of every clinic, as clinic-months per minute. Written to
``benchmarks/results-nightly.json``; ``--root DIR`` runs the worker of another checkout (the
same uploads and database schema), for a before/after in the same conditions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench_core import ROOT, data_dir, ensure_data  # the script's folder is on sys.path
from bench_worker import _log, _stop, _wait_ready

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REDIS_DB = int(os.environ.get("HENREI_BENCH_REDIS_DB", "11"))
BROKER = f"redis://127.0.0.1:6379/{REDIS_DB}"


def _flush() -> None:
    import redis

    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()


def run_nightly(months: list[list[Path]], workers: int, timeout: float, root: Path = ROOT) -> dict[str, Any]:
    import redis
    from sqlalchemy import select

    from tasks.uploads import register_upload
    from worker import jobs as worker_jobs
    from worker.config import Settings
    from worker.jobs.celery_app import app

    tmp = Path(tempfile.mkdtemp(prefix=f"henrei-nightly-w{workers}-"))
    data, db_url = tmp / "data", f"sqlite:///{tmp / 'henrei.db'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HENREI_")},
        "HENREI_DATA_DIR": str(data),
        "HENREI_DATABASE_URL": db_url,
        "HENREI_BROKER_URL": BROKER,
    }
    _flush()
    ctx = worker_jobs.Context(Settings(data_dir=data, database_url=db_url, broker_url=BROKER))
    _ = ctx.engine  # the schema exists before the worker starts
    log = open(tmp / "worker.log", "wb")  # noqa: SIM115
    python = str(root / ".venv" / "bin" / "python") if root != ROOT else sys.executable
    proc = subprocess.Popen(
        [python, "-m", "worker.cli", "worker", "-c", str(workers)],
        env=env, cwd=root, stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_ready(tmp / "worker.log", proc, 60)
        conn = app.connection_for_write(BROKER)
        load_before = os.getloadavg()[0]
        t_upload = datetime.now().astimezone()
        for k, files in enumerate(months):
            for p in files:
                upload_id, created = worker_jobs.accept_upload(ctx, f"clinic-{k:03d}", p)
                if created:
                    worker_jobs.queue_register(
                        ctx, upload_id, lambda j: register_upload.apply_async((j,), connection=conn)
                    )
        rds = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
        end, stable = time.monotonic() + timeout, 0
        while True:
            if time.monotonic() > end:
                raise TimeoutError(f"W={workers}: not finished within {timeout} s (log: {tmp / 'worker.log'})")
            if proc.poll() is not None:
                raise RuntimeError(f"W={workers}: worker exited with {proc.returncode}")
            with worker_jobs.session_scope(ctx.engine) as s:
                jobs = list(s.scalars(select(worker_jobs.Job)))
                s.expunge_all()
            done_clinics = {j.clinic_id for j in jobs if j.kind == "reconcile" and j.status == "done"}
            idle = rds.llen("henrei") == 0 and rds.hlen("unacked") == 0
            finished = all(j.status in ("done", "failed") for j in jobs) and len(done_clinics) == len(months)
            stable = stable + 1 if idle and finished else 0
            if stable >= 2:
                break
            time.sleep(0.5)
        failed = [(j.id, j.kind, j.error) for j in jobs if j.status == "failed"]
        if failed:
            raise RuntimeError(f"W={workers}: failed jobs {failed}")
        wall_s = (max(j.finished_at for j in jobs if j.finished_at) - t_upload).total_seconds()
        return {
            "workers": workers,
            "clinic_months": len(months),
            "wall_s": round(wall_s, 2),
            "clinic_months_per_min": round(60 * len(months) / wall_s, 1),
            "jobs": len(jobs),
            "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        }
    finally:
        _stop(proc)
        log.close()
        _flush()
        worker_jobs.dispose_engines(db_url)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clinics", type=int, default=12)
    p.add_argument("--receipts", type=int, default=1000)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--root", type=Path, default=ROOT, help="run the worker of another checkout (e.g. /work/main)")
    args = p.parse_args()
    months = []
    for seed in range(args.clinics):
        ensure_data(args.receipts, "xlsx", seed, 0)
        folder = data_dir("xlsx", args.receipts, seed)
        months.append(sorted(f for f in folder.iterdir() if f.is_file()))
    runs = []
    for w in args.workers:
        _log(f"worker -c {w}: {args.clinics} clinic-months of {args.receipts:,} receipts ...")
        runs.append(run_nightly(months, w, args.timeout, args.root.resolve()))
        _log(f"  {runs[-1]['wall_s']} s = {runs[-1]['clinic_months_per_min']} clinic-months/min")
    print("| worker processes | clinic-months | wall s | clinic-months per minute | load before/after |")
    print("|---:|---:|---:|---:|---|")
    for r in runs:
        print(
            f"| {r['workers']} | {r['clinic_months']} | {r['wall_s']} | {r['clinic_months_per_min']} "
            f"| {r['loadavg_1m'][0]} / {r['loadavg_1m'][1]} |"
        )
    doc = {
        "measured_at": datetime.now().isoformat(timespec="seconds"),
        "receipts": args.receipts,
        "root": str(args.root),
        "runs": runs,
    }
    name = "results-nightly.json" if args.root.resolve() == ROOT else f"results-nightly-{args.root.name}.json"
    (ROOT / "benchmarks" / name).write_text(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
