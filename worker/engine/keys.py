"""A finding's stable identity (its key) and the clerk's statuses, shared by the findings
store (``worker.jobs.findings_store``) and the correction list (``worker.reports``).

A finding's key is the sha1 of its clinic, month, origin (file, sheet, row) and rule, so
a re-run gives the same finding the same key; the database keeps the clerk's status under
it, and the workbook carries it in a hidden column for reading a marked list back.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Final

import pandas as pd

__all__ = ["CLERK_STATUSES", "DEFAULT_CLERK_STATUS", "finding_key", "finding_keys", "keys_of", "unique_keys"]

#: The clerk's statuses of a finding, in the order a drop-down lists them (the database's
#: ``ClerkStatus`` holds the same values).
CLERK_STATUSES: Final[tuple[str, ...]] = ("未対応", "対応中", "対応済", "対象外")
#: The status of a finding nobody touched.
DEFAULT_CLERK_STATUS: Final = CLERK_STATUSES[0]

_SEP: Final = "\x1f"
_KEY_TEXT: Final = ("claim_month", "source_file", "sheet", "rule_id")


def finding_key(clinic_id: str, claim_month: str, source_file: str, sheet: str, row: int, rule_id: str) -> str:
    """The stable identity of a finding: sha1 hex of its clinic, month, origin and rule.

    Text is NFC-normalised, so a file name spelled in decomposed form (macOS) keys the same —
    except the clinic ID, taken as it is: it is canonical (``worker.clinic_ids``), and two
    different stored IDs are two clinics, whose keys must never meet.
    """
    one = pd.DataFrame(
        {"claim_month": [claim_month], "source_file": [source_file], "sheet": [sheet], "row": [int(row)],
         "rule_id": [rule_id]}
    )  # fmt: skip
    return keys_of(clinic_id, one)[0]


def _nfc(col: pd.Series) -> list[str]:
    values = [str(v) for v in col.tolist()]
    nfc = {u: unicodedata.normalize("NFC", u) for u in set(values)}
    return [nfc[v] for v in values]


def keys_of(clinic_id: str, df: pd.DataFrame) -> list[str]:
    """:func:`finding_key` of every row of ``df`` (text columns, ``row`` as int64), at once."""
    parts = [
        [clinic_id] * len(df),
        _nfc(df["claim_month"]),
        _nfc(df["source_file"]),
        _nfc(df["sheet"]),
        [str(r) for r in df["row"].tolist()],
        _nfc(df["rule_id"]),
    ]
    # surrogatepass: a lone surrogate in a file name keys instead of failing (valid text
    # encodes as plain UTF-8)
    return [
        hashlib.sha1(_SEP.join(p).encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()
        for p in zip(*parts, strict=True)
    ]


def unique_keys(clinic_id: str, df: pd.DataFrame) -> list[str]:
    """The rows' keys; the same rule on the same row again gets a key of its own (the n-th
    repeat, in frame order, derived from the first)."""
    keys = keys_of(clinic_id, df)
    repeat = pd.Series(keys).groupby(keys).cumcount().tolist()
    for i, n in enumerate(repeat):
        if n:
            keys[i] = hashlib.sha1(f"{keys[i]}#{n}".encode(), usedforsecurity=False).hexdigest()
    return keys


def finding_keys(clinic_id: str, claim_month: str, findings: pd.DataFrame) -> list[str]:
    """The keys the findings store gives ``findings`` in ``clinic_id``'s list of
    ``claim_month``: every finding of a month's list is keyed by that month (a return of an
    earlier claim month listed there included); with no ``claim_month`` (a CLI run over
    several months) each finding is keyed by its own month. In frame order."""
    if findings.empty:
        return []
    texts = {c: [_str(v) for v in findings[c].tolist()] for c in _KEY_TEXT}
    texts["claim_month"] = [claim_month or m for m in texts["claim_month"]]
    df = pd.DataFrame({c: pd.Series(v, index=findings.index, dtype=object) for c, v in texts.items()})
    df["row"] = pd.to_numeric(findings["row"], errors="coerce").fillna(0).round().astype("int64").to_numpy()
    return unique_keys(clinic_id, df)


def _str(v: object) -> str:
    """A value as the store keeps it: str, "" when missing."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
        return ""
    return str(v)
