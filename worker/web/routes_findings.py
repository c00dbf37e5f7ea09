"""The findings work list: filters (kept in the session: a patient ID never goes into a
URL), pages, status and note for one finding or a selection, a patient's findings."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template

from rules import CATEGORY_LABELS_JA, SEVERITY_LABELS_JA
from worker.jobs import ClerkStatus
from worker.web.accounts import SessionUser
from worker.web.app import engine_of
from worker.web.audit import audit
from worker.web.findings_data import (
    SORTS,
    FindingFilter,
    find_patients,
    findings_page,
    patient_findings,
    patient_names,
    patient_of,
    set_statuses,
)
from worker.web.month_data import has_list
from worker.web.routes_months import check_month

__all__ = ["HANDLERS"]

#: multi-valued form fields (the selection's checkboxes) come as lists
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _month_of(request: Request[Any, Any, Any], user: SessionUser, month: str) -> str:
    """The month, when the clinic has a list of it (otherwise: not found)."""
    assert user.clinic_id
    if not has_list(engine_of(request), user.clinic_id, check_month(month)):
        raise NotFoundException()
    return month


def _filter(request: Request[Any, Any, Any], month: str) -> FindingFilter:
    saved = (request.session or {}).get("filters") or {}
    return FindingFilter.clean(saved.get(month) or {})


def _list_context(request: Request[Any, Any, Any], user: SessionUser, month: str, page: int) -> dict[str, Any]:
    assert user.clinic_id
    flt = _filter(request, month)
    result = findings_page(engine_of(request), user.clinic_id, month, flt, page)
    return {
        "user": user,
        "mode": request.app.state.runner.mode_ja,
        "month": month,
        "f": flt,
        "p": result,
        "categories": CATEGORY_LABELS_JA,
        "severities": SEVERITY_LABELS_JA,
        "statuses": [str(s) for s in ClerkStatus],
        "sorts": {k: label for k, (label, _) in SORTS.items()},
    }


@get("/months/{month:str}/findings")
async def findings(request: Request[Any, Any, Any], clinic: SessionUser, month: str, page: int = 1) -> Template:
    context = _list_context(request, clinic, _month_of(request, clinic, month), page)
    if request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == "worklist":
        return Template("findings_table.html", context=context)
    return Template("findings.html", context=context)


@post("/months/{month:str}/findings/filter")
async def set_filter(request: Request[Any, Any, Any], clinic: SessionUser, month: str, data: Form) -> Redirect:
    _month_of(request, clinic, month)
    flt = FindingFilter.clean({} if data.get("clear") else data)
    session = dict(request.session or {})
    filters = dict(session.get("filters") or {})
    filters[month] = flt.__dict__
    session["filters"] = filters
    request.set_session(session)
    return Redirect(f"/months/{month}/findings")


@post("/months/{month:str}/findings/status")
async def set_status(
    request: Request[Any, Any, Any], clinic: SessionUser, month: str, data: Form, page: int = 1
) -> Template | Redirect:
    """One finding (``key`` with ``note``) or the selection (``keys``, the note kept)."""
    assert clinic.clinic_id
    _month_of(request, clinic, month)
    status = str(data.get("status") or "")
    if status not in set(ClerkStatus):
        raise NotFoundException()
    single = data.get("key")
    keys = [str(single)] if single else [str(k) for k in _as_list(data.get("keys"))]
    note = str(data.get("note") or "") if single else None
    changed = set_statuses(engine_of(request), clinic.clinic_id, keys, status, note, clinic.display_name)
    if keys and not changed:
        raise NotFoundException()  # none of them is this clinic's finding
    audit(engine_of(request), clinic.login, clinic.clinic_id, "status", month=month, status=status, findings=changed)
    if request.headers.get("hx-request") == "true":
        return Template("findings_table.html", context=_list_context(request, clinic, month, page))
    return Redirect(f"/months/{month}/findings?page={page}")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@get("/findings/{key:str}/patient")
async def patient(request: Request[Any, Any, Any], clinic: SessionUser, key: str) -> Template:
    """The patient of one of the clinic's findings: all their findings across months (the
    URL names a finding key, never the patient)."""
    assert clinic.clinic_id
    patient_id = patient_of(engine_of(request), clinic.clinic_id, key)
    if patient_id is None:
        raise NotFoundException()
    rows = patient_findings(engine_of(request), clinic.clinic_id, patient_id)
    name, kana = patient_names(engine_of(request), clinic.clinic_id, patient_id)
    context = {
        "user": clinic,
        "mode": request.app.state.runner.mode_ja,
        "patient_id": patient_id,
        "name": name,
        "kana": kana,
        "rows": rows,
    }
    return Template("patient.html", context=context)


@get("/patients")
async def patients_page(request: Request[Any, Any, Any], clinic: SessionUser) -> Template:
    """The search form for a patient by ID, name or カナ (the query is POSTed, never in a URL)."""
    context = {"user": clinic, "mode": request.app.state.runner.mode_ja, "query": "", "hits": None}
    return Template("patients.html", context=context)


@post("/patients")
async def patients_search(request: Request[Any, Any, Any], clinic: SessionUser, data: Form) -> Template:
    """The clinic's patients matching the POSTed query; each links to their patient page by
    a finding key. The query is neither kept nor logged (the audit line counts the hits)."""
    assert clinic.clinic_id
    query = str(data.get("q") or "").strip()[:64]
    hits = find_patients(engine_of(request), clinic.clinic_id, query)
    audit(engine_of(request), clinic.login, clinic.clinic_id, "patient_search", hits=len(hits))
    context = {"user": clinic, "mode": request.app.state.runner.mode_ja, "query": query, "hits": hits}
    return Template("patients.html", context=context)


HANDLERS = [findings, set_filter, set_status, patient, patients_page, patients_search]
