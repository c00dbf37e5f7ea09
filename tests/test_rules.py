"""One parametrised test over the fixture file of every finding category.

``tests/fixtures/rules/<category>.toml`` holds a ``[base]`` receipt/online/card (text
values, as a clinic's export would carry them, under canonical field names) and
``[[case]]`` entries that override it. A case says whether the category must be found
(``expect = "fail"``) or must not (``expect = "pass"``), and optionally the exact
``rule_id``, ``severity``, ``expected`` text or ``copay_diff_yen``. The case runs
through the real normalise -> link -> rules path (no reading from disk).

The files load into the dataclasses below: a misspelt key or a wrong type fails loudly
(``FixtureError``) instead of being ignored. Every finding a case produces must carry a
rule ID its category declares (``rules.registry``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import pytest
from tables import raw_table

from rules.registry import RULE_IDS
from worker.engine.reconcile import reconcile_tables
from worker.reading import TableKind

FIXTURES = Path(__file__).parent / "fixtures" / "rules"

Row = dict[str, str]
#: the tables a case may override, and the list form (several rows) of each
SIDES: tuple[tuple[str, TableKind], ...] = (("receipt", "receipts"), ("online", "online"), ("card", "cards"))


class FixtureError(ValueError):
    """A fixture file that does not have the shape of ``Fixture``."""


@dataclass(frozen=True)
class Base:
    receipt: Row = field(default_factory=dict)
    online: Row = field(default_factory=dict)
    card: Row = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    name: str
    expect: Literal["pass", "fail"]
    #: overrides of the base row; ``false`` drops that table; "<none>" drops a field
    receipt: Row | Literal[False] = field(default_factory=dict)
    online: Row | Literal[False] = field(default_factory=dict)
    card: Row | Literal[False] = field(default_factory=dict)
    #: several rows instead of one, each merged with the base row
    receipts: list[Row] | None = None
    onlines: list[Row] | None = None
    cards: list[Row] | None = None
    rule_id: str | None = None
    severity: Literal["error", "warning", "info"] | None = None
    expected: str | None = None
    actual_contains: str | None = None
    copay_diff_yen: int | None = None
    row: int | None = None

    def rows(self, base: Base, side: str) -> list[Row]:
        """The case's rows of one table: base merged with overrides; ``side = false`` drops it."""
        override: Row | Literal[False] = getattr(self, side)
        if override is False:
            return []
        default: Row = getattr(base, side)
        extra: list[Row] | None = getattr(self, side + "s")
        if extra is not None:
            return [{**default, **r} for r in extra]
        merged = {**default, **override}
        return [{k: v for k, v in merged.items() if v != "<none>"}] if merged else []


@dataclass(frozen=True)
class Fixture:
    category: str
    base: Base
    cases: tuple[Case, ...]


def _build(cls: type[Any], data: Any, where: str) -> Any:
    """``cls(**data)`` with unknown keys and wrong value types reported by name."""
    if not isinstance(data, dict):
        raise FixtureError(f"{where}: expected a table, got {data!r}")
    hints = get_type_hints(cls)
    unknown = sorted(set(data) - set(hints))
    if unknown:
        raise FixtureError(f"{where}: unknown key(s) {unknown}; known: {sorted(hints)}")
    for key, value in data.items():
        if not _fits(value, hints[key]):
            raise FixtureError(f"{where}: {key} = {value!r} is not {hints[key]}")
    try:
        return cls(**data)
    except TypeError as exc:  # a required key is missing
        raise FixtureError(f"{where}: {exc}") from exc


def _fits(value: Any, tp: Any) -> bool:
    """Whether a TOML value fits a type of the dataclasses above (TOML has no null)."""
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, UnionType):
        return any(_fits(value, a) for a in args)
    if origin is Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if origin is dict:
        return isinstance(value, dict) and all(_fits(k, args[0]) and _fits(v, args[1]) for k, v in value.items())
    if origin is list:
        return isinstance(value, list) and all(_fits(v, args[0]) for v in value)
    if tp is type(None):
        return False
    return type(value) is tp  # str, int (a bool is no int here)


def load_fixture(path: Path) -> Fixture:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = sorted(set(data) - {"base", "case"})
    if unknown:
        raise FixtureError(f"{path.name}: unknown top-level key(s) {unknown}; known: base, case")
    base = _build(Base, data.get("base", {}), f"{path.name} [base]")
    cases = tuple(
        _build(Case, c, f"{path.name} case {i + 1} ({c.get('name', '?')})") for i, c in enumerate(data.get("case", []))
    )
    if not cases:
        raise FixtureError(f"{path.name}: no [[case]]")
    names = [c.name for c in cases]
    if len(set(names)) != len(names):
        raise FixtureError(f"{path.name}: two cases share a name")
    return Fixture(path.stem, base, cases)


def fixtures() -> list[Fixture]:
    return [load_fixture(p) for p in sorted(FIXTURES.glob("*.toml"))]


def _cases() -> list[Any]:
    return [pytest.param(f.category, f.base, c, id=f"{f.category}:{c.name}") for f in fixtures() for c in f.cases]


@pytest.mark.parametrize(("category", "base", "case"), _cases())
def test_rule_fixture(category: str, base: Base, case: Case) -> None:
    tables = [raw_table(kind, case.rows(base, side)) for side, kind in SIDES]
    tables = [t for t in tables if len(t.frame)]
    findings = reconcile_tables(tables).findings
    undeclared = {
        (c, r) for c, r in zip(findings["category"], findings["rule_id"], strict=True) if r not in RULE_IDS.get(c, ())
    }
    assert not undeclared, f"rule IDs not declared in their module's RULE_IDS: {sorted(undeclared)}"
    mine = findings[findings["category"] == category]
    if case.expect == "pass":
        assert mine.empty, mine[["rule_id", "message"]].to_string()
        return
    assert not mine.empty, f"no {category} finding; got:\n{findings[['category', 'message']].to_string()}"
    if case.rule_id is not None:
        assert case.rule_id in set(mine["rule_id"]), set(mine["rule_id"])
        mine = mine[mine["rule_id"] == case.rule_id]
    if case.severity is not None:
        assert case.severity in set(mine["severity"]), set(mine["severity"])
    if case.expected is not None:
        assert case.expected in set(mine["expected"]), set(mine["expected"])
    if case.actual_contains is not None:
        assert any(case.actual_contains in a for a in mine["actual"]), list(mine["actual"])
    if case.copay_diff_yen is not None:
        assert int(mine["copay_diff_yen"].iloc[0]) == case.copay_diff_yen
    if case.row is not None:
        assert int(mine["row"].iloc[0]) == case.row


def test_a_misspelt_key_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "ratio_billed_vs_verified.toml"
    path.write_text('[[case]]\nname = "x"\nexpect = "fail"\nrule_idd = "RATIO_BILLED"\n', encoding="utf-8")
    with pytest.raises(FixtureError, match=r"unknown key\(s\) \['rule_idd'\]"):
        load_fixture(path)
    path.write_text('[[case]]\nname = "x"\nexpect = "fails"\n', encoding="utf-8")
    with pytest.raises(FixtureError, match="expect = 'fails'"):
        load_fixture(path)
    path.write_text('[base.receit]\nname = "x"\n[[case]]\nname = "x"\nexpect = "pass"\n', encoding="utf-8")
    with pytest.raises(FixtureError, match=r"\[base\]: unknown key\(s\) \['receit'\]"):
        load_fixture(path)
