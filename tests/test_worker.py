"""The worker against the real thing: Redis on 127.0.0.1:6379, real Celery worker and
beat processes, a real database (SQLite in a temp folder; PostgreSQL where it runs).

Each test uses its own Redis database number and flushes it; no eager mode, no mocks.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, select
from test_month_lists import check_month_lists

from worker import jobs as service
from worker import jobs as st
from worker.cli import reconcile
from worker.config import Settings

SAMPLES = Path(__file__).resolve().parent.parent / "sample_receipts"
# Each checkout running tests at the same time needs its own database number.
REDIS_DB = int(os.environ.get("HENREI_TEST_REDIS_DB", "9"))
BROKER = f"redis://127.0.0.1:6379/{REDIS_DB}"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

pytestmark = pytest.mark.slow


def _redis() -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)


def _require_redis() -> None:
    try:
        _redis().ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("Redis must run on 127.0.0.1:6379 (scripts/test.sh starts it)")


def wait_until(pred: Callable[[], bool], timeout: float = 120, what: str = "") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


class Env:
    """One test's worker environment: data folder, database, broker, processes."""

    def __init__(self, tmp: Path, database_url: str, extra: dict[str, str] | None = None) -> None:
        self.tmp = tmp
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("HENREI_")},
            "HENREI_DATA_DIR": str(tmp / "data"),
            "HENREI_DATABASE_URL": database_url,
            "HENREI_BROKER_URL": BROKER,
            "HENREI_SWEEP_STALE_S": "2",
            "HENREI_SWEEP_EVERY_S": "2",
            **(extra or {}),
        }
        self.procs: list[subprocess.Popen[bytes]] = []
        self.settings = Settings(data_dir=tmp / "data", database_url=database_url, broker_url=BROKER)
        self.ctx = service.Context(self.settings)

    def start(
        self, *args: str, module: str = "worker.cli", env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """``python -m worker.cli ARGS`` (or another module) in its own process group."""
        log = open(self.tmp / f"{args[0]}-{len(self.procs)}.log", "wb")  # noqa: SIM115
        p = subprocess.Popen(
            [sys.executable, "-m", module, *args], env={**self.env, **(env or {})}, cwd=self.tmp, stdout=log,
            stderr=log, start_new_session=True,
        )  # fmt: skip
        self.procs.append(p)
        return p

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def enqueue_register(self, job_id: int) -> None:
        # the same call the CLI makes, from this process, with the test's broker
        from tasks.uploads import register_upload

        register_upload.apply_async((job_id,), connection=self._conn())

    def _conn(self):  # type: ignore[no-untyped-def]
        from worker.jobs.celery_app import app

        return app.connection_for_write(BROKER)

    def upload(self, clinic: str, paths: list[Path]) -> list[int]:
        ids = []
        for p in paths:
            upload_id, created = service.accept_upload(self.ctx, clinic, p)
            if created:
                service.queue_register(self.ctx, upload_id, self.enqueue_register)
            ids.append(upload_id)
        return ids

    def jobs(self, clinic: str | None = None, kind: str | None = None) -> list[st.Job]:
        with st.session_scope(self.ctx.engine) as s:
            q = select(st.Job).order_by(st.Job.id)
            if clinic:
                q = q.where(st.Job.clinic_id == clinic)
            if kind:
                q = q.where(st.Job.kind == kind)
            jobs = list(s.scalars(q))
            s.expunge_all()
            return jobs

    def job(self, job_id: int) -> st.Job:
        with st.session_scope(self.ctx.engine) as s:
            job = s.get(st.Job, job_id)
            assert job is not None
            s.expunge(job)
            return job

    def all_finished(self, clinic: str | None = None, n: int = 1) -> bool:
        jobs = self.jobs(clinic)
        return len(jobs) >= n and all(j.status in ("done", "failed") for j in jobs)

    def finding_keys(self, clinic: str, month: str) -> list[tuple[str, ...]]:
        with st.session_scope(self.ctx.engine) as s:
            f = st.findings_frame(s, clinic, month)
        return sorted(map(tuple, f[["source_file", "sheet", "row", "rule_id", "expected"]].astype(str).to_numpy()))


def _pg_database() -> Iterator[str]:
    import sqlalchemy

    name = f"henrei_test_{uuid.uuid4().hex[:8]}"
    try:
        admin = sqlalchemy.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.exec_driver_sql(f"CREATE DATABASE {name}")
    except sqlalchemy.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432 ({exc.__class__.__name__})")
    yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    service.dispose_engines()
    with admin.connect() as c:
        c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'henrei.db'}"
    else:
        yield from _pg_database()


@pytest.fixture
def make_env(tmp_path: Path) -> Iterator[Callable[..., Env]]:
    _require_redis()
    _redis().flushdb()
    envs: list[Env] = []

    def make(database_url: str | None = None, **extra: str) -> Env:
        e = Env(tmp_path, database_url or f"sqlite:///{tmp_path / 'data' / 'henrei.db'}", extra)
        envs.append(e)
        return e

    yield make
    for e in envs:
        e.stop()
    _redis().flushdb()


def _sample_files() -> list[Path]:
    return sorted(p for p in SAMPLES.glob("2026-*/*") if p.suffix in (".xlsx", ".csv"))


def _single_process_keys(files: list[Path], out: Path, month: str) -> list[tuple[str, ...]]:
    f = reconcile(files, out).findings
    f = f[f["claim_month"] == month]
    return sorted(map(tuple, f[["source_file", "sheet", "row", "rule_id", "expected"]].astype(str).to_numpy()))


def test_upload_to_findings_once_and_status_survives(make_env: Callable[..., Env], database_url: str) -> None:
    env = make_env(database_url)
    env.start("worker", "-c", "2")
    files = _sample_files()
    env.upload("C1", files)
    wait_until(lambda: env.all_finished("C1", n=len(files) + 1), what="the clinic's jobs")
    assert {j.status for j in env.jobs("C1")} == {"done"}
    registers, runs = env.jobs("C1", "register"), env.jobs("C1", "reconcile")
    assert len(registers) == len(files)
    # each month waited for every file to be read: one job per month, run once
    months = [j.claim_month for j in runs]
    detail = [(j.id, j.kind, j.claim_month, j.status, j.created_at, j.finished_at, j.result) for j in env.jobs("C1")]
    assert "2026-10" in months and len(set(months)) == len(months), "\n".join(map(str, detail))
    assert all(j.attempts == 1 and j.result and "same_as" not in j.result for j in runs)
    assert {int(i) for r in registers for i in (r.result or {})["jobs"]} == {j.id for j in runs}
    keys = env.finding_keys("C1", "2026-10")
    assert keys == _single_process_keys(files, env.tmp / "single", "2026-10")
    # each month's list (stored, workbook, findings.json, status) is the single run's of that
    # month; the returns (of August and September claims) make no August list
    assert sorted(months) == ["2026-09", "2026-10"]
    lists = check_month_lists(env.ctx, "C1", files, env.tmp / "single-lists")
    assert {m: len(f) for m, f in lists.items()} == {"2026-09": 21, "2026-10": 132}
    with st.session_scope(env.ctx.engine) as s:
        lists = s.scalars(select(st.CorrectionList).where(st.CorrectionList.claim_month == "2026-10")).all()
        assert lists and (env.settings.data_dir / lists[0].xlsx_path).exists()
        first = st.findings_frame(s, "C1", "2026-10").iloc[0]
        st.set_finding_status(s, first["key"], "対応中", "事務 山田")
    # the same files again: one upload each, no new work, one set of findings
    env.upload("C1", files)
    with st.session_scope(env.ctx.engine) as s:
        assert s.scalar(select(func.count()).select_from(st.Upload)) == len(files)
    assert len(env.jobs("C1")) == len(registers) + len(runs)
    # a re-run of the month asked for after the last one finished runs, replaces its
    # findings (never duplicates them) and keeps the clerk's status
    rerun = service.queue_reconcile(env.ctx, "C1", "2026-10", lambda j: _enqueue_reconcile(env, j))
    wait_until(lambda: env.job(rerun).status in ("done", "failed"), what="the re-run")
    result = env.job(rerun).result
    assert result and "same_as" not in result and result["receipts"] > 0
    assert env.finding_keys("C1", "2026-10") == keys
    with st.session_scope(env.ctx.engine) as s:
        frame = st.findings_frame(s, "C1", "2026-10").set_index("key")
        assert frame.loc[first["key"], "status"] == "対応中"


def test_cli_upload_prints_the_job_and_status_follows_it(make_env: Callable[..., Env]) -> None:
    env = make_env()
    env.start("worker", "-c", "2")
    files = [p for p in _sample_files() if p.parent.name == "2026-10"]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "worker.cli", *args],
            env={**env.env, "COLUMNS": "250"},
            cwd=env.tmp,
            capture_output=True,
            text=True,
            timeout=120,
        )

    out = cli("upload", "--clinic", "C5", *map(str, files))
    assert out.returncode == 0, out.stderr
    printed = [int(m) for m in re.findall(r"ジョブ (\d+)（進み具合: henrei status --job \1）", out.stdout)]
    assert sorted(printed) == sorted(j.id for j in env.jobs("C5", "register"))
    assert len(printed) == len(files)
    wait_until(lambda: env.all_finished("C5", n=len(files) + 1), what="the uploaded files")
    job = next(j for j in map(env.job, printed) if (j.result or {})["jobs"])  # a card file may have no month
    followed = cli("status", "--job", str(job.id))
    assert followed.returncode == 0, followed.stderr
    reconcile_ids = (job.result or {})["jobs"]
    for line_id in [job.id, *reconcile_ids]:
        assert re.search(rf"│ {line_id} +│ .+│ 完了 ", followed.stdout), followed.stdout
    assert "訂正リスト（2026-10）" in followed.stdout and "corrections.xlsx" in followed.stdout
    again = cli("upload", "--clinic", "C5", str(files[0]))
    assert again.returncode == 0 and "受付済み" in again.stdout
    assert len(env.jobs("C5", "register")) == len(files)
    bad = cli("upload", "--clinic", "../x", str(files[0]))
    assert bad.returncode == 2 and "医療機関ID" in bad.stdout


def test_flower_monitors_the_worker_and_sees_only_job_ids(make_env: Callable[..., Env], tmp_path: Path) -> None:
    import json
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = make_env()
    env.start("worker", "-c", "2")
    env.start(
        "-A", "worker.jobs.celery_app", "flower", f"--port={port}", "--address=127.0.0.1",
        module="celery", env={"FLOWER_UNAUTHENTICATED_API": "true"},
    )  # fmt: skip

    def api(path: str) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            data: dict[str, Any] = json.loads(r.read())
            return data

    def flower_up() -> bool:
        try:
            api("/api/tasks")
            return True
        except OSError:
            return False

    wait_until(flower_up, timeout=60, what="Flower")
    files = [p for p in _sample_files() if p.parent.name == "2026-10"]
    env.upload("C6", files)
    wait_until(lambda: env.all_finished("C6", n=len(files) + 1), what="the uploaded files")

    def seen() -> dict[str, Any]:
        return {t["uuid"]: t for t in api("/api/tasks").values() if t.get("state") == "SUCCESS"}

    names = {"henrei.register_upload", "henrei.reconcile_clinic_month"}
    wait_until(lambda: {t["name"] for t in seen().values()} >= names, what="the tasks in Flower")
    job_ids = {j.id for j in env.jobs("C6")}
    for t in seen().values():  # a task message carries a job ID and nothing else
        assert t["kwargs"] in ("{}", {}), t
        assert re.fullmatch(r"\((\d+),\)", t["args"]) and int(t["args"][1:-2]) in job_ids, t
    assert any(w.startswith("celery@") for w in api("/api/workers?refresh=1"))


def _enqueue_reconcile(env: Env, job_id: int) -> None:
    from tasks.reconcile import reconcile_clinic_month

    reconcile_clinic_month.apply_async((job_id,), connection=env._conn())


def _renamed(tmp: Path, prefix: str) -> list[Path]:
    out = tmp / f"in-{prefix}"
    out.mkdir()
    for p in _sample_files():
        if p.parent.name == "2026-10":
            shutil.copy(p, out / (f"{prefix}_{p.name}" if p.name.startswith("receipts") else p.name))
    return sorted(out.iterdir())


def test_worker_killed_mid_task_finishes_with_single_process_result(make_env: Callable[..., Env]) -> None:
    env = make_env(HENREI_FAULT_KILL_MARKER="KILLONCE", HENREI_FAULT_KILL_ATTEMPTS="1")
    env.start("worker", "-c", "2")
    files = _renamed(env.tmp, "KILLONCE")
    env.upload("C2", files)
    wait_until(lambda: env.all_finished("C2"), what="the job after the worker loss")
    jobs = env.jobs("C2", "reconcile")
    assert jobs and {j.status for j in env.jobs("C2")} == {"done"}
    assert all(j.lost_workers == 1 and j.attempts == 2 for j in jobs), [(j.lost_workers, j.attempts) for j in jobs]
    assert env.finding_keys("C2", "2026-10") == _single_process_keys(files, env.tmp / "single", "2026-10")


def test_a_worker_sigkilled_mid_job_is_recovered_within_3_minutes_with_default_settings(
    make_env: Callable[..., Env],
) -> None:
    """The whole worker (pool and children) killed with SIGKILL while a job runs, as an OOM
    kill or a container restart does; a new worker and beat with the default heartbeat,
    staleness and sweeper settings finish the job in under 3 minutes, with the result of a
    single process."""
    env = make_env(
        HENREI_SWEEP_STALE_S="",  # the defaults, not the quick ones of the other tests
        HENREI_SWEEP_EVERY_S="",
        HENREI_FAULT_KILL_MARKER="HANG",
        HENREI_FAULT_KILL_ATTEMPTS="1",
        HENREI_FAULT_HANG_S="600",
    )
    worker = env.start("worker", "-c", "1")
    files = _renamed(env.tmp, "HANG")
    env.upload("C8", files)
    wait_until(
        lambda: any(j.status == "running" for j in env.jobs("C8", "reconcile")), timeout=180, what="the job to run"
    )
    time.sleep(2)  # inside the hang: the job is running in the pool process
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    killed_at = time.monotonic()
    env.start("worker", "-c", "1")
    env.start("beat")
    wait_until(lambda: env.all_finished("C8"), timeout=180, what="recovery of the job within 3 minutes")
    took = time.monotonic() - killed_at
    [job] = env.jobs("C8", "reconcile")
    assert job.status == "done" and job.lost_workers == 1 and job.attempts == 2, (job.status, job.error)
    assert took < 180, took
    assert env.finding_keys("C8", "2026-10") == _single_process_keys(files, env.tmp / "single", "2026-10")
    print(f"recovered {took:.0f} s after the kill")


def test_poison_file_fails_after_bounded_attempts_others_done(make_env: Callable[..., Env]) -> None:
    env = make_env(HENREI_FAULT_KILL_MARKER="POISON")
    env.start("worker", "-c", "2")
    env.upload("BAD", _renamed(env.tmp, "POISON"))
    env.upload("GOOD", _renamed(env.tmp, "fine"))
    wait_until(lambda: env.all_finished("BAD") and env.all_finished("GOOD"), timeout=180, what="both clinics")
    bad, good = env.jobs("BAD", "reconcile"), env.jobs("GOOD")
    assert bad and all(j.status == "failed" and j.lost_workers == service.MAX_LOST_WORKERS for j in bad)
    assert all("停止" in (j.error or "") for j in bad)
    assert {j.status for j in good} == {"done"}


def test_an_error_in_a_task_fails_its_job_at_once_with_a_stored_message(make_env: Callable[..., Env]) -> None:
    # the error's text quotes a patient (as a pandas or database error might): it must not leak
    env = make_env(HENREI_FAULT_KILL_MARKER="BROKEN", HENREI_FAULT_RAISE="患者 山田太郎 19510813")
    env.start("worker", "-c", "2")
    env.upload("ERR", _renamed(env.tmp, "BROKEN"))
    env.upload("OK", _renamed(env.tmp, "fine"))
    wait_until(lambda: env.all_finished("ERR") and env.all_finished("OK"), what="both clinics")
    [failed] = env.jobs("ERR", "reconcile")
    assert failed.status == "failed" and failed.attempts == 1 and failed.lost_workers == 0
    assert failed.error == (
        "処理中にエラーが発生したため中止しました（RuntimeError）。IT担当者（ベンダー）に連絡してください。"
    )
    assert {j.status for j in env.jobs("OK")} == {"done"}
    logs = "".join(p.read_text(errors="replace") for p in env.tmp.glob("worker-*.log"))
    assert "RuntimeError" in logs and "faults.py" in logs  # the vendor sees what and where (the injected fault)
    assert "山田" not in logs and "19510813" not in logs  # never the text


def test_a_job_over_the_run_time_limit_fails_with_its_message(make_env: Callable[..., Env]) -> None:
    """HENREI_RUN_TIMEOUT_S ends a job that runs too long (here a reconcile held up by the
    fault hook) with the clerk's message, at once (no retry); the other clinic is done."""
    env = make_env(HENREI_FAULT_KILL_MARKER="SLOW", HENREI_FAULT_HANG_S="120", HENREI_RUN_TIMEOUT_S="10")
    env.start("worker", "-c", "2")
    env.upload("SLOW", _renamed(env.tmp, "SLOW"))
    env.upload("OK", _renamed(env.tmp, "fine"))
    wait_until(lambda: env.all_finished("SLOW") and env.all_finished("OK"), what="both clinics", timeout=100)
    [failed] = env.jobs("SLOW", "reconcile")
    assert failed.status == "failed" and failed.attempts == 1, failed
    assert (failed.error or "").startswith("処理が制限時間（10秒）内に終わらなかったため中止しました")
    assert {j.status for j in env.jobs("OK")} == {"done"}


def test_redis_flushed_sweeper_completes_every_upload(make_env: Callable[..., Env]) -> None:
    env = make_env()
    files = _sample_files()
    ids = env.upload("C3", files)  # queued in Redis, no worker yet
    assert _redis().llen("henrei") == len(ids)
    _redis().flushdb()  # Redis restarted without persistence: every message is gone
    env.start("worker", "-c", "2")
    env.start("beat")

    def all_reconciled() -> bool:
        with st.session_scope(env.ctx.engine) as s:
            statuses = set(s.scalars(select(st.Upload.status).where(st.Upload.clinic_id == "C3")))
        return statuses == {"reconciled"} and env.all_finished("C3")

    wait_until(all_reconciled, timeout=180, what="the sweeper to re-enqueue and finish every upload")
    assert env.finding_keys("C3", "2026-10") == _single_process_keys(files, env.tmp / "single", "2026-10")


def test_upload_while_redis_is_down_is_kept_and_reconciled_later(make_env: Callable[..., Env]) -> None:
    env = make_env()
    files = [p for p in _sample_files() if p.parent.name == "2026-10"]
    out = subprocess.run(
        [sys.executable, "-m", "worker.cli", "upload", "--clinic", "C7", *map(str, files)],
        env={**env.env, "HENREI_BROKER_URL": "redis://127.0.0.1:1/0", "COLUMNS": "250"},  # nothing listens there
        cwd=env.tmp,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stdout.count("キューに入れられませんでした") == len(files), out.stdout
    assert [j.status for j in env.jobs("C7")] == ["queued"] * len(files)  # stored, in the database
    env.start("worker", "-c", "2")
    env.start("beat")  # its sweeper enqueues them
    wait_until(lambda: env.all_finished("C7", n=len(files) + 1), timeout=180, what="the sweeper")
    assert {j.status for j in env.jobs("C7")} == {"done"}
    assert env.finding_keys("C7", "2026-10") == _single_process_keys(files, env.tmp / "single", "2026-10")


def test_two_beats_one_nightly_run_then_a_pickup_now(make_env: Callable[..., Env]) -> None:
    env = make_env(HENREI_DROP_DIR="")
    drop = env.settings.data_dir / "drop" / "C4"
    drop.mkdir(parents=True)
    hour_ago = time.time() - 3600
    for p in _sample_files():
        if p.parent.name == "2026-10":
            shutil.copy(p, drop / p.name)
            os.utime(drop / p.name, (hour_ago, hour_ago))
    writing = drop / "sub" / "being_written.csv"  # the レセコン is still writing it
    writing.parent.mkdir()
    writing.write_text("患者ID,氏名\n", encoding="utf-8")
    env.start("worker", "-c", "2")
    from tasks.nightly import nightly

    for _ in range(2):  # two beats fired the same night
        nightly.apply_async(connection=env._conn())
    wait_until(lambda: env.all_finished("C4", n=4), what="the nightly reconciliation")
    time.sleep(2)
    with st.session_scope(env.ctx.engine) as s:
        assert s.scalar(select(func.count()).select_from(st.NightlyRun)) == 1
        assert s.scalar(select(func.count()).select_from(st.Upload)) == 3
        run = s.scalars(select(st.NightlyRun)).one()
        report = run.report or {}
        assert run.status == "done" and len(report["uploads"]) == 3 and len(report["jobs"]) == 3
        assert report["waiting"] == ["C4/sub/being_written.csv"]
    assert {j.status for j in env.jobs("C4")} == {"done"}
    # later the file is complete (and is no table at all): `henrei nightly` picks it up now
    os.utime(writing, (hour_ago, hour_ago))
    out = subprocess.run(
        [sys.executable, "-m", "worker.cli", "nightly"],
        env={**env.env, "COLUMNS": "250"}, cwd=env.tmp, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    match = re.search(r"ジョブ (\d+)（進み具合: henrei status --job \1）", out.stdout)
    assert match, out.stdout
    pickup = int(match.group(1))
    wait_until(lambda: env.job(pickup).status == "done", what="the pick-up")
    registers = (env.job(pickup).result or {})["jobs"]
    assert len(registers) == 1
    wait_until(lambda: env.job(registers[0]).status in ("done", "failed"), what="the new file's reading")
    bad = env.job(registers[0])
    assert bad.status == "failed" and bad.error  # the clerk's message, stored
    followed = subprocess.run(
        [sys.executable, "-m", "worker.cli", "status", "--job", str(pickup)],
        env={**env.env, "COLUMNS": "250"}, cwd=env.tmp, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert followed.returncode == 0, followed.stderr
    assert re.search(rf"│ {bad.id} +│ 読み込み .+│ 失敗 ", followed.stdout), followed.stdout
    with st.session_scope(env.ctx.engine) as s:
        assert s.scalar(select(func.count()).select_from(st.NightlyRun)) == 1  # still one nightly run
    assert {j.status for j in env.jobs("C4") if j.id != bad.id} == {"done"}
