"""The findings work list of one clinic: filtered, sorted, paginated in SQL; statuses set
for one finding or a selection; one patient's findings across months.

A finding key given by a page (a form field, a URL) is used only when it is a finding of
the session's clinic: any other key — another clinic's, or made up — is not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Select, String, case, func, select

from rules import CATEGORY_LABELS_JA, SEVERITY_LABELS_JA, SEVERITY_ORDER
from worker.jobs import ClerkStatus, Engine, Finding, FindingStatus, session_scope, set_finding_status

__all__ = [
    "PAGE_SIZE",
    "SORTS",
    "FindingFilter",
    "FindingRow",
    "FindingsPage",
    "findings_page",
    "patient_findings",
    "patient_of",
    "set_statuses",
]

PAGE_SIZE: Final = 50
MAX_NOTE: Final = 500
_STATUS = func.coalesce(FindingStatus.status, str(ClerkStatus.OPEN), type_=String(16))
_SEV = case({k: v for k, v in SEVERITY_ORDER.items()}, value=Finding.severity, else_=len(SEVERITY_ORDER))
#: sort name -> (Japanese label, ORDER BY); each ends with the key, so pages never overlap
SORTS: Final = {
    "severity": ("重要度順", (_SEV, Finding.patient_id, Finding.row, Finding.key)),
    "patient": ("患者ID順", (Finding.patient_id, _SEV, Finding.row, Finding.key)),
    "category": ("区分順", (Finding.category, _SEV, Finding.patient_id, Finding.key)),
    "money": ("差額の大きい順", (func.abs(func.coalesce(Finding.copay_diff_yen, 0)).desc(), _SEV, Finding.key)),
    "status": ("状態順", (_STATUS, _SEV, Finding.patient_id, Finding.key)),
    "source": ("元データ順", (Finding.source_file, Finding.sheet, Finding.row, Finding.key)),
}


@dataclass(frozen=True)
class FindingFilter:
    category: str = ""
    severity: str = ""
    status: str = ""
    #: a patient ID (or its start); kept in the session, never in a URL
    patient: str = ""
    sort: str = "severity"

    @classmethod
    def clean(cls, raw: dict[str, Any]) -> FindingFilter:
        """Only known values; anything else is dropped (no filter)."""
        cat = str(raw.get("category") or "")
        sev = str(raw.get("severity") or "")
        st = str(raw.get("status") or "")
        sort = str(raw.get("sort") or "severity")
        return cls(
            category=cat if cat in CATEGORY_LABELS_JA else "",
            severity=sev if sev in SEVERITY_LABELS_JA else "",
            status=st if st in set(ClerkStatus) else "",
            patient=str(raw.get("patient") or "").strip()[:64],
            sort=sort if sort in SORTS else "severity",
        )


@dataclass(frozen=True)
class FindingRow:
    key: str
    patient_id: str
    claim_month: str
    category: str
    category_ja: str
    severity: str
    severity_ja: str
    message: str
    action: str
    expected: str
    actual: str
    copay_diff_yen: int | None
    source: str
    status: str
    note: str
    changed_by: str
    changed_at: datetime | None


@dataclass(frozen=True)
class FindingsPage:
    rows: list[FindingRow]
    total: int
    page: int
    pages: int


def _select() -> Select[Any]:  # the columns _row reads
    stmt: Select[Any] = select(  # type: ignore[assignment]
        Finding.key,
        Finding.patient_id,
        Finding.claim_month,
        Finding.category,
        Finding.severity,
        Finding.message,
        Finding.action,
        Finding.expected,
        Finding.actual,
        Finding.copay_diff_yen,
        Finding.source_file,
        Finding.sheet,
        Finding.row,
        _STATUS.label("status"),
        FindingStatus.note,
        FindingStatus.changed_by,
        FindingStatus.changed_at,
    ).outerjoin(FindingStatus, FindingStatus.key == Finding.key)
    return stmt


def _row(r: Any) -> FindingRow:
    where = " / ".join(x for x in (r.source_file, r.sheet, f"{r.row}行目" if r.row else "") if x)
    return FindingRow(
        r.key, r.patient_id, r.claim_month, r.category, CATEGORY_LABELS_JA.get(r.category, r.category), r.severity,
        SEVERITY_LABELS_JA.get(r.severity, r.severity), r.message, r.action, r.expected, r.actual, r.copay_diff_yen,
        where, r.status, r.note or "", r.changed_by or "", r.changed_at,
    )  # fmt: skip


def findings_page(engine: Engine, clinic_id: str, month: str, flt: FindingFilter, page: int) -> FindingsPage:
    """One page of the month's list (its run's findings), filtered and sorted in SQL."""
    q = _select().where(Finding.clinic_id == clinic_id, Finding.run_month == month)
    if flt.category:
        q = q.where(Finding.category == flt.category)
    if flt.severity:
        q = q.where(Finding.severity == flt.severity)
    if flt.status:
        q = q.where(_STATUS == flt.status)  # noqa: SIM300
    if flt.patient:
        q = q.where(Finding.patient_id.startswith(flt.patient, autoescape=True))
    with session_scope(engine) as s:
        total = int(s.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
        rows = s.execute(q.order_by(*SORTS[flt.sort][1]).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return FindingsPage([_row(r) for r in rows], total, page, pages)


def set_statuses(engine: Engine, clinic_id: str, keys: list[str], status: str, note: str | None, by: str) -> int:
    """Set the status (and the note, when given) of the clinic's findings among ``keys``;
    returns how many were the clinic's (the others are ignored: not found)."""
    if status not in set(ClerkStatus):
        raise ValueError(status)
    with session_scope(engine) as s:
        mine = list(s.scalars(select(Finding.key).where(Finding.clinic_id == clinic_id, Finding.key.in_(keys[:500]))))
        notes = dict(s.execute(select(FindingStatus.key, FindingStatus.note).where(FindingStatus.key.in_(mine))).all())
        for key in mine:
            set_finding_status(s, key, status, by, (note[:MAX_NOTE] if note is not None else notes.get(key)) or None)
    return len(mine)


def patient_of(engine: Engine, clinic_id: str, key: str) -> str | None:
    """The patient ID of the clinic's finding ``key`` (None: not the clinic's)."""
    with session_scope(engine) as s:
        return s.scalar(select(Finding.patient_id).where(Finding.clinic_id == clinic_id, Finding.key == key))


def patient_findings(engine: Engine, clinic_id: str, patient_id: str) -> list[FindingRow]:
    """All the clinic's findings of one patient, newest month first."""
    q = (
        _select()
        .where(Finding.clinic_id == clinic_id, Finding.patient_id == patient_id)
        .order_by(Finding.run_month.desc(), _SEV, Finding.row, Finding.key)
        .limit(1000)
    )
    with session_scope(engine) as s:
        return [_row(r) for r in s.execute(q)]
