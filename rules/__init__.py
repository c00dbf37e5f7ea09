"""Pure domain rules of henrei: functions over whole tables, no I/O, no Celery.

Each finding category of CONTRACT §2 has its own module here, named after the category,
declaring its own metadata (label, README text, rule IDs, renamed IDs); ``rules.registry``
discovers them and derives the one list of categories. ``rules.domain`` holds what
several rules share (age, insurer numbers, names, codes, eras, 摘要, return reasons).
The application imports this package's public surface (``__all__``) and the public
modules named here, never an underscored one.

The names derived by the registry are loaded on first use (PEP 562), so that importing
``rules`` does not run the discovery twice under ``python -m rules.registry``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rules.findings import (
    FINDING_COLUMNS,
    SEVERITY_LABELS_JA,
    SEVERITY_ORDER,
    concat_findings,
    empty_findings,
    make_findings,
)

if TYPE_CHECKING:
    from rules.registry import CATEGORIES, CATEGORY_LABELS_JA, RULE_ID_ALIASES, RULE_IDS, canonical_rule_id

_FROM_REGISTRY = frozenset({"CATEGORIES", "CATEGORY_LABELS_JA", "RULE_IDS", "RULE_ID_ALIASES", "canonical_rule_id"})


def __getattr__(name: str) -> Any:
    if name in _FROM_REGISTRY:
        return getattr(importlib.import_module("rules.registry"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS_JA",
    "FINDING_COLUMNS",
    "RULE_IDS",
    "RULE_ID_ALIASES",
    "SEVERITY_LABELS_JA",
    "SEVERITY_ORDER",
    "canonical_rule_id",
    "concat_findings",
    "empty_findings",
    "make_findings",
]
