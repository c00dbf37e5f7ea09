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
