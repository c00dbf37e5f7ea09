"""The upload store: each uploaded file kept once per clinic, by content."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from worker.clinic_ids import canonical_clinic_id
from worker.files import publish
from worker.jobs.models import Upload, UploadSource, UploadStatus, utcnow
from worker.terminal import safe_name

__all__ = ["store_upload"]

_SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,10}$")


def _copy_hashing(src: Path, tmp_dir: Path) -> tuple[Path, str, int]:
    """Copy ``src`` to a temporary file in ``tmp_dir``; return it, its sha256 and size (``publish`` fsyncs it)."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=tmp_dir)
    tmp = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
            while chunk := inp.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, digest.hexdigest(), size


def store_upload(
    s: Session,
    data_dir: Path,
    clinic_id: str,
    src: Path,
    *,
    source: str = "upload",
    original_name: str | None = None,
) -> tuple[Upload, bool]:
    """Keep a copy of ``src`` under ``data_dir/uploads/<clinic>/<sha[:2]>/<sha><suffix>``.

    Returns ``(upload, created)``: the same content for the same clinic twice is one row
    (``created`` False), also when two processes store it at once. The file is copied once
    (hashing while copying, so the stored bytes are the hashed bytes) and moved into place
    atomically; a missing stored file of an existing row is put back. ``clinic_id`` is
    stored in its canonical form (``worker.clinic_ids``: also a safe folder name).
    """
    clinic_id = canonical_clinic_id(clinic_id)  # ClinicIdError (a ValueError) names what is allowed
    if source not in set(UploadSource):
        raise ValueError(f"source must be one of {', '.join(UploadSource)}, not {source!r}")
    data_dir = Path(data_dir)
    src = Path(src)
    name = safe_name(original_name or src.name)  # any bytes: undecodable ones kept visible as \\xNN
    suffix = Path(name).suffix.lower()
    suffix = suffix if _SAFE_SUFFIX.match(suffix) else ""

    tmp, sha, size = _copy_hashing(src, data_dir / "uploads" / ".tmp")
    try:
        existing = s.scalars(select(Upload).where(Upload.clinic_id == clinic_id, Upload.sha256 == sha)).one_or_none()
        rel = existing.stored_path if existing else f"uploads/{clinic_id}/{sha[:2]}/{sha}{suffix}"
        target = data_dir / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            publish(tmp, target, mode=0o600)
        if existing is not None:
            return existing, False
        upload = Upload(
            clinic_id=clinic_id,
            sha256=sha,
            original_name=name,
            stored_path=rel,
            size=size,
            source=UploadSource(source),
            status=UploadStatus.ACCEPTED,
            received_at=utcnow(),
        )
        try:
            with s.begin_nested():
                s.add(upload)
        except IntegrityError:  # another process stored the same content first
            winner = s.scalars(select(Upload).where(Upload.clinic_id == clinic_id, Upload.sha256 == sha)).one()
            return winner, False
        return upload, True
    finally:
        tmp.unlink(missing_ok=True)
