"""The 和暦 eras (DOMAIN §8, CONTRACT §1): the one table every date reader uses.

An era is written as its name (令和), its first character (令), its letter (R) or, in the
7-digit GYYMMDD / 5-digit GYYMM forms of the UKE files, its digit (5). Year 1 of an era
(元年) is ``start_year``; year N is ``start_year + N - 1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Era:
    name: str  # 令和
    letter: str  # R
    digit: str  # 5 (GYYMMDD)
    start_year: int  # the 西暦 year of 元年

    @property
    def abbreviation(self) -> str:
        """The first character of the name (令)."""
        return self.name[0]

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every way the era is written: letter, first character, name, digit."""
        return (self.letter, self.abbreviation, self.name, self.digit)

    def year(self, n: int) -> int:
        """The 西暦 year of the era's year ``n`` (1 = 元年)."""
        return self.start_year + n - 1


#: Oldest first; the digit is the era's code in GYYMMDD.
ERAS: Final[tuple[Era, ...]] = (
    Era("明治", "M", "1", 1868),
    Era("大正", "T", "2", 1912),
    Era("昭和", "S", "3", 1926),
    Era("平成", "H", "4", 1989),
    Era("令和", "R", "5", 2019),
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
