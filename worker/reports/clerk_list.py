"""The findings as the clerk works through them in 「指摘一覧」: with the patient's name,
kana and service date (the engine's finding context), the finding's stable key, one line
per problem where two rules describe the same error, and a patient's findings together
under the most severe first.

This is presentation only: findings.json and the database keep every finding as it is.

Same error, one line (``MERGES``): on the same input row (file, sheet, row),

- ``RATIO_BILLED`` (請求した負担割合の誤り) with ``RATIO_AGE_BILLED`` / ``RATIO_LIMIT_BILLED``
  (the billed ratio impossible for the age / for the 限度額区分) naming the same correct
  ratio: one wrong ratio on the claim, one fix (bill that ratio and settle the difference);
- ``INSURER_BILLED_OTHER`` (the claim bills another insurer than online and card show)
  with ``insurer_number_invalid`` (the billed insurer number cannot exist): one wrong
  insurer number on the claim, fixed by billing the number online and card show;
- ``FUSHO_MISSING`` (不詳 摘要 lacks items) listing 患者への連絡を行った日 with
  ``FUSHO_NO_CONTACT_DATE`` (no contact date): the same missing entry;
- ``ELIG_INVALID`` / ``ELIG_INVALID_NEW`` (online says 資格無効) with
  ``FUSHO_ONLINE_INVALID`` (filed as 不詳 although online says 資格無効): one claim to bill
  with the qualification online shows instead of as 不詳.

The merged line shows the most severe severity, every category, both messages, the first
rule's action and values, the money once (the first rule's; another's only where it has
none) and every finding's key. Rules that only look alike stay apart: the billed and the
online ratio both impossible for the age are two things to fix (the claim; the insurer's
record), as are the three sources contradicting a 限度額区分.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import pandas as pd

from rules import CATEGORIES, FINDING_COLUMNS, SEVERITY_ORDER
from worker.engine.finding_context import ORIGIN, empty_context
from worker.engine.keys import finding_keys
from worker.reports.excel_safe import text_series

__all__ = ["KEY_SEP", "MERGES", "Merge", "clerk_list"]

#: Separates the keys (and rule IDs, categories) of the findings a merged line stands for.
KEY_SEP: Final = ","


@dataclass(frozen=True)
class Merge:
    """Findings of ``secondary`` rules folded into a finding of a ``primary`` rule on the
    same input row, when ``when`` holds: "always", "same_expected" (both name the same
    correct value) or "expected_within" (the primary's ``expected`` lists the secondary's)."""

    primary: frozenset[str]
    secondary: frozenset[str]
    when: str


MERGES: Final[tuple[Merge, ...]] = (
    Merge(frozenset({"RATIO_BILLED"}), frozenset({"RATIO_AGE_BILLED", "RATIO_LIMIT_BILLED"}), "same_expected"),
    Merge(
        frozenset({"INSURER_BILLED_OTHER"}),
        frozenset({"INSURER_FORM", "INSURER_HOUBETSU", "INSURER_CHECK_DIGIT"}),
        "always",
    ),
    Merge(frozenset({"FUSHO_MISSING"}), frozenset({"FUSHO_NO_CONTACT_DATE"}), "expected_within"),
    Merge(frozenset({"ELIG_INVALID", "ELIG_INVALID_NEW"}), frozenset({"FUSHO_ONLINE_INVALID"}), "always"),
)

_CATEGORY_ORDER: Final = {c: i for i, c in enumerate(CATEGORIES)}
_DIGITS: Final = re.compile(r"\d+")


def clerk_list(
    findings: pd.DataFrame, context: pd.DataFrame | None, clinic: str = "", claim_month: str = ""
) -> pd.DataFrame:
    """The lines of 「指摘一覧」, in order: ``FINDING_COLUMNS`` (``severity`` the most severe,
    ``copay_diff_yen`` once), ``name``, ``kana``, ``service_date`` and, for the findings a
    line stands for, ``categories``, ``rule_ids``, ``keys`` (``KEY_SEP``-joined) and
    ``messages`` (one per line). Keys are those the findings store gives ``clinic``'s run of
    ``claim_month`` (``worker.engine.keys.finding_keys``)."""
    df = findings.loc[:, list(FINDING_COLUMNS)].reset_index(drop=True)
    for c in FINDING_COLUMNS:
        if c not in ("row", "copay_diff_yen"):
            df[c] = text_series(df[c].astype(object))  # workbook text: str, "" when missing
    df["row"] = pd.to_numeric(df["row"], errors="coerce").fillna(0).round().astype("int64")
    df["keys"] = pd.Series(finding_keys(clinic, claim_month, findings), dtype=object)
    df = _with_context(df, empty_context() if context is None else context)
    df = _merge_same_errors(df)
    return _sorted(df).reset_index(drop=True)


def _with_context(df: pd.DataFrame, context: pd.DataFrame) -> pd.DataFrame:
    ctx = context.loc[:, ["source_file", "sheet", "row", "name", "kana", "service_date"]].copy()
    ctx["source_file"] = text_series(ctx["source_file"].astype(object))
    ctx["sheet"] = text_series(ctx["sheet"].astype(object))
    ctx["row"] = pd.to_numeric(ctx["row"], errors="coerce").fillna(0).astype("int64")
    ctx = ctx.drop_duplicates(subset=list(ORIGIN))
    out = df.merge(ctx, how="left", on=list(ORIGIN), validate="many_to_one")
    out.index = df.index
    out["name"] = text_series(out["name"].astype(object))
    out["kana"] = text_series(out["kana"].astype(object))
    out["service_date"] = pd.to_datetime(out["service_date"])
    return out


def _pairs(df: pd.DataFrame, merge: Merge, taken: pd.Series) -> pd.DataFrame:
    """(primary position, secondary position) of the findings ``merge`` folds together."""
    cols = [*ORIGIN, "expected"]
    prim = df.loc[df["rule_id"].isin(merge.primary) & ~taken, cols].reset_index(names="p")
    sec = df.loc[df["rule_id"].isin(merge.secondary) & ~taken, cols].reset_index(names="s")
    m = prim.merge(sec, on=list(ORIGIN), suffixes=("_p", "_s"))
    if merge.when == "same_expected":
        m = m[m["expected_p"] == m["expected_s"]]
    elif merge.when == "expected_within":
        ok = [s != "" and s in p for p, s in zip(m["expected_p"], m["expected_s"], strict=True)]
        m = m[pd.Series(ok, index=m.index, dtype=bool)]
    # a secondary folds into one primary (the first), a primary takes every match
    return m.drop_duplicates(subset="s")[["p", "s"]]


def _merge_same_errors(df: pd.DataFrame) -> pd.DataFrame:
    df["categories"] = df["category"]
    df["rule_ids"] = df["rule_id"]
    df["messages"] = df["message"]
    taken = pd.Series(False, index=df.index)
    pairs = []
    for merge in MERGES:
        found = _pairs(df, merge, taken)
        taken.loc[found["s"]] = True
        taken.loc[found["p"]] = True  # a primary is not folded again into another rule's line
        pairs.append(found)
    into = pd.concat(pairs, ignore_index=True) if pairs else pd.DataFrame({"p": [], "s": []})
    if into.empty:
        return df
    sec = df.loc[into["s"].to_numpy()].assign(_into=into["p"].to_numpy())
    groups = sec.groupby("_into", sort=False)
    p = pd.Index(groups.size().index)
    # the most severe of the findings the line stands for
    worst = groups["severity"].agg(lambda v: min(v, key=_severity_rank))
    df.loc[p, "severity"] = [
        min(own, other, key=_severity_rank) for own, other in zip(df.loc[p, "severity"], worst.reindex(p), strict=True)
    ]
    for col in ("categories", "rule_ids", "keys"):
        extra = groups[col].agg(KEY_SEP.join)
        df.loc[p, col] = (df.loc[p, col] + KEY_SEP + extra.reindex(p).to_numpy()).to_numpy()
    bullet = groups["message"].agg(lambda v: "\n".join("・" + m for m in v if m))
    df.loc[p, "messages"] = ("・" + df.loc[p, "message"] + "\n" + bullet.reindex(p).to_numpy()).to_numpy()
    money = groups["copay_diff_yen"].first()  # the first non-missing of the folded ones
    no_money = df.loc[p, "copay_diff_yen"].isna().to_numpy()
    df.loc[p[no_money], "copay_diff_yen"] = money.reindex(p[no_money]).to_numpy()
    return df.loc[~df.index.isin(into["s"])]


def _severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.get(severity, len(SEVERITY_ORDER))


def _natural(ids: pd.Series) -> pd.Series:
    """Patient IDs sortable as people read them: digit runs compare as numbers (9 < 10)."""
    mapping = {u: _DIGITS.sub(lambda m: m.group(0).zfill(20), u) for u in ids.unique()}
    return ids.map(mapping)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    """A patient's lines together, patients with the most severe finding first; within a
    patient most severe first, then month, category, origin. Lines without a patient ID
    stand alone after the patients of their severity."""
    rank = df["severity"].map(SEVERITY_ORDER).fillna(len(SEVERITY_ORDER)).astype("int64")
    has_patient = df["patient_id"].ne("")
    worst = rank.groupby(df["patient_id"]).transform("min").where(has_patient, rank)
    keys = pd.DataFrame(
        {
            "worst": worst,
            "alone": ~has_patient,
            "patient": _natural(df["patient_id"]),
            "rank": rank,
            "month": df["claim_month"],
            "category": df["category"].map(_CATEGORY_ORDER).fillna(len(_CATEGORY_ORDER)),
            "file": df["source_file"],
            "sheet": df["sheet"],
            "row": df["row"],
        },
        index=df.index,
    )
    order = keys.sort_values(list(keys.columns), kind="stable").index
    return df.loc[order]
