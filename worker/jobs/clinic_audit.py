"""Existing clinic IDs that are not canonical, or that name one clinic in several ways.

Run by migration ``0005`` (and usable on its own): before clinic IDs were canonical
(``worker.clinic_ids``), ``Cガ`` composed and decomposed, ``c001`` and ``C001`` or ``C001``
with a zero-width space were stored as separate clinics. They are never merged in silence:
the migration stops with :func:`clinic_id_report`'s lines, and the operator decides which
clinic each one is (rename with SQL in every table of :data:`CLINIC_TABLES`, then run the
migration again).
"""

from __future__ import annotations

import unicodedata
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from worker.clinic_ids import ClinicIdError, canonical_clinic_id

__all__ = ["CLINIC_TABLES", "ClinicIdConflict", "clinic_id_report", "near_duplicates"]

#: the tables holding a clinic_id column
CLINIC_TABLES: Final = ("uploads", "jobs", "findings", "correction_lists", "drop_files")


class ClinicIdConflict(RuntimeError):
    """Stored clinic IDs that need a person's decision (the message lists them)."""


def _loose(clinic_id: str) -> str:
    """A clinic ID folded further than the canonical form, to group look-alikes even when
    one of them cannot be made canonical: NFKC, case-folded, without any character that is
    not a letter or a digit."""
    folded = unicodedata.normalize("NFKC", clinic_id).casefold()
    return "".join(c for c in folded if unicodedata.category(c)[0] in "LN")


def near_duplicates(ids: set[str]) -> tuple[list[list[str]], list[str]]:
    """Groups of stored IDs that look like one clinic (two or more), and the IDs that are not
    canonical (each alone)."""
    groups: dict[str, list[str]] = {}
    for i in sorted(ids):
        groups.setdefault(_loose(i), []).append(i)
    dup = [g for g in groups.values() if len(g) > 1]
    not_canonical = []
    for i in sorted(ids):
        try:
            ok = canonical_clinic_id(i) == i
        except ClinicIdError:
            ok = False
        if not ok:
            not_canonical.append(i)
    return dup, not_canonical


def clinic_id_report(conn: Connection) -> list[str]:
    """The lines of the report (English, for the operator; IDs shown with ``repr``), empty when
    every stored clinic ID is canonical and no two look alike."""
    insp = sa.inspect(conn)
    ids: set[str] = set()
    for table in CLINIC_TABLES:
        if insp.has_table(table):
            rows = conn.execute(sa.text(f"SELECT DISTINCT clinic_id FROM {table} WHERE clinic_id IS NOT NULL"))
            ids.update(r[0] for r in rows)
    dup, not_canonical = near_duplicates(ids)
    lines = [f"clinic IDs that look like one clinic: {', '.join(map(repr, g))}" for g in dup]
    for i in not_canonical:
        try:
            lines.append(f"clinic ID {i!r} is not canonical; its canonical form is {canonical_clinic_id(i)!r}")
        except ClinicIdError:
            lines.append(f"clinic ID {i!r} cannot be made canonical (characters outside the declared set)")
    return lines
