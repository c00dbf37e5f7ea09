"""The findings work list of one clinic: filtered, sorted, paginated in SQL; statuses set
for one finding or a selection; one patient's findings across months.

A finding key given by a page (a form field, a URL) is used only when it is a finding of
the session's clinic: any other key — another clinic's, or made up — is not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, String, and_, case, func, or_, select

from rules import CATEGORY_LABELS_JA, SEVERITY_LABELS_JA, SEVERITY_ORDER
from worker.jobs import ClerkStatus, Engine, Finding, FindingStatus, MonthPatient, session_scope, set_finding_status
from worker.jobs.month_patients import kana_key, name_key

__all__ = [
    "PAGE_SIZE",
    "SORTS",
    "FindingFilter",
    "FindingRow",
    "FindingsPage",
    "PatientHit",
    "find_patients",
    "findings_page",
    "patient_findings",
    "patient_match",
    "patient_names",
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
    #: a patient ID (or its start), or part of a name or カナ; kept in the session, never in a URL
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
    #: the patient's name and カナ as the month's run read them ("" when not kept)
    name: str = ""
    kana: str = ""


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
        MonthPatient.name,
        MonthPatient.kana,
    ).outerjoin(FindingStatus, FindingStatus.key == Finding.key)
    return stmt.outerjoin(MonthPatient, _SAME_PATIENT)


#: the month patients' row of a finding (its clinic, its list's month, its patient)
_SAME_PATIENT: Final = and_(
    MonthPatient.clinic_id == Finding.clinic_id,
    MonthPatient.run_month == Finding.run_month,
    MonthPatient.patient_id == Finding.patient_id,
)


def _keys(query: str) -> tuple[list[str], list[str]]:
    """The query folded as a name and as a カナ (``worker.jobs.month_patients``), each reading."""
    return [k for k in name_key(query).split("\n") if k], [k for k in kana_key(query).split("\n") if k]


def patient_match(query: str) -> ColumnElement[bool]:
    """A row whose patient ID starts with ``query``, or whose name or カナ contains it
    after folding (needs ``MonthPatient`` joined)."""
    names, kanas = _keys(query)
    return or_(
        Finding.patient_id.startswith(query, autoescape=True),
        *(MonthPatient.name_key.contains(k, autoescape=True) for k in names),
        *(MonthPatient.kana_key.contains(k, autoescape=True) for k in kanas),
    )


def _row(r: Any) -> FindingRow:
    where = " / ".join(x for x in (r.source_file, r.sheet, f"{r.row}行目" if r.row else "") if x)
    return FindingRow(
        r.key, r.patient_id, r.claim_month, r.category, CATEGORY_LABELS_JA.get(r.category, r.category), r.severity,
        SEVERITY_LABELS_JA.get(r.severity, r.severity), r.message, r.action, r.expected, r.actual, r.copay_diff_yen,
        where, r.status, r.note or "", r.changed_by or "", r.changed_at, r.name or "", r.kana or "",
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
        q = q.where(patient_match(flt.patient))
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


@dataclass(frozen=True)
class PatientHit:
    """A patient of the clinic found by ID, name or カナ: the latest month's name and カナ,
    how many findings in how many months, and one finding's key (the patient page's URL)."""

    patient_id: str
    name: str
    kana: str
    findings: int
    months: int
    latest_month: str
    key: str


MAX_HITS: Final = 50


def find_patients(engine: Engine, clinic_id: str, query: str) -> list[PatientHit]:
    """The clinic's patients (with a finding) whose ID starts with ``query`` or whose name
    or カナ contains it after folding — at most ``MAX_HITS``, by patient ID."""
    query = query.strip()[:64]
    if not query:
        return []
    names, kanas = _keys(query)
    by_name = or_(
        MonthPatient.patient_id.startswith(query, autoescape=True),
        *(MonthPatient.name_key.contains(k, autoescape=True) for k in names),
        *(MonthPatient.kana_key.contains(k, autoescape=True) for k in kanas),
    )
    with session_scope(engine) as s:
        ids = set(
            s.scalars(
                select(MonthPatient.patient_id).where(MonthPatient.clinic_id == clinic_id, by_name).limit(MAX_HITS * 4)
            )
        )
        ids |= set(  # months stored before names were kept: the ID alone
            s.scalars(
                select(Finding.patient_id)
                .where(Finding.clinic_id == clinic_id, Finding.patient_id.startswith(query, autoescape=True))
                .distinct()
                .limit(MAX_HITS)
            )
        )
        ids.discard("")
        wanted = sorted(ids)[:MAX_HITS]
        counts = s.execute(
            select(
                Finding.patient_id,
                func.count(),
                func.count(func.distinct(Finding.run_month)),
                func.max(Finding.run_month),
                func.min(Finding.key),
            )
            .where(Finding.clinic_id == clinic_id, Finding.patient_id.in_(wanted))
            .group_by(Finding.patient_id)
        ).all()
        names_of = {
            pid: (name, kana)
            for pid, name, kana, _ in s.execute(
                select(MonthPatient.patient_id, MonthPatient.name, MonthPatient.kana, MonthPatient.run_month)
                .where(MonthPatient.clinic_id == clinic_id, MonthPatient.patient_id.in_(wanted))
                .order_by(MonthPatient.run_month)  # the latest month's names last: they win
            ).all()
        }
    return [
        PatientHit(pid, *names_of.get(pid, ("", "")), int(n), int(months), str(latest), str(key))
        for pid, n, months, latest, key in sorted(counts)
    ]


def patient_names(engine: Engine, clinic_id: str, patient_id: str) -> tuple[str, str]:
    """The name and カナ of the clinic's patient as their latest month's run read them."""
    with session_scope(engine) as s:
        row = s.execute(
            select(MonthPatient.name, MonthPatient.kana)
            .where(MonthPatient.clinic_id == clinic_id, MonthPatient.patient_id == patient_id)
            .order_by(MonthPatient.run_month.desc())
            .limit(1)
        ).first()
    return (row[0], row[1]) if row else ("", "")
