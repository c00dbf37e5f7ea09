"""The 和暦 edge cases of ``tests/fixtures/values/era_dates.toml``, loaded strictly."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PATH = Path(__file__).parent / "fixtures" / "values" / "era_dates.toml"


@dataclass(frozen=True)
class EraCase:
    text: str
    #: the date it reads as (a month: its first day); None when it is unreadable
    value: date | None
    #: the clerk's reason when unreadable ("" for a reason other than the era's span)
    problem: str | None


def load(kind: str) -> list[EraCase]:
    """The ``[[date]]`` or ``[[month]]`` cases; a misspelt key or a case with both or
    neither of ``value`` and ``problem`` fails loudly."""
    data = tomllib.loads(PATH.read_text(encoding="utf-8"))
    if set(data) - {"date", "month"}:
        raise ValueError(f"{PATH.name}: unknown top-level key(s) {sorted(set(data) - {'date', 'month'})}")
    out = []
    for raw in data[kind]:
        if set(raw) - {"text", "value", "problem"} or ("value" in raw) == ("problem" in raw):
            raise ValueError(f"{PATH.name}: bad [[{kind}]] {raw!r}")
        value = date.fromisoformat(raw["value"]) if "value" in raw else None
        out.append(EraCase(raw["text"], value, raw.get("problem")))
    texts = [c.text for c in out]
    if len(set(texts)) != len(texts):
        raise ValueError(f"{PATH.name}: a [[{kind}]] text appears twice")
    return out
