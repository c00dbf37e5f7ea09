"""Burden ratio by age (DOMAIN §2), exact at every boundary, on whole columns.

"Reaching age N" (N歳に達する日) is the day before the Nth birthday. All functions take
``datetime64`` columns and return columns; nothing loops over rows.

Effective dates:
- 後期高齢者 2割 (一般Ⅱ) exists from 2022-10-01; before, 後期 was 1割 or 3割.
- 70–74 1割 was kept only by people born before 1944-04-02 (特例措置, ended with them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.columns import float_values

KOUKI_2WARI_FROM: Final = pd.Timestamp("2022-10-01")
ELDERLY_1WARI_BORN_BEFORE: Final = pd.Timestamp("1944-04-02")

#: ratio (割) -> bit in an "allowed ratios" mask
BIT: Final[dict[int, int]] = {1: 1, 2: 2, 3: 4}


def _parts(birth: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(months since 1970-01, day of month, NaT mask) of a datetime column, in numpy."""
    d = birth.to_numpy(dtype="datetime64[D]")
    nat = np.isnat(d)
    months = d.astype("datetime64[M]")
    day = (d - months.astype("datetime64[D]")).astype("int64") + 1
    return months.astype("int64"), day, nat


def _series(values: np.ndarray, nat: np.ndarray, index: pd.Index) -> pd.Series:
    out = values.astype("datetime64[ns]")
    out[nat] = np.datetime64("NaT")
    return pd.Series(out, index=index, copy=False)


def anniversary(birth: pd.Series, years: int) -> pd.Series:
    """The Nth birthday; a 2/29 birthday falls on 3/1 in common years (day overflow)."""
    months, day, nat = _parts(birth)
    first = (months + 12 * years).astype("datetime64[M]").astype("datetime64[D]")
    return _series(first + (day - 1), nat, birth.index)


def reaching(birth: pd.Series, years: int) -> pd.Series:
    """The day one legally reaches age N: the day before the Nth birthday."""
    return anniversary(birth, years) - pd.Timedelta(days=1)


def preschool_end(birth: pd.Series) -> pd.Series:
    """Last day of 未就学 (2割): the first 3/31 on or after the day the child reaches 6."""
    r6 = reaching(birth, 6).to_numpy(dtype="datetime64[D]")
    nat = np.isnat(r6)
    m = r6.astype("datetime64[M]").astype("int64")  # months since 1970-01
    year = m // 12 + (m % 12 >= 3)  # April or later: next year's 3/31
    end = (year * 12 + 3).astype("datetime64[M]").astype("datetime64[D]") - 1  # 4/1 - 1 day
    return _series(end, nat, birth.index)


def elderly_start(birth: pd.Series) -> pd.Series:
    """First day of 高齢受給者 (70–74): the 1st of the month after reaching 70.

    Born on the 1st: one reaches 70 on the last day of the previous month, so this is
    the 1st of the birthday month itself.
    """
    r70 = reaching(birth, 70).to_numpy(dtype="datetime64[D]")
    nat = np.isnat(r70)
    nxt = (r70.astype("datetime64[M]") + 1).astype("datetime64[D]")
    return _series(nxt, nat, birth.index)


def kouki_start(birth: pd.Series) -> pd.Series:
    """First day of 後期高齢者医療 by age: the 75th birthday itself."""
    return anniversary(birth, 75)


@dataclass(frozen=True)
class Boundaries:
    """The age boundaries of one birth-date column, computed once."""

    birth: pd.Series
    preschool_end: pd.Series
    elderly_start: pd.Series
    kouki_start: pd.Series
    age65: pd.Series

    @classmethod
    def of(cls, birth: pd.Series) -> Boundaries:
        # computed once per distinct birth date (a month's receipts share a few ten thousand:
        # numpy's month <-> day conversions are the slow part), then spread to the rows
        days = birth.to_numpy(dtype="datetime64[D]")
        codes, distinct = pd.factorize(days.view("int64"))
        months, day, _ = _parts(pd.Series(distinct.astype("int64").view("datetime64[D]")))
        nat = np.isnat(days)

        def nth(years: int) -> np.ndarray:  # the Nth birthday, in days
            return (months + 12 * years).astype("datetime64[M]").astype("datetime64[D]") + (day - 1)

        r6 = (nth(6) - 1).astype("datetime64[M]").astype("int64")
        pre = ((r6 // 12 + (r6 % 12 >= 3)) * 12 + 3).astype("datetime64[M]").astype("datetime64[D]") - 1
        e70 = ((nth(70) - 1).astype("datetime64[M]") + 1).astype("datetime64[D]")
        ix = birth.index

        def spread(values: np.ndarray) -> pd.Series:
            return _series(values[codes], nat, ix)

        return cls(birth, spread(pre), spread(e70), spread(nth(75)), spread(nth(65)))


_NAT: Final = np.iinfo(np.int64).min
_DAY_NS: Final = 86_400_000_000_000
#: up to this many days between the first and the last birth date (≈ 270 years), the
#: boundaries are computed for every day of the range and looked up by day number
_RANGE_DAYS: Final = 100_000


def _ns(values: pd.Series | np.ndarray) -> np.ndarray:
    """A datetime column as int64 nanoseconds (NaT: the smallest int64)."""
    arr = values.to_numpy(dtype="datetime64[ns]") if isinstance(values, pd.Series) else values
    return np.asarray(arr, dtype="datetime64[ns]").view("int64")


@dataclass(frozen=True)
class RowBounds:
    """``Boundaries`` of a birth-date column as int64 nanoseconds, computed once per distinct
    birth date (``codes`` index them) and taken per row only where compared, one at a time
    (four whole-column boundary arrays would be ~32 MB a million rows) — what ``AgeBands.on``
    compares with. A row's NaT birth reads some other row's boundaries: ``nat`` marks them."""

    birth: np.ndarray  # ns, NaT as the smallest int64
    nat: np.ndarray
    codes: np.ndarray
    distinct_preschool_end: np.ndarray  # ns per distinct birth date
    distinct_elderly_start: np.ndarray
    distinct_kouki_start: np.ndarray
    distinct_age65: np.ndarray

    @classmethod
    def of(cls, birth: pd.Series) -> RowBounds:
        ns = _ns(birth)
        nat = ns == _NAT
        day_numbers = ns // _DAY_NS
        day_numbers[nat] = 0
        first = int(day_numbers.min()) if len(ns) else 0
        if len(ns) and int(day_numbers.max()) - first < _RANGE_DAYS:  # every day of the range: no hashing
            day_numbers -= first
            codes = day_numbers
            distinct = np.arange(first, first + int(codes.max()) + 1)
        else:
            codes, distinct = pd.factorize(day_numbers)
        days = distinct.astype("datetime64[D]")
        months = days.astype("datetime64[M]")
        day = (days - months.astype("datetime64[D]")).astype("int64")  # day of month - 1

        def nth(years: int) -> np.ndarray:  # the Nth birthday, in days
            return (months + 12 * years).astype("datetime64[D]") + day

        r6 = (nth(6) - 1).astype("datetime64[M]").astype("int64")
        pre = ((r6 // 12 + (r6 % 12 >= 3)) * 12 + 3).astype("datetime64[M]").astype("datetime64[D]") - 1
        e70 = ((nth(70) - 1).astype("datetime64[M]") + 1).astype("datetime64[D]")

        def in_ns(values: np.ndarray) -> np.ndarray:
            return values.astype("int64") * _DAY_NS

        return cls(ns, nat, codes, in_ns(pre), in_ns(e70), in_ns(nth(75)), in_ns(nth(65)))

    def row_values(self, distinct_values: np.ndarray) -> np.ndarray:
        """A boundary per row (garbage where ``nat``)."""
        return distinct_values[self.codes]

    def column(self, distinct_values: np.ndarray, index: pd.Index) -> pd.Series:
        """A boundary as a ``datetime64[ns]`` column (NaT where the birth is unknown)."""
        out = self.row_values(distinct_values)
        out[self.nat] = _NAT
        return pd.Series(out.view("datetime64[ns]"), index=index, copy=False)


@dataclass(frozen=True)
class AgeBands:
    """Where each row stands on one date: the age-only ratio mask and the 65–74 band.

    Computed once per date column; ``allowed`` then applies an insurer column cheaply.
    """

    base: np.ndarray  # allowed mask ignoring the insurer (0 where birth/date unknown), int8
    kouki_ratios: np.ndarray  # the 後期 mask on that date (2割 only from 2022-10-01)
    band_65_74: np.ndarray  # may be a disabled 後期 member (False where birth/date unknown)
    known: np.ndarray

    @classmethod
    def on(cls, b: Boundaries | RowBounds, on: pd.Series | np.ndarray) -> AgeBands:
        if isinstance(b, RowBounds):
            birth = b.birth

            def bound(name: str) -> np.ndarray:
                return b.row_values(getattr(b, "distinct_" + name))
        else:
            birth = _ns(b.birth)

            def bound(name: str) -> np.ndarray:
                return _ns(getattr(b, name))

        d = _ns(on)
        # NaT is the smallest int64: the comparisons below are wrong there, but every row
        # with a NaT birth or date is cut by ``known``; one boundary taken at a time
        kouki_ratios = np.where(d >= KOUKI_2WARI_FROM.value, np.int8(7), np.int8(5))  # 1・2・3割, 1・3割
        known = (birth != _NAT) & (d != _NAT)
        before_75 = d < bound("kouki_start")
        elderly = np.where(birth < ELDERLY_1WARI_BORN_BEFORE.value, np.int8(7), np.int8(6))  # 1・2・3割, 2・3割
        base = np.where(before_75, elderly, kouki_ratios)
        del elderly
        base = np.where(d < bound("elderly_start"), np.int8(BIT[3]), base)
        base = np.where(d <= bound("preschool_end"), np.int8(BIT[2]), base)
        base[~known] = 0
        band = (d >= bound("age65")) & before_75 & known
        return cls(base, kouki_ratios, band, known)

    def allowed(self, kouki_insurer: pd.Series | np.ndarray) -> pd.Series:
        """Bit mask (1割=1, 2割=2, 3割=4) of possible ratios for rows with that insurer kind."""
        return pd.Series(
            self.allowed_array(kouki_insurer), index=getattr(kouki_insurer, "index", None), dtype="int64", copy=False
        )

    def allowed_array(self, kouki_insurer: pd.Series | np.ndarray) -> np.ndarray:
        """``allowed`` as an int8 array."""
        if isinstance(kouki_insurer, pd.Series):
            kouki = kouki_insurer.fillna(False).to_numpy(dtype=bool)
        else:
            kouki = np.asarray(kouki_insurer, dtype=bool)
        # ``base`` is 0 and ``band_65_74`` False where the birth or the date is unknown
        return np.where(kouki & self.band_65_74, self.kouki_ratios, self.base)


def allowed_ratios(b: Boundaries, on: pd.Series, kouki_insurer: pd.Series) -> pd.Series:
    """Bit mask (1割=1, 2割=2, 3割=4) of the burden ratios possible on date ``on``.

    ``kouki_insurer`` marks rows whose insurer is 後期高齢者医療 (39…): 65–74 with a
    recognised disability may be members and then pay as 後期. 0 where unknown.
    """
    return AgeBands.on(b, on).allowed(kouki_insurer)


def ratio_allowed(ratio: pd.Series, mask: pd.Series) -> pd.Series:
    """True where ``ratio`` (in 割) is one of the ratios in ``mask``; NA ratios are True."""
    values = float_values(ratio)
    return pd.Series(ratio_allowed_array(values, mask.to_numpy()), index=ratio.index, copy=False)


def ratio_allowed_array(ratio: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``ratio_allowed`` on arrays (float ratios, NaN for NA; int masks)."""
    # n割 for n <= ratio < n + 1 (as int64 would read it: 2.5 is 2), on 1-byte arrays
    m = mask.astype(np.int8)
    out = np.isnan(ratio) | (m == 0)
    for n, bit in BIT.items():
        out |= (ratio >= n) & (ratio < n + 1) & ((m & np.int8(bit)) != 0)
    return out


def describe_mask(mask: pd.Series) -> pd.Series:
    """Japanese text of an allowed-ratio mask: 7 -> '1割・2割・3割'."""
    names = {m: "・".join(f"{k}割" for k, b in BIT.items() if m & b) for m in range(8)}
    return mask.map(names)


def age_on(birth: pd.Series, on: pd.Series) -> pd.Series:
    """Legal age in whole years on ``on``: one is N from the day of reaching N."""
    nxt = on + pd.Timedelta(days=1)
    before = (nxt.dt.month < birth.dt.month) | ((nxt.dt.month == birth.dt.month) & (nxt.dt.day < birth.dt.day))
    return (nxt.dt.year - birth.dt.year - before.astype("Int64")).astype("Int64")
