"""Who and when a finding is about, for the clerk's list: the patient's name and kana and
the service date, which are not finding fields (CONTRACT §2).

One row per origin of a finding (``source_file``, ``sheet``, ``row``), taken from the
input row itself (a receipt: its name, kana and 診療日; a return: the names on it) and,
for an origin that is not a receipt, completed from the patient's receipt of the
finding's claim month (a return's claim: its 診療日). Keyed by origin, so it survives the
findings being concatenated, sorted or split into parts.

Given the linked receipts (``worker.engine.link.link``), a receipt origin also carries
``LINKED_COLUMNS`` — birth date, 記号・番号・枝番, the billed, online and card ratios, the
limit categories, points and the amount collected — for the insurer inquiry sheets and the
patient settlement list (one join on the origin; NA where unknown or not linked, as in a
split month, whose linked table is not kept).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.insurer import InsuranceKind, insurance_kind

__all__ = ["CONTEXT_COLUMNS", "LINKED_COLUMNS", "ORIGIN", "empty_context", "finding_context"]

UNKNOWN_KIND: Final = str(InsuranceKind.UNKNOWN)
#: The origin of a finding, the key of its context.
ORIGIN: Final[tuple[str, str, str]] = ("source_file", "sheet", "row")
#: The columns of a context frame: the origin, then what the clerk's list shows.
CONTEXT_COLUMNS: Final[tuple[str, ...]] = (*ORIGIN, "name", "kana", "service_date", "insurance_kind")
#: What a receipt origin takes from the linked receipts (``link``: ``on_*`` online, ``cd_*`` card).
LINKED_COLUMNS: Final[tuple[str, ...]] = (
    "birth_date", "sex", "insurer_no", "card_symbol", "card_number", "card_branch",
    "billed_ratio", "points", "copay_collected",
    "on_validity", "on_insurer_no", "on_card_symbol", "on_card_number", "on_card_branch",
    "on_birth_date", "on_sex", "on_online_ratio", "on_limit_category",
    "cd_doc_type", "cd_insurer_no", "cd_card_symbol", "cd_card_number", "cd_card_branch",
    "cd_birth_date", "cd_sex", "cd_card_ratio", "cd_limit_category", "cd_effective_from", "cd_card_valid_until",
)  # fmt: skip
#: What the context needs of each typed table.
TABLE_COLUMNS: Final[tuple[str, ...]] = (
    "_file",
    "_sheet",
    "_row",
    "patient_id",
    "name",
    "name_kana",
    "service_date",
    "claim_month",
    "insurer_no",
)


def empty_context() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": pd.Series(dtype=object),
            "sheet": pd.Series(dtype=object),
            "row": pd.Series(dtype="int64"),
            "name": pd.Series(dtype=object),
            "kana": pd.Series(dtype=object),
            "service_date": pd.Series(dtype="datetime64[ns]"),
            "insurance_kind": pd.Series(dtype=object),
        }
    )


def _text(col: pd.Series) -> pd.Series:
    obj = col.astype(object)
    return obj.where(obj.notna(), "").astype(str).astype(object)


def _month(col: pd.Series) -> pd.Series:
    """YYYY-MM of a datetime column, or the text of a text column ("" where missing)."""
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        return _text(col.dt.strftime("%Y-%m"))
    return _text(col)


def _rows(findings: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(findings["row"], errors="coerce").fillna(0).round().astype("int64")


def finding_context(
    findings: pd.DataFrame, tables: Mapping[str, pd.DataFrame], linked: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per distinct origin of ``findings``: ``CONTEXT_COLUMNS`` (name/kana "" and
    service_date NaT where unknown). ``tables`` are the typed tables by kind (any subset);
    ``linked`` (the linked receipts) adds ``LINKED_COLUMNS``."""
    if findings.empty:
        return empty_context()
    origins = pd.DataFrame(
        {
            "source_file": _text(findings["source_file"]),
            "sheet": _text(findings["sheet"]),
            "row": _rows(findings),
            "patient_id": _text(findings["patient_id"]),
            "claim_month": _text(findings["claim_month"]),
        }
    ).drop_duplicates(subset=list(ORIGIN))
    # only the input rows a finding is about: a million-row month has a few thousand
    rows = pd.Index(origins["row"].unique())
    inputs = _input_rows({kind: _at_rows(t, rows) for kind, t in tables.items()})
    out = origins.merge(inputs, how="left", on=list(ORIGIN), validate="one_to_one")
    out["name"] = out["name"].fillna("").astype(object)
    out["kana"] = out["kana"].fillna("").astype(object)
    out["insurance_kind"] = out["insurance_kind"].fillna(UNKNOWN_KIND).astype(object)
    # not a receipt (a return, an online or card row): the patient's receipt of that month
    other = out["kind"].ne("receipts") & out["patient_id"].ne("")
    if bool(other.any()) and "receipts" in tables:
        wanted = out.loc[other, "patient_id"].unique()
        claims = _claims_by_patient_month(_of_patients(tables["receipts"], wanted))
        key = pd.MultiIndex.from_arrays([out["patient_id"], out["claim_month"]])
        found = claims.reindex(key)
        found.index = out.index
        for c in ("name", "kana"):
            fill = other & out[c].eq("")
            out.loc[fill, c] = found.loc[fill, c].fillna("").to_numpy()
        fill = other & out["insurance_kind"].eq(UNKNOWN_KIND)  # e.g. a return without 保険者番号
        out.loc[fill, "insurance_kind"] = found.loc[fill, "insurance_kind"].fillna(UNKNOWN_KIND).to_numpy()
        fill = other & out["service_date"].isna()
        out.loc[fill, "service_date"] = found.loc[fill, "service_date"].to_numpy()
    out = out.loc[:, list(CONTEXT_COLUMNS)].reset_index(drop=True)
    out["service_date"] = pd.to_datetime(out["service_date"]).astype("datetime64[ns]")
    if linked is not None and {"_file", "_sheet", "_row"}.issubset(linked.columns):
        out = _with_linked(out, _at_rows(linked, rows))
    return out


def _at_rows(table: pd.DataFrame, rows: pd.Index) -> pd.DataFrame:
    """The rows of ``table`` whose ``_row`` is one of ``rows`` (the findings' origins): what
    follows keys on the origin, of which the row is part, so the rows left out change nothing."""
    if table.empty or "_row" not in table.columns:
        return table
    own = pd.to_numeric(table["_row"], errors="coerce").fillna(0).astype("int64")
    return table.loc[own.isin(rows).to_numpy()]


def _of_patients(receipts: pd.DataFrame, patients: np.ndarray) -> pd.DataFrame:
    """The receipts of ``patients`` (IDs as text): grouped by patient, the others change nothing."""
    ids = receipts["patient_id"]
    if not isinstance(ids.dtype, pd.StringDtype):  # text as ``_text`` makes it (a typed table's is)
        ids = _text(ids)
    return receipts.loc[ids.isin(patients).to_numpy()]


def _with_linked(out: pd.DataFrame, linked: pd.DataFrame) -> pd.DataFrame:
    """``out`` with the linked receipts' ``LINKED_COLUMNS`` at each receipt origin."""
    cols = [c for c in LINKED_COLUMNS if c in linked.columns]
    right = linked.loc[:, cols].copy()
    right["source_file"] = _text(linked["_file"])
    right["sheet"] = _text(linked["_sheet"])
    right["row"] = pd.to_numeric(linked["_row"], errors="coerce").fillna(0).astype("int64")
    right = right.drop_duplicates(subset=list(ORIGIN))
    return out.merge(right, how="left", on=list(ORIGIN), validate="one_to_one")


def _input_rows(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every input row's origin, kind, name, kana and service date (one row per origin)."""
    pieces = []
    for kind, t in tables.items():
        if t.empty or not {"_file", "_sheet", "_row"}.issubset(t.columns):
            continue
        piece = pd.DataFrame(
            {
                "source_file": _text(t["_file"]),
                "sheet": _text(t["_sheet"]),
                "row": pd.to_numeric(t["_row"], errors="coerce").fillna(0).astype("int64"),
                "kind": kind,
                "name": _text(t["name"]) if "name" in t else "",
                "kana": _text(t["name_kana"]) if "name_kana" in t else "",
                "service_date": t["service_date"] if kind == "receipts" and "service_date" in t else pd.NaT,
                "insurance_kind": insurance_kind(_text(t["insurer_no"])) if "insurer_no" in t else UNKNOWN_KIND,
            }
        )
        pieces.append(piece)
    if not pieces:
        frame = empty_context()
        frame.insert(3, "kind", pd.Series(dtype=object))
        return frame
    rows = pd.concat(pieces, ignore_index=True)
    rows["service_date"] = pd.to_datetime(rows["service_date"])
    return rows.drop_duplicates(subset=list(ORIGIN))


def _claims_by_patient_month(receipts: pd.DataFrame) -> pd.DataFrame:
    """Per (patient, claim month): the first non-empty name and kana, the earliest 診療日."""
    claims = pd.DataFrame(
        {
            "patient_id": _text(receipts["patient_id"]),
            "claim_month": _month(receipts["claim_month"]),
            "name": _text(receipts["name"]).replace("", pd.NA),
            "kana": _text(receipts["name_kana"]).replace("", pd.NA),
            "service_date": pd.to_datetime(receipts["service_date"]),
            "insurance_kind": insurance_kind(_text(receipts["insurer_no"])).replace(UNKNOWN_KIND, pd.NA)
            if "insurer_no" in receipts
            else pd.NA,
        }
    )
    claims = claims[claims["patient_id"].ne("")]
    return claims.groupby(["patient_id", "claim_month"], sort=False).agg(
        name=("name", "first"),
        kana=("kana", "first"),
        service_date=("service_date", "min"),
        insurance_kind=("insurance_kind", "first"),
    )
