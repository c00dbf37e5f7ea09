"""Pure domain rules of henrei: functions over whole tables, no I/O, no Celery.

Each finding category of CONTRACT §2 has its own module here, named after the category;
``rules.domain`` holds what several rules share (age, insurer numbers, names, 摘要, return
reasons). The application imports this package's public surface (``__all__``) and the
public modules named here, never an underscored one.
"""

from rules.findings import (
    CATEGORIES,
    CATEGORY_LABELS_JA,
    FINDING_COLUMNS,
    SEVERITY_LABELS_JA,
    SEVERITY_ORDER,
    concat_findings,
    empty_findings,
    make_findings,
)

__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS_JA",
    "FINDING_COLUMNS",
    "SEVERITY_LABELS_JA",
    "SEVERITY_ORDER",
    "concat_findings",
    "empty_findings",
    "make_findings",
]
