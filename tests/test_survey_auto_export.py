"""The automatic survey export after a month's reconcile (``HENREI_SURVEY_AUTO_EXPORT``,
``worker.survey.jobs.auto_export``): the sample month through the real reconcile job, then
the decision — once per finished run, only for a clinic that opted in, only when on. The
Celery wiring (the reconcile task calls it) runs in tests/test_web_celery.py.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from test_patient_search import MONTH, _reconcile
from test_storage import db_url  # noqa: F401

from worker import jobs as service
from worker.config import Settings
from worker.jobs import Job, JobKind, JobStatus, session_scope
from worker.survey.aggregate import import_submissions
from worker.survey.jobs import auto_export, run_survey_export


@pytest.fixture
def ctx(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]  # noqa: F811
    clinics = tmp_path / "clinics.toml"
    clinics.write_text('[c1]\nassociation_id = "13-0042"\nprefecture = "東京都"\n')
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, survey_clinics=str(clinics),
                        survey_auto_export="on")  # fmt: skip
    yield service.Context(settings)
    service.dispose_engines(db_url)


def _month_job(ctx: service.Context, clinic: str) -> int:
    with session_scope(ctx.engine) as s:
        return int(
            s.query(Job.id)
            .filter(Job.kind == JobKind.RECONCILE, Job.clinic_id == clinic, Job.claim_month == MONTH)
            .order_by(Job.id.desc())
            .limit(1)
            .scalar()
        )


def test_a_finished_month_of_an_opted_in_clinic_queues_its_export_once(ctx: service.Context) -> None:
    _reconcile(ctx, "C1")
    _reconcile(ctx, "C2")
    job_c1, job_c2 = _month_job(ctx, "C1"), _month_job(ctx, "C2")
    sent: list[int] = []
    off = dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, survey_auto_export="off"))
    assert auto_export(off, job_c1, sent.append) is None and sent == []
    assert auto_export(ctx, job_c2, sent.append) is None  # C2 has not opted in
    export = auto_export(ctx, job_c1, sent.append)
    assert export is not None and sent == [export]
    assert auto_export(ctx, job_c1, sent.append) is None  # once per finished run
    run_survey_export(ctx, export)
    with session_scope(ctx.engine) as s:
        done = s.get_one(Job, export)
        assert done.status == JobStatus.DONE, done.error
        path = ctx.data_dir / done.result["file"]  # type: ignore[index]
    [sub] = import_submissions([path]).submissions
    assert (sub.clinic, sub.month, sub.receipts) == ("13-0042", MONTH, 327)
    # the month made again (a new list, e.g. 「書類を作り直す」): its own export
    again = service.queue_reconcile(ctx, "C1", MONTH, lambda _j: None)
    assert service.start_job(ctx, again, None)
    service.run_reconcile(ctx, again)
    second = auto_export(ctx, again, sent.append)
    assert second is not None and second != export
    # a job finished as "the same as" another run's list exports nothing of its own
    with session_scope(ctx.engine) as s:
        s.delete(s.get_one(Job, second))  # (not "queued since": the same_as alone decides)
    with session_scope(ctx.engine) as s:
        s.get_one(Job, again).result = {"same_as": job_c1}
    assert auto_export(ctx, again, sent.append) is None
