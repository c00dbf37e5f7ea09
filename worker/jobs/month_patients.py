"""The patients of a clinic-month's list: their ID, name and カナ, and both folded for search.

Names are not finding fields (CONTRACT §2), so the findings table cannot be searched by
them. At the month's run the job keeps, per patient with a finding on the month's list,
the name and カナ of the run's context (``worker.engine.finding_context``: the input row's
own, or the patient's receipt of that month) — only the patients the list names, only
what the clerk's search needs. A re-run of the month replaces its rows, like its findings.

Search keys fold the way ``name_mismatch`` compares names (``rules.domain.names``): width,
hiragana/katakana, small kana, 異体字, spaces and both dash readings — so 「やまだ」 finds
ヤマダ, 「髙橋」 finds 高橋 and 「山田太郎」 finds 「山田　太郎」. A key holds every reading of
the name joined by a line break, which no folded query contains.
"""

from __future__ import annotations

import re
from typing import Any, Final

import numpy as np
import pandas as pd
from sqlalchemy import Index, String, Text, delete, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from rules.domain.names import kana_readings, name_readings
from worker.clinic_ids import require_canonical
from worker.jobs.models import Base, ClinicScoped

__all__ = ["MonthPatient", "kana_key", "month_patients", "name_key", "replace_month_patients"]

_SEP: Final = "\n"
_SURROGATES: Final = re.compile("[\ud800-\udfff]")
_MAX: Final = 200  # characters kept of a name (a pasted cell is not a name)


class MonthPatient(ClinicScoped, Base):
    """A patient of a clinic-month's list (``run_month`` as in ``findings``)."""

    __tablename__ = "month_patients"
    __table_args__ = (Index("ix_month_patients_clinic_id_patient_id", "clinic_id", "patient_id"),)

    clinic_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_month: Mapped[str] = mapped_column(String(7), primary_key=True)
    patient_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kana: Mapped[str] = mapped_column(Text)
    #: ``name_key(name)``: the folded readings of the name
    name_key: Mapped[str] = mapped_column(Text)
    #: ``kana_key(kana)``: the folded readings of the カナ
    kana_key: Mapped[str] = mapped_column(Text)


def _clean(value: object) -> str:
    """Text a database can hold: missing as "", no NUL, lone surrogates (undecodable bytes)
    as U+FFFD, stripped, at most ``_MAX`` characters."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    text = str(value).replace("\x00", "")
    if not text.isascii():
        text = _SURROGATES.sub("\ufffd", text)
    return text.strip()[:_MAX]


def name_key(text: str) -> str:
    """A name (or a query typed as one) folded for search: its readings, one a line."""
    return _SEP.join(dict.fromkeys(r for r in name_readings(text) if r)) if text else ""


def kana_key(text: str) -> str:
    """A カナ (or a query typed as one) folded for search: its readings, one a line."""
    return _SEP.join(dict.fromkeys(r for r in kana_readings(text) if r)) if text else ""


def _texts(col: pd.Series) -> pd.Series:
    """The column as clean text (``_clean``), each distinct value cleaned once; object
    dtype throughout (an Arrow string cannot hold a lone surrogate)."""
    codes, uniques = pd.factorize(col.to_numpy(dtype=object), use_na_sentinel=False)
    cleaned = np.array([_clean(u) for u in uniques], dtype=object)
    return pd.Series(cleaned[codes] if len(codes) else [], index=col.index, dtype=object)


def _present(col: pd.Series) -> pd.Series:
    """The column's texts; empty ones missing (``first`` skips them)."""
    text = _texts(col)
    return text.where(text.ne(""))


def month_patients(findings: pd.DataFrame, context: pd.DataFrame | None) -> pd.DataFrame:
    """Per patient ID of ``findings`` (none for an empty ID): the first name and カナ the
    findings' origins carry in ``context`` (``CONTEXT_COLUMNS``), with their search keys.
    Columns: patient_id, name, kana, name_key, kana_key."""
    cols = ["patient_id", "name", "kana", "name_key", "kana_key"]
    if findings.empty or context is None or context.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    origins = pd.DataFrame(
        {
            "source_file": _texts(findings["source_file"]),
            "sheet": _texts(findings["sheet"]),
            "row": pd.to_numeric(findings["row"], errors="coerce").fillna(0).round().astype("int64"),
            "patient_id": _texts(findings["patient_id"]),
        }
    )
    ctx = pd.DataFrame(
        {
            "source_file": _texts(context["source_file"]),
            "sheet": _texts(context["sheet"]),
            "row": pd.to_numeric(context["row"], errors="coerce").fillna(0).round().astype("int64"),
            "name": _present(context["name"]),
            "kana": _present(context["kana"]),
        }
    ).drop_duplicates(subset=["source_file", "sheet", "row"])
    rows = origins[origins["patient_id"].ne("")].merge(ctx, how="left", on=["source_file", "sheet", "row"])
    per = rows.groupby("patient_id", sort=True).agg(name=("name", "first"), kana=("kana", "first")).reset_index()
    for c, fold in (("name", name_key), ("kana", kana_key)):
        per[c] = per[c].astype(object).where(per[c].notna(), "")
        codes, uniques = pd.factorize(per[c].to_numpy(dtype=object))  # each distinct name folded once
        keys = np.array([fold(u) for u in uniques], dtype=object)
        per[f"{c}_key"] = keys[codes] if len(codes) else []
    return per.loc[:, cols].astype(object)


def replace_month_patients(s: Session, clinic_id: str, run_month: str, patients: pd.DataFrame) -> int:
    """Store the patients of the clinic-month's list (``month_patients``), replacing the
    previous run's; returns how many."""
    require_canonical(clinic_id)
    s.execute(delete(MonthPatient).where(MonthPatient.clinic_id == clinic_id, MonthPatient.run_month == run_month))
    cols = ["patient_id", "name", "kana", "name_key", "kana_key"]
    rows: list[dict[str, Any]] = [
        {"clinic_id": clinic_id, "run_month": run_month, **dict(zip(cols, r, strict=True))}
        for r in patients.loc[:, cols].itertuples(index=False)
    ]
    for i in range(0, len(rows), 5_000):
        s.execute(insert(MonthPatient), rows[i : i + 5_000])
    return len(rows)
