"""The findings store: a run's findings per clinic-month, and the clerk's statuses of them.

A finding's key (:func:`finding_key`, in ``worker.engine.keys``: the correction list
carries the same key) is derived from its clinic, the month of the list that holds it
(the run's month), origin (file, sheet, row) and rule, so a re-run replaces its findings
instead of adding to them, and the clerk's status (keyed alike) carries over. A finding
of another claim month in a month's list (a return no claim matched, listed in the first
month whose receipts were read) is keyed by that list: two months' runs never share a
row. A renamed rule ID (an alias kept in the rules'
registry) keeps the statuses recorded under its old ID.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pandas as pd
from sqlalchemy import String, Table, case, delete, func, select
from sqlalchemy.orm import Session

from rules import FINDING_COLUMNS, RULE_ID_ALIASES, SEVERITY_ORDER
from worker.clinic_ids import require_canonical
from worker.engine.keys import finding_key, unique_keys
from worker.jobs.database import advisory_lock
from worker.jobs.models import DEFAULT_FINDING_STATUS, Base, ClerkStatus, Finding, FindingStatus, utcnow

__all__ = ["finding_key", "findings_frame", "replace_findings", "set_finding_status"]

_FINDINGS: Final[Table] = Base.metadata.tables["findings"]
_STATUSES: Final[Table] = Base.metadata.tables["finding_statuses"]
_CHUNK: Final = 5_000


def _texts(col: pd.Series) -> pd.Series:
    """The column as Python str, missing values as ""."""
    obj = col.astype(object)
    return obj.where(obj.notna(), "").astype(str).astype(object)


def _finding_columns(clinic_id: str, claim_month: str, job_id: int, findings: pd.DataFrame) -> dict[str, list[Any]]:
    """The findings table's columns to store (one list per column), with finding_key(...) computed at once."""
    require_canonical(clinic_id)  # the bulk insert passes no model validator
    missing = [c for c in FINDING_COLUMNS if c not in findings.columns]
    if missing:
        raise ValueError(f"findings lacks columns: {', '.join(missing)}")
    if findings.empty:
        return {c.name: [] for c in _FINDINGS.columns}
    df = pd.DataFrame({c: _texts(findings[c]) for c in FINDING_COLUMNS if c not in ("row", "copay_diff_yen")})
    df["claim_month"] = df["claim_month"].where(df["claim_month"] != "", claim_month)
    df["row"] = pd.to_numeric(findings["row"], errors="coerce").fillna(0).round().astype("int64").to_numpy()
    diff = pd.to_numeric(findings["copay_diff_yen"], errors="coerce").round().astype("Int64")

    keys = unique_keys(clinic_id, df.assign(claim_month=claim_month))  # keyed by the list's month
    n = len(df)
    out: dict[str, list[Any]] = {c: df[c].astype(object).tolist() for c in df.columns}
    out.update(
        key=keys,
        clinic_id=[clinic_id] * n,
        run_month=[claim_month] * n,
        job_id=[job_id] * n,
        copay_diff_yen=diff.astype(object).where(diff.notna(), None).tolist(),
        updated_at=[utcnow()] * n,
    )
    return out


def _upsert(s: Session, table: Table, columns: dict[str, list[Any]], index: str) -> None:
    """INSERT ... ON CONFLICT (index) DO UPDATE of every column, for many rows at once.

    ``columns`` gives every column of ``table`` as a list (one value a row). Bypassing the
    ORM and SQLAlchemy's per-row parameter handling keeps 100k rows to seconds: SQLite gets
    a positional executemany, PostgreSQL an ``INSERT ... SELECT FROM unnest(arrays)`` per
    chunk.
    """
    conn = s.connection()
    dialect = conn.dialect
    names = [c.name for c in table.columns]
    if set(columns) != set(names):
        raise ValueError(f"{table.name}: columns {sorted(set(columns) ^ set(names))} missing or unknown")
    values = []
    for c in table.columns:  # the types' own conversions (e.g. UTCDateTime), once per value
        proc = c.type.bind_processor(dialect)
        values.append([proc(v) for v in columns[c.name]] if proc else columns[c.name])
    q = dialect.identifier_preparer.quote
    into = f"INSERT INTO {q(table.name)} ({', '.join(q(n) for n in names)})"
    sets = ", ".join(f"{q(n)} = excluded.{q(n)}" for n in names if n != index)
    conflict = f"ON CONFLICT ({q(index)}) DO UPDATE SET {sets}"
    total = len(values[0])
    if dialect.name == "sqlite":
        sql = f"{into} VALUES ({', '.join('?' * len(names))}) {conflict}"
        for i in range(0, total, _CHUNK):
            conn.exec_driver_sql(sql, list(zip(*(v[i : i + _CHUNK] for v in values), strict=True)))
    elif dialect.name == "postgresql":
        arrays = ", ".join(f"%(p{j})b::{c.type.compile(dialect)}[]" for j, c in enumerate(table.columns))
        sql = f"{into} SELECT * FROM unnest({arrays}) {conflict}"
        for i in range(0, total, _CHUNK):
            conn.exec_driver_sql(sql, {f"p{j}": v[i : i + _CHUNK] for j, v in enumerate(values)})
    else:
        raise NotImplementedError(f"upsert on {dialect.name}")


def replace_findings(
    s: Session,
    clinic_id: str,
    claim_month: str,
    job_id: int,
    findings: pd.DataFrame,
    aliases: Mapping[str, str] = RULE_ID_ALIASES,
) -> int:
    """Store a run's findings for ``clinic_id`` and ``claim_month``; return how many.

    Each row keeps its own ``claim_month`` (the argument when empty). The findings the
    previous run of this clinic and month stored whose key is not in the new set are
    deleted, the rest are updated in place and the new ones inserted — a re-run replaces,
    never duplicates, and the clerk's statuses (keyed alike) carry over. A repeat of the
    same rule on the same row gets a key of its own (derived from the first, by order).
    A finding of a renamed rule (``aliases``: old rule ID -> current) keeps the status the
    clerk gave it under the old ID.
    """
    s.flush()
    columns = _finding_columns(clinic_id, claim_month, job_id, findings)
    advisory_lock(s, "henrei.findings", clinic_id, claim_month)  # one replacement of a clinic's month at a time
    new_keys = set(columns["key"])
    old_keys = set(
        s.scalars(select(Finding.key).where(Finding.clinic_id == clinic_id, Finding.run_month == claim_month))
    )
    stale = sorted(old_keys - new_keys)
    for i in range(0, len(stale), 500):
        s.execute(delete(_FINDINGS).where(_FINDINGS.c.key.in_(stale[i : i + 500])))
    _upsert(s, _FINDINGS, columns, "key")
    _expire(s, Finding)
    _carry_renamed_statuses(s, clinic_id, columns, aliases)
    return len(columns["key"])


def _carry_renamed_statuses(
    s: Session, clinic_id: str, columns: dict[str, list[Any]], aliases: Mapping[str, str]
) -> None:
    """Copy the clerk's statuses recorded under a renamed rule's old ID to the findings'
    current keys (where the current key has none yet), the way sqlfluff keeps old codes."""
    renamed = [old for old, new in aliases.items() if new in set(columns["rule_id"])]
    if not renamed:
        return
    df = pd.DataFrame({c: columns[c] for c in ("source_file", "sheet", "row", "rule_id")})
    df.insert(0, "claim_month", columns["run_month"])  # the keys' month: the list's
    current = columns["key"]
    moves: dict[str, str] = {}  # old key -> current key
    for old in renamed:
        as_old = df.assign(rule_id=df["rule_id"].where(df["rule_id"] != aliases[old], old))
        for before, now, rule in zip(unique_keys(clinic_id, as_old), current, df["rule_id"], strict=True):
            if rule == aliases[old]:
                moves.setdefault(before, now)
    found = {st.key: st for st in s.scalars(select(FindingStatus).where(FindingStatus.key.in_(list(moves))))}
    taken = set(s.scalars(select(FindingStatus.key).where(FindingStatus.key.in_([moves[k] for k in found]))))
    for old_key, st in found.items():
        if moves[old_key] not in taken:
            s.add(FindingStatus(key=moves[old_key], status=st.status, changed_by=st.changed_by,
                                changed_at=st.changed_at, note=st.note))  # fmt: skip
    s.flush()


def _expire(s: Session, cls: type[Base]) -> None:
    """Forget loaded ``cls`` objects, which a bulk statement may have changed."""
    for obj in list(s.identity_map.values()):
        if isinstance(obj, cls):
            s.expire(obj)


def set_finding_status(s: Session, key: str, status: str, changed_by: str, note: str | None = None) -> None:
    """Record the clerk's status of a finding (one of :class:`ClerkStatus`); the last change wins."""
    if status not in set(ClerkStatus):
        raise ValueError(f"status must be one of {', '.join(ClerkStatus)}, not {status!r}")
    if not changed_by:
        raise ValueError("changed_by is required")
    s.flush()
    row: dict[str, list[Any]] = {
        "key": [key],
        "status": [status],
        "changed_by": [changed_by],
        "changed_at": [utcnow()],
        "note": [note],
    }
    _upsert(s, _STATUSES, row, "key")
    _expire(s, FindingStatus)


def findings_frame(s: Session, clinic_id: str, claim_month: str, *, listed: bool = False) -> pd.DataFrame:
    """The clinic's findings of ``claim_month``: FINDING_COLUMNS, ``key`` and the clerk's ``status``;
    with ``listed``, those of the month's correction list instead (its run's: that month's,
    those without a month, returns of earlier months no claim matched).

    Ordered errors first (then warnings, info), then source_file, sheet, row.
    """
    month = Finding.run_month if listed else Finding.claim_month
    sev = case({k: v for k, v in SEVERITY_ORDER.items()}, value=Finding.severity, else_=len(SEVERITY_ORDER))
    cols = [getattr(Finding, c) for c in FINDING_COLUMNS]
    stmt = (
        select(
            *cols,
            Finding.key,
            func.coalesce(FindingStatus.status, DEFAULT_FINDING_STATUS, type_=String(16)).label("status"),
        )
        .outerjoin(FindingStatus, FindingStatus.key == Finding.key)
        .where(Finding.clinic_id == clinic_id, month == claim_month)
        .order_by(sev, Finding.source_file, Finding.sheet, Finding.row, Finding.category, Finding.rule_id, Finding.key)
    )
    result = s.execute(stmt)
    names = [*FINDING_COLUMNS, "key", "status"]
    data = [tuple(r) for r in result]
    frame = pd.DataFrame.from_records(data, columns=names)
    for c in names:
        if c == "row":
            frame[c] = frame[c].astype("int64")
        elif c == "copay_diff_yen":
            frame[c] = frame[c].astype("Int64")
        else:
            frame[c] = frame[c].astype("object")
    return frame
