"""The one list of finding categories, read from the rule modules themselves.

Every module ``rules/<category>.py`` that defines ``CATEGORY`` is a category; it declares
its own metadata at module level (sqlfluff-style):

- ``CATEGORY``: the stable name (CONTRACT §2), equal to the module's name;
- ``ORDER``: its place in CONTRACT §2 (the one order of every list and summary);
- ``LABEL_JA``: the short Japanese label of the summaries; ``SUMMARY_JA``: the README text;
- ``RULE_IDS``: every ``rule_id`` the module can emit; ``ALIASES``: old rule ID -> current
  one, for renamed IDs (findings stored under an old ID still count);
- ``STAGE`` (default ``"receipt"``): ``"receipt"`` rules have a ``check(linked)`` that
  ``run`` applies; ``"return"`` rules run on the linked returns (``worker.engine``);
  ``"input"`` findings come from normalisation (the module carries only metadata);
- ``TESTED_BY`` (default ``tests/fixtures/rules/<category>.toml``): where its cases live;
- ``NEEDS``: the kinds of table besides the receipts that its checks compare with
  (``"online"``, ``"cards"``, ``"returns"``; ``()`` for checks of the receipts alone). A
  run that lacks one of them names the categories that need it as checks that could not
  run (``worker.engine.coverage``), so the list of what depends on what is kept here.

Adding a rule is adding such a module and its fixture file; ``python -m rules.registry``
prints the README's category table (a test compares them).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Final, Literal, cast

import pandas as pd

from rules.domain.context import prepare
from rules.findings import concat_findings

Stage = Literal["input", "receipt", "return"]
Check = Callable[[pd.DataFrame], pd.DataFrame]

_PACKAGE: Final = Path(__file__).parent
_NOT_RULES: Final = frozenset({"registry", "findings"})
_STAGES: Final = frozenset({"input", "receipt", "return"})
#: the table kinds a category may need besides the receipts (``NEEDS``)
SOURCES: Final[tuple[str, ...]] = ("online", "cards", "returns")
FIXTURES: Final = "tests/fixtures/rules"


@dataclass(frozen=True)
class Category:
    """One finding category as its module declares it."""

    name: str
    order: int
    label_ja: str
    summary_ja: str
    rule_ids: tuple[str, ...]
    aliases: Mapping[str, str]
    stage: Stage
    #: the table kinds besides the receipts its checks compare with (``SOURCES``)
    needs: tuple[str, ...]
    #: the test file holding its cases, relative to the repository root
    tested_by: str
    module: ModuleType = field(repr=False, compare=False)

    @property
    def fixture(self) -> str:
        """The fixture file a receipt or input category is expected to have."""
        return f"{FIXTURES}/{self.name}.toml"

    @property
    def has_fixture(self) -> bool:
        return self.tested_by == self.fixture

    @property
    def check(self) -> Check | None:
        fn = getattr(self.module, "check", None)
        return cast(Check, fn) if callable(fn) else None


def _declared(module: ModuleType, name: str, kind: type | tuple[type, ...]) -> object:
    if not hasattr(module, name):
        raise TypeError(f"{module.__name__}: a rule module must declare {name}")
    value = getattr(module, name)
    if not isinstance(value, kind):
        raise TypeError(f"{module.__name__}.{name} must be {kind}, not {type(value).__name__}")
    return value


def category_of(module: ModuleType) -> Category:
    """The ``Category`` a rule module declares; TypeError naming what is missing or wrong."""
    name = cast(str, _declared(module, "CATEGORY", str))
    if module.__name__.rsplit(".", 1)[-1] != name:
        raise TypeError(f"{module.__name__}: CATEGORY {name!r} must be the module's name")
    stage = cast(str, getattr(module, "STAGE", "receipt"))
    if stage not in _STAGES:
        raise TypeError(f"{module.__name__}.STAGE must be one of {sorted(_STAGES)}")
    rule_ids = cast(tuple[str, ...], _declared(module, "RULE_IDS", tuple))
    aliases = cast(Mapping[str, str], _declared(module, "ALIASES", Mapping))
    needs = cast(tuple[str, ...], _declared(module, "NEEDS", tuple))
    if not set(needs) <= set(SOURCES):
        raise TypeError(f"{module.__name__}.NEEDS may name only {list(SOURCES)}")
    out = Category(
        name=name,
        order=cast(int, _declared(module, "ORDER", int)),
        label_ja=cast(str, _declared(module, "LABEL_JA", str)),
        summary_ja=cast(str, _declared(module, "SUMMARY_JA", str)),
        rule_ids=rule_ids,
        aliases=dict(aliases),
        stage=cast(Stage, stage),
        needs=needs,
        tested_by=cast(str, getattr(module, "TESTED_BY", f"{FIXTURES}/{name}.toml")),
        module=module,
    )
    if stage == "receipt" and out.check is None:
        raise TypeError(f"{module.__name__}: a receipt rule needs check(linked) -> findings")
    return out


def discover(package: str = "rules", path: Path = _PACKAGE) -> tuple[Category, ...]:
    """Every rule module of ``package`` (modules defining ``CATEGORY``), by ``ORDER``."""
    found = []
    for info in pkgutil.iter_modules([str(path)]):
        if info.ispkg or info.name.startswith("_") or info.name in _NOT_RULES:
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        if hasattr(module, "CATEGORY"):
            found.append(category_of(module))
    found.sort(key=lambda c: c.order)
    orders = [c.order for c in found]
    if len(set(orders)) != len(orders):
        raise TypeError(f"two rule modules share an ORDER: {orders}")
    return tuple(found)


#: every category, in CONTRACT §2 order
CATEGORY_LIST: Final[tuple[Category, ...]] = discover()
BY_NAME: Final[Mapping[str, Category]] = {c.name: c for c in CATEGORY_LIST}

#: every category name, in the order of CONTRACT §2; associations count by these names
CATEGORIES: Final[tuple[str, ...]] = tuple(BY_NAME)
#: Japanese labels for the categories (what a clerk reads in the summary)
CATEGORY_LABELS_JA: Final[Mapping[str, str]] = {c.name: c.label_ja for c in CATEGORY_LIST}
#: category -> every rule_id it can emit
RULE_IDS: Final[Mapping[str, tuple[str, ...]]] = {c.name: c.rule_ids for c in CATEGORY_LIST}
#: old rule_id -> current rule_id, over all categories
RULE_ID_ALIASES: Final[Mapping[str, str]] = {old: new for c in CATEGORY_LIST for old, new in c.aliases.items()}
#: table kind -> the categories whose checks need it (``NEEDS``), in CONTRACT §2 order
NEEDED_BY: Final[Mapping[str, tuple[str, ...]]] = {
    kind: tuple(c.name for c in CATEGORY_LIST if kind in c.needs) for kind in SOURCES
}
#: the receipt rules ``run`` applies, in CONTRACT §2 order
RECEIPT_RULES: Final[tuple[ModuleType, ...]] = tuple(c.module for c in CATEGORY_LIST if c.stage == "receipt")


def canonical_rule_id(rule_id: str, aliases: Mapping[str, str] = RULE_ID_ALIASES) -> str:
    """The current name of ``rule_id`` (itself unless it was renamed)."""
    return aliases.get(rule_id, rule_id)


def run(linked: pd.DataFrame) -> pd.DataFrame:
    """All findings of the receipt rules on a linked table (see ``worker.engine.link``)."""
    df = prepare(linked.copy(deep=False))
    return concat_findings([rule.check(df) for rule in RECEIPT_RULES])


def readme_table(categories: tuple[Category, ...] = CATEGORY_LIST) -> str:
    """The README's category table (区分 | 内容), one row per category in CONTRACT order."""
    rows = ["| 区分 | 内容 |", "|---|---|"]
    rows += [f"| {c.name} | {c.summary_ja} |" for c in categories]
    return "\n".join(rows) + "\n"


def main() -> None:
    print(readme_table(), end="")


if __name__ == "__main__":
    main()
