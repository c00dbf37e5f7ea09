"""The 和暦 eras (DOMAIN §8, CONTRACT §1): the one table every date reader uses.

An era is written as its name (令和), its first character (令), its letter (R) or, in the
7-digit GYYMMDD / 5-digit GYYMM forms of the UKE files, its digit (5). Year 1 of an era
(元年) is ``start_year``; year N is ``start_year + N - 1``.

Each era has a span: from its first day to the day before the next era's first day
(令和 has no last day). A 和暦 date or month outside its era's span does not exist —
S70.1.1, H32.1.1, R1.4.1 (令和 began 2019-05-01), H31.5.1 — and ``Era.to_date`` /
``Era.to_month`` refuse it with ``OutOfEraError``, whose ``reason_ja`` tells the clerk why
(「令和は2019年5月1日からです」).

First days (the day of the 改元, in the Gregorian calendar): 大正 1912-07-30, 昭和
1926-12-25, 平成 1989-01-08, 令和 2019-05-01. 明治: the era was proclaimed on 1868-10-23
(慶応4年9月8日) and applied retroactively from 慶応4年1月1日, so 明治元年1月1日 is a
real 和暦 date. Japan used the lunisolar calendar until 明治5年12月2日 (the next day was
明治6年1月1日 = 1873-01-01): a 明治 date before 明治6年 names a lunisolar month and day,
which henrei does not convert (元年1月1日 was 1868-01-25 in the Gregorian calendar). Dates
are read as written, so 明治's span starts at 元年1月1日, i.e. 1868-01-01 as read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final


class OutOfEraError(ValueError):
    """A 和暦 date or month outside its era's span; ``reason_ja`` says the span."""

    def __init__(self, era: Era, written: str) -> None:
        super().__init__(f"{written} is outside {era.name} ({era.first}–{era.last or ''})")
        self.era = era
        self.reason_ja = era.span_ja


@dataclass(frozen=True)
class Era:
    name: str  # 令和
    letter: str  # R
    digit: str  # 5 (GYYMMDD)
    first: date  # the first day (明治: 元年1月1日 as written, see the module docstring)
    last: date | None  # the last day (the next era's first day - 1); None for the current era

    @property
    def start_year(self) -> int:
        """The 西暦 year of 元年."""
        return self.first.year

    @property
    def abbreviation(self) -> str:
        """The first character of the name (令)."""
        return self.name[0]

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every way the era is written: letter, first character, name, digit."""
        return (self.letter, self.abbreviation, self.name, self.digit)

    @property
    def span_ja(self) -> str:
        """The span for a clerk: 「平成は1989年1月8日から2019年4月30日までです」."""
        head = f"{self.name}は{_ja(self.first)}から"
        return f"{head}{_ja(self.last)}までです" if self.last else f"{head}です"

    def year(self, n: int) -> int:
        """The 西暦 year of the era's year ``n`` (1 = 元年); ValueError below 1."""
        if n < 1:
            raise ValueError(f"{self.name}{n}年")
        return self.start_year + n - 1

    def contains(self, day: date) -> bool:
        return self.first <= day and (self.last is None or day <= self.last)

    def to_date(self, n: int, month: int, day: int) -> date:
        """The date written 「<era>n年month月day日」; ValueError if it does not exist."""
        out = date(self.year(n), month, day)
        if not self.contains(out):
            raise OutOfEraError(self, f"{self.name}{n}年{month}月{day}日")
        return out

    def to_month(self, n: int, month: int) -> date:
        """The first day of 「<era>n年month月」; ValueError unless a day of it is in the era."""
        first = date(self.year(n), month, 1)
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        if following <= self.first or (self.last is not None and first > self.last):
            raise OutOfEraError(self, f"{self.name}{n}年{month}月")
        return first


def _ja(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


#: (name, letter, GYYMMDD digit, first day), oldest first
_FIRST_DAYS: Final = (
    ("明治", "M", "1", date(1868, 1, 1)),
    ("大正", "T", "2", date(1912, 7, 30)),
    ("昭和", "S", "3", date(1926, 12, 25)),
    ("平成", "H", "4", date(1989, 1, 8)),
    ("令和", "R", "5", date(2019, 5, 1)),
)

#: Oldest first; each era ends the day before the next one begins.
ERAS: Final[tuple[Era, ...]] = tuple(
    Era(name, letter, digit, first, nxt[3] - timedelta(days=1) if nxt else None)
    for (name, letter, digit, first), nxt in zip(_FIRST_DAYS, (*_FIRST_DAYS[1:], None), strict=True)
)

#: spelling (upper-case letter, first character, name or digit) -> era
BY_SPELLING: Final[Mapping[str, Era]] = {s: era for era in ERAS for s in era.spellings}

#: regex alternatives: the full names (明治|大正|…), the letters (MTSHR), the first characters (明大昭平令)
NAMES_PATTERN: Final = "|".join(era.name for era in ERAS)
LETTERS: Final = "".join(era.letter for era in ERAS)
ABBREVIATIONS: Final = "".join(era.abbreviation for era in ERAS)
DIGITS: Final = "".join(era.digit for era in ERAS)


def era_of(spelling: str) -> Era:
    """The era written as ``spelling`` (a letter in either case); KeyError if none."""
    key = spelling.upper() if len(spelling) == 1 and spelling.isascii() else spelling
    return BY_SPELLING[key]


def era_at(day: date) -> Era | None:
    """The era ``day`` falls in (None before 明治)."""
    for era in reversed(ERAS):
        if day >= era.first:
            return era
    return None
