"""One parametrised test over the fixture file of every finding category.

``tests/fixtures/rules/<category>.toml`` holds a ``[base]`` receipt/online/card (text
values, as a clinic's export would carry them, under canonical field names) and
``[[case]]`` entries that override it. A case says whether the category must be found
(``expect = "fail"``) or must not (``expect = "pass"``), and optionally the exact
``rule_id``, ``severity``, ``expected`` text or ``copay_diff_yen``. The case runs
through the real normalise -> link -> rules path (no reading from disk).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from worker.engine.reconcile import reconcile_tables
from worker.reading import RawTable, TableKind

FIXTURES = Path(__file__).parent / "fixtures" / "rules"


def _cases() -> list[Any]:
    out = []
    for path in sorted(FIXTURES.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for case in data["case"]:
            out.append(pytest.param(path.stem, data.get("base", {}), case, id=f"{path.stem}:{case['name']}"))
    return out


def _table(kind: TableKind, rows: list[dict[str, str]]) -> RawTable:
    frame = pd.DataFrame(rows, dtype="object")
    frame.insert(0, "_row", range(2, 2 + len(rows)))
    return RawTable(kind=kind, file=f"{kind}.xlsx", sheet="Sheet1", frame=frame, headers={c: c for c in frame.columns})


def _rows(base: dict[str, Any], case: dict[str, Any], key: str) -> list[dict[str, str]]:
    """The case's rows of one table: base merged with overrides; ``key = false`` drops it."""
    override = case.get(key, {})
    if override is False:
        return []
    extra = case.get(key + "s")  # a list of several rows, each merged with the base
    if extra is not None:
        return [{**base.get(key, {}), **r} for r in extra]
    merged = {**base.get(key, {}), **override}
    return [{k: v for k, v in merged.items() if v != "<none>"}] if merged else []


@pytest.mark.parametrize(("category", "base", "case"), _cases())
def test_rule_fixture(category: str, base: dict[str, Any], case: dict[str, Any]) -> None:
    tables = [
        _table("receipts", _rows(base, case, "receipt")),
        _table("online", _rows(base, case, "online")),
        _table("cards", _rows(base, case, "card")),
    ]
    tables = [t for t in tables if len(t.frame)]
    findings = reconcile_tables(tables).findings
    mine = findings[findings["category"] == category]
    if case["expect"] == "pass":
        assert mine.empty, mine[["rule_id", "message"]].to_string()
        return
    assert not mine.empty, f"no {category} finding; got:\n{findings[['category', 'message']].to_string()}"
    if "rule_id" in case:
        assert case["rule_id"] in set(mine["rule_id"]), set(mine["rule_id"])
        mine = mine[mine["rule_id"] == case["rule_id"]]
    for field in ("severity", "expected"):
        if field in case:
            assert case[field] in set(mine[field]), set(mine[field])
    if "actual_contains" in case:
        assert any(case["actual_contains"] in a for a in mine["actual"]), list(mine["actual"])
    if "copay_diff_yen" in case:
        assert int(mine["copay_diff_yen"].iloc[0]) == case["copay_diff_yen"]
    if "row" in case:
        assert int(mine["row"].iloc[0]) == case["row"]
