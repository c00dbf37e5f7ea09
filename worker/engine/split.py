"""Splitting a hospital-sized month into parts that several workers reconcile at once.

A month is split by patient: every row of a patient (receipts, online results, card
records) goes to part ``crc32(patient_id) % n``, so the links and the per-patient rules
see exactly what they see in one process. A return goes to the part of the claim it
matches (matched once, on every receipt, by ``worker.engine.link.link_returns``); a return no
claim matches goes to part 0 (it matches none in any part either).

On disk (``data_dir/parts/job-<parent id>/``, written to a temporary folder and renamed
into place at once)::

    meta.json               the uploads and what the parent read (``RunInfo``: files, receipts, period)
    input_findings.parquet  the findings of unreadable values, computed once by the parent
    part-<k>/<kind>.parquet the typed tables of part k (returns with ``_split_pos``)
    part-<k>/findings.parquet, reclaims.parquet, result.json, linked.parquet   written by part k

The parts' findings concatenated with the input findings (``concat_findings``) are the
single-process findings, row for row and in the same order.
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rules import concat_findings
from worker.engine.finding_context import LINKED_COLUMNS, ORIGIN, TABLE_COLUMNS, finding_context
from worker.engine.link import link_returns
from worker.engine.months import receipt_months
from worker.engine.reconcile import EngineResult
from worker.engine.results import ReturnsSummary
from worker.files import atomic_dir, atomic_file
from worker.reading import TABLE_KINDS

#: column of a part's returns: the return's position in the whole month (orders the reclaims)
POS: Final = "_split_pos"


def part_of(patient_ids: pd.Series, n: int) -> np.ndarray:
    """The part of each patient ID: crc32 of its UTF-8 text modulo ``n`` (missing = "")."""
    ids = patient_ids.astype("object").where(patient_ids.notna(), "")
    cache = {p: zlib.crc32(str(p).encode("utf-8")) % n for p in dict.fromkeys(ids)}
    return np.fromiter((cache[p] for p in ids), dtype="int64", count=len(ids))


def partition(tables: dict[str, pd.DataFrame], n: int) -> list[dict[str, pd.DataFrame]]:
    """The tables of each of ``n`` parts; rows keep their index labels (their order)."""
    receipts = tables["receipts"]
    where: dict[str, np.ndarray] = {}
    for kind in TABLE_KINDS:
        if kind != "returns":
            where[kind] = part_of(tables[kind]["patient_id"], n)
    returns = tables["returns"]
    claim, _method = link_returns(returns, receipts)
    claim_part = pd.Series(where["receipts"], index=receipts.index)
    matched = claim.to_numpy() >= 0
    ret_part = np.zeros(len(returns), dtype="int64")
    if matched.any():
        ret_part[matched] = claim_part.reindex(claim.to_numpy()[matched]).to_numpy()
    where["returns"] = ret_part
    return [{kind: tables[kind].loc[where[kind] == k] for kind in TABLE_KINDS} for k in range(n)]


# ------------------------------------------------------------------ files


def job_dir(data_dir: Path, job_id: int) -> Path:
    return data_dir / "parts" / f"job-{job_id}"


def part_dir(data_dir: Path, job_id: int, k: int) -> Path:
    return job_dir(data_dir, job_id) / f"part-{k}"


def write_frame(df: pd.DataFrame, path: Path) -> None:
    """One table as Parquet, atomically (a temporary file renamed into place)."""
    with atomic_file(path) as tmp:
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp)


def read_frame(path: Path) -> pd.DataFrame:
    """A table ``write_frame`` wrote, with its dtypes (text read back into an object column
    stays an object column of str and None)."""
    table = pq.read_table(path)
    df = table.to_pandas()
    meta = table.schema.pandas_metadata or {}
    for col in meta.get("columns", []):
        name = col.get("name")
        if col.get("numpy_type") == "object" and name in df and df[name].dtype != object:
            values = df[name].astype(object)
            df[name] = values.where(values.notna(), None)
    return df


def write_json(data: dict[str, Any], path: Path) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, default=str))


def write_parts(
    root: Path, parts: list[dict[str, pd.DataFrame]], input_findings: pd.DataFrame, meta: dict[str, Any]
) -> None:
    """Write the split month under ``root`` at once: built aside, then renamed into place."""
    # built in .job-<id>.<random>.tmp (the sweeper's pattern); a split of an earlier attempt
    # of this job is replaced
    with atomic_dir(root) as tmp:
        write_json({**meta, "part_count": len(parts)}, tmp / "meta.json")
        write_frame(input_findings, tmp / "input_findings.parquet")
        for k, tables in enumerate(parts):
            d = tmp / f"part-{k}"
            d.mkdir()
            for kind, df in tables.items():
                out = df.reset_index(drop=True)
                if kind == "returns":
                    out[POS] = df.index.to_numpy(dtype="int64")
                write_frame(out, d / f"{kind}.parquet")


def load_part(d: Path) -> tuple[dict[str, pd.DataFrame], np.ndarray]:
    """A part's typed tables and the month positions of its returns."""
    tables: dict[str, pd.DataFrame] = {kind: read_frame(d / f"{kind}.parquet") for kind in TABLE_KINDS}
    pos = tables["returns"].pop(POS).to_numpy(dtype="int64")
    return tables, pos


def write_part_result(d: Path, result: EngineResult, pos: np.ndarray) -> None:
    """Part k's findings, reclaims (with the returns' month positions), returns counts and
    what its linked receipts say at its findings' origins (for the inquiry sheets and the
    settlement list)."""
    write_frame(result.findings, d / "findings.parquet")
    if result.context is not None:
        linked = [c for c in LINKED_COLUMNS if c in result.context.columns]
        if linked:  # the origins this part linked (the input findings of other parts' rows have none)
            ctx = result.context.loc[:, [*ORIGIN, *linked]]
            write_frame(ctx[ctx[linked].notna().any(axis=1)].reset_index(drop=True), d / "linked.parquet")
    if result.reclaims is not None:
        write_frame(result.reclaims.assign(**{POS: pos}).reset_index(drop=True), d / "reclaims.parquet")
    r = result.returns
    summary = None if r is None else dataclasses.asdict(r)
    write_json({"returns": summary}, d / "result.json")


def receipt_months_of_parts(root: Path, n: int) -> list[str]:
    """The claim months of the split month's receipts (every part's), sorted."""
    months: set[str] = set()
    for k in range(n):
        column = pq.read_table(root / f"part-{k}" / "receipts.parquet", columns=["claim_month"]).to_pandas()
        months.update(receipt_months(column))
    return sorted(months)


def combine_parts(root: Path, n: int, with_returns: bool) -> EngineResult:
    """The month's result from its parts: the single-process findings, reclaims, counts
    and findings' context."""
    findings = concat_findings(
        [read_frame(root / "input_findings.parquet")]
        + [read_frame(root / f"part-{k}" / "findings.parquet") for k in range(n)]
    )
    context = _with_parts_linked(finding_context(findings, _context_tables(root, n)), root, n)
    if not with_returns:
        return EngineResult(findings, {}, context=context)
    pieces = [read_frame(root / f"part-{k}" / "reclaims.parquet") for k in range(n)]
    nonempty = [p for p in pieces if len(p)] or pieces[:1]
    reclaims = (
        pd.concat(nonempty, ignore_index=True).sort_values(POS, kind="stable").drop(columns=POS).reset_index(drop=True)
    )
    counts = [json.loads((root / f"part-{k}" / "result.json").read_text())["returns"] for k in range(n)]
    labels = list(counts[0]["by_class"])
    returns = ReturnsSummary(
        total=sum(c["total"] for c in counts),
        matched=sum(c["matched"] for c in counts),
        unmatched=sum(c["unmatched"] for c in counts),
        predicted=sum(c["predicted"] for c in counts),
        by_class={label: sum(c["by_class"].get(label, 0) for c in counts) for label in labels},
    )
    return EngineResult(findings, {}, reclaims, returns, context)


def _with_parts_linked(context: pd.DataFrame, root: Path, n: int) -> pd.DataFrame:
    """``context`` with the parts' linked columns at their origins (a patient's receipts are
    in one part, so an origin is in at most one; a part written by an older release has none)."""
    pieces = [read_frame(p) for k in range(n) if (p := root / f"part-{k}" / "linked.parquet").exists()]
    pieces = [p for p in pieces if len(p)]
    if not pieces:
        return context
    linked = pd.concat(pieces, ignore_index=True).drop_duplicates(subset=list(ORIGIN))
    linked["row"] = pd.to_numeric(linked["row"], errors="coerce").fillna(0).astype("int64")
    return context.merge(linked, how="left", on=list(ORIGIN), validate="one_to_one")


def _context_tables(root: Path, n: int) -> dict[str, pd.DataFrame]:
    """The columns ``finding_context`` needs of every part's typed tables, by kind."""
    tables: dict[str, pd.DataFrame] = {}
    for kind in TABLE_KINDS:
        pieces = []
        for k in range(n):
            path = root / f"part-{k}" / f"{kind}.parquet"
            names = set(pq.read_schema(path).names)
            pieces.append(pq.read_table(path, columns=[c for c in TABLE_COLUMNS if c in names]).to_pandas())
        tables[kind] = pd.concat(pieces, ignore_index=True)
    return tables
