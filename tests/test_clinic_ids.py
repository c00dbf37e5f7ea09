"""Clinic IDs (issue 12, problem 1): one canonical form, so one clinic's findings and the
clerks' statuses never land in another clinic — whatever IDs the clinics are given.

The rule is a pure function (``worker.clinic_ids``); the wiring is checked through the entry
points against a real database (SQLite and PostgreSQL): the upload store, the drop folder,
the CLI, and the storage models, which refuse an ID not in canonical form.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from test_storage import _frame, db_url  # noqa: F401

from worker import jobs as service
from worker.clinic_ids import ClinicIdError, canonical_clinic_id, is_canonical_clinic_id
from worker.config import Settings

NFC, NFD = unicodedata.normalize("NFC", "Cガ"), unicodedata.normalize("NFD", "Cガ")

#: the IDs of the report (issue 12): macOS folder names, look-alikes, invisible characters
VARIANTS = [
    NFC,
    NFD,
    "C001",
    "c001",
    "ｃ００１",
    " C001",
    "C001\n",
    "C\u200b001",  # zero-width space
    "\u202eC001",  # right-to-left override
    "C\t001",
    "C 001",
    "さくら内科",
    "ｻｸﾗ",
    "C002",
]


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        (NFC, NFC),
        (NFD, NFC),
        ("c001", "C001"),
        ("ｃ００１", "C001"),
        (" C001 ", "C001"),
        ("C001\n", "C001"),  # surrounding white space, a line break included, is trimmed
        ("さくら内科", "さくら内科"),
        ("ｻｸﾗ", "サクラ"),
        ("clinic-a_1.x", "CLINIC-A_1.X"),
    ],
)
def test_one_canonical_form(raw: str, canonical: str) -> None:
    assert canonical_clinic_id(raw) == canonical
    assert is_canonical_clinic_id(canonical)


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("C\u200b001", "U+200B"),
        ("\u202eC001", "U+202E"),
        ("C\n001", "U+000A"),
        ("C\t001", "U+0009"),
        ("C 001", "U+0020"),
        ("../x", "「/」"),
        ("C:1", "「:」"),
        (".hidden", "「.」"),
        ("C\x1b]0;x\x07", "U+001B"),
        ("", "空"),
        ("   ", "空"),
        ("C" * 65, "長すぎ"),
    ],
)
def test_a_lookalike_or_unsafe_id_is_refused_naming_what_is_allowed(raw: str, named: str) -> None:
    with pytest.raises(ClinicIdError) as exc:
        canonical_clinic_id(raw)
    message = str(exc.value)
    assert named in message and "文字・数字と「-」「_」「.」だけ" in message
    assert "\x1b" not in message and "\n" not in message  # the message itself is safe to print
    assert isinstance(exc.value, ValueError)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_the_canonical_form_is_stable_and_holds_only_declared_characters(raw: str) -> None:
    try:
        c = canonical_clinic_id(raw)
    except ClinicIdError as exc:
        assert "医療機関ID" in str(exc)
        return
    assert canonical_clinic_id(c) == c
    assert 1 <= len(c) <= 64 and c == c.strip() and c.isprintable()
    assert all(ch in "-_." or unicodedata.category(ch)[0] in "LN" for ch in c)


# ------------------------------------------------------------------ through the entry points


@pytest.fixture
def ctx(db_url: str, tmp_path: Path) -> Iterator[service.Context]:  # noqa: F811
    yield service.Context(Settings(data_dir=tmp_path / "data", database_url=db_url))
    service.dispose_engines(db_url)


def _stored_clinic(ctx: service.Context, raw: str, src: Path) -> str | None:
    """The clinic an upload under ``raw`` is stored for (None: refused)."""
    try:
        upload_id, _ = service.accept_upload(ctx, raw, src)
    except ValueError:
        return None
    with service.session_scope(ctx.engine) as s:
        return s.get_one(service.Upload, upload_id).clinic_id


def test_two_clinics_never_share_a_finding_whatever_their_ids(ctx: service.Context, tmp_path: Path) -> None:
    """Every pair of the reported IDs: stored through the upload entry point, each clinic's
    run of the same findings; a clinic's findings are never moved by another clinic's run."""
    src = tmp_path / "receipts.csv"
    src.write_text("患者ID\n1\n", encoding="utf-8")
    stored = {raw: _stored_clinic(ctx, raw, src) for raw in VARIANTS}
    clinics = sorted({c for c in stored.values() if c is not None})
    assert all(is_canonical_clinic_id(c) for c in clinics)
    assert stored[NFC] == stored[NFD] == NFC  # one clinic, however the folder name was written
    assert stored["c001"] == stored["ｃ００１"] == stored[" C001"] == stored["C001"] == "C001"
    assert stored["C\u200b001"] is None and stored["\u202eC001"] is None and stored["C\t001"] is None
    frame = _frame(20)
    with service.session_scope(ctx.engine) as s:
        for clinic in clinics:
            job = service.Job(kind="reconcile", clinic_id=clinic, claim_month="2026-10", status="running")
            s.add(job)
            s.flush()
            service.replace_findings(s, clinic, "2026-10", job.id, frame)
        for a, b in itertools.combinations(clinics, 2):
            keys_a = set(s.scalars(select(service.Finding.key).where(service.Finding.clinic_id == a)))
            keys_b = set(s.scalars(select(service.Finding.key).where(service.Finding.clinic_id == b)))
            assert len(keys_a) == len(keys_b) == 20 and not keys_a & keys_b, (a, b)


def test_storage_refuses_an_id_not_in_canonical_form(ctx: service.Context) -> None:
    """Code that skips the entry points still cannot store a second spelling of a clinic."""
    for raw in (NFD, "c001", " C001", "C\u200b001"):
        with pytest.raises(ClinicIdError), service.session_scope(ctx.engine) as s:
            s.add(service.Job(kind="reconcile", clinic_id=raw, claim_month="2026-10", status="queued"))
            s.flush()


# ------------------------------------------------------------------ existing databases


def test_the_migration_stops_on_stored_near_duplicates_and_names_them(db_url: str) -> None:  # noqa: F811
    """A database of before (0003) holding ``Cガ`` twice (composed, decomposed), ``c001``
    beside ``C001`` and ``C\\u200b001``: the upgrade refuses, lists them, changes nothing."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    from worker.jobs.clinic_audit import ClinicIdConflict
    from worker.jobs.database import alembic_config, make_engine, upgrade

    e = make_engine(db_url)
    try:
        with e.begin() as c:
            command.upgrade(alembic_config(c), "0003")
            for clinic in (NFC, NFD, "C001", "c001", "C\u200b001", "C002"):
                c.execute(
                    sa.text(
                        "INSERT INTO jobs (kind, clinic_id, claim_month, status, attempts, lost_workers, created_at)"
                        " VALUES ('reconcile', :c, '2026-10', 'done', 0, 0, CURRENT_TIMESTAMP)"
                    ),
                    {"c": clinic},
                )
        with pytest.raises(ClinicIdConflict) as exc:
            upgrade(e)
        message = str(exc.value)
        assert f"{NFC!r}, {NFD!r}" in message or f"{NFD!r}, {NFC!r}" in message
        assert "'C001', 'C\\u200b001', 'c001'" in message and "'C002'" not in message
        with e.connect() as c:
            assert MigrationContext.configure(c).get_current_revision() == "0003"
            assert c.execute(sa.text("SELECT count(*) FROM jobs")).scalar() == 6  # nothing merged
        with e.begin() as c:  # the operator's decision: one spelling each
            c.execute(
                sa.text("UPDATE jobs SET clinic_id = :n WHERE clinic_id IN (:a, :b)"), {"n": NFC, "a": NFD, "b": NFC}
            )
            c.execute(
                sa.text("UPDATE jobs SET clinic_id = 'C001' WHERE clinic_id <> :n AND clinic_id <> 'C002'"), {"n": NFC}
            )
        upgrade(e)
    finally:
        e.dispose()


def test_drop_folders_take_canonical_clinics_any_file_name_and_never_merge_in_silence(
    ctx: service.Context, tmp_path: Path
) -> None:
    """``Cガ`` written decomposed (macOS) is the clinic ``Cガ``; ``C001`` and ``c001`` both
    present are refused and named (their files stay); a CP932 file name is taken and the
    other files beside it too; a folder name with a zero-width space is refused and named."""
    import dataclasses
    import os

    from worker.jobs.drop_folder import scan_drop_folders

    drop = tmp_path / "drop"
    src = tmp_path / "receipts.csv"
    src.write_text("患者ID\n1\n", encoding="utf-8")
    for folder, name in [(NFD, "a.csv"), ("C001", "a.csv"), ("c001", "b.csv"), ("C\u200b9", "a.csv")]:
        (drop / folder).mkdir(parents=True, exist_ok=True)
        (drop / folder / name).write_bytes(src.read_bytes())
    (drop / NFD / "b.csv").write_text("患者ID\n2\n", encoding="utf-8")
    cp932 = os.path.join(os.fsencode(drop / NFD), "受付".encode("cp932") + b".csv")
    with open(cp932, "wb") as f:
        f.write(b"\x8a\xb3\x8e\xd2ID\n3\n")  # 患者ID in CP932
    old = 1_000_000_000
    for root, _dirs, files in os.walk(os.fsencode(drop)):
        for n in files:
            os.utime(os.path.join(root, n), (old, old))
    ctx = service.Context(dataclasses.replace(ctx.settings, drop_dir=drop, drop_settle_s=0))
    report = scan_drop_folders(ctx, lambda _job: None)
    with service.session_scope(ctx.engine) as s:
        uploads = s.scalars(select(service.Upload)).all()
        assert {(u.clinic_id, u.original_name) for u in uploads} == {
            (NFC, "a.csv"),
            (NFC, "b.csv"),
            (NFC, "\\x8e\\xf3\\x95t.csv"),
        }
    problems = "\n".join(report["problems"])
    assert "「C001」、「c001」" in problems and "同じ医療機関ID「C001」" in problems
    assert "C\\u200b9" in problems and "U+200B" in problems
    assert "\u200b" not in problems
    assert len(report["uploads"]) == 3
