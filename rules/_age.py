"""Burden ratio by age (DOMAIN §2), exact at every boundary, on whole columns.

"Reaching age N" (N歳に達する日) is the day before the Nth birthday. All functions take
``datetime64`` columns and return columns; nothing loops over rows.

Effective dates:
- 後期高齢者 2割 (一般Ⅱ) exists from 2022-10-01; before, 後期 was 1割 or 3割.
- 70–74 1割 was kept only by people born before 1944-04-02 (特例措置, ended with them).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

KOUKI_2WARI_FROM: Final = pd.Timestamp("2022-10-01")
ELDERLY_1WARI_BORN_BEFORE: Final = pd.Timestamp("1944-04-02")

#: ratio (割) -> bit in an "allowed ratios" mask
BIT: Final[dict[int, int]] = {1: 1, 2: 2, 3: 4}


def anniversary(birth: pd.Series, years: int) -> pd.Series:
    """The Nth birthday; a 2/29 birthday falls on 3/1 in common years."""
    y = birth.dt.year + years
    m = birth.dt.month
    d = birth.dt.day
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    feb29 = (m == 2) & (d == 29) & ~leap
    m = m.where(~feb29, 3)
    d = d.where(~feb29, 1)
    parts = pd.DataFrame({"year": y, "month": m, "day": d})
    out = pd.Series(pd.NaT, index=birth.index, dtype="datetime64[ns]")
    ok = birth.notna()
    if ok.any():
        out.loc[ok] = pd.to_datetime(parts.loc[ok].astype("int64"))
    return out


def reaching(birth: pd.Series, years: int) -> pd.Series:
    """The day one legally reaches age N: the day before the Nth birthday."""
    return anniversary(birth, years) - pd.Timedelta(days=1)


def preschool_end(birth: pd.Series) -> pd.Series:
    """Last day of 未就学 (2割): the first 3/31 on or after the day the child reaches 6."""
    r6 = reaching(birth, 6)
    year = r6.dt.year + (r6.dt.month > 3).astype("Int64")
    out = pd.Series(pd.NaT, index=birth.index, dtype="datetime64[ns]")
    ok = r6.notna()
    if ok.any():
        out.loc[ok] = pd.to_datetime(
            pd.DataFrame({"year": year[ok].astype("int64"), "month": 3, "day": 31})
        )
    return out


def elderly_start(birth: pd.Series) -> pd.Series:
    """First day of 高齢受給者 (70–74): the 1st of the month after reaching 70.

    Born on the 1st: one reaches 70 on the last day of the previous month, so this is
    the 1st of the birthday month itself.
    """
    r70 = reaching(birth, 70)
    return r70.dt.to_period("M").dt.to_timestamp() + pd.DateOffset(months=1)


def kouki_start(birth: pd.Series) -> pd.Series:
    """First day of 後期高齢者医療 by age: the 75th birthday itself."""
    return anniversary(birth, 75)


def allowed_ratios(
    birth: pd.Series, on: pd.Series, kouki_insurer: pd.Series
) -> pd.Series:
    """Bit mask (1割=1, 2割=2, 3割=4) of the burden ratios possible on date ``on``.

    ``kouki_insurer`` marks rows whose insurer is 後期高齢者医療 (39…): 65–74 with a
    recognised disability may be members and then pay as 後期. 0 where unknown.
    """
    kouki_ratios = np.where(on >= KOUKI_2WARI_FROM, BIT[1] | BIT[2] | BIT[3], BIT[1] | BIT[3])
    elderly = np.where(
        birth < ELDERLY_1WARI_BORN_BEFORE, BIT[1] | BIT[2] | BIT[3], BIT[2] | BIT[3]
    )
    pre = preschool_end(birth)
    e70 = elderly_start(birth)
    k75 = kouki_start(birth)
    a65 = anniversary(birth, 65)
    kouki = kouki_insurer.fillna(False).to_numpy(dtype=bool)
    mask = np.select(
        [
            (on <= pre).to_numpy(dtype=bool),
            (on < e70).to_numpy(dtype=bool),
            (on < k75).to_numpy(dtype=bool),
        ],
        [BIT[2], BIT[3], elderly],
        default=kouki_ratios,
    )
    disabled_kouki = kouki & (on >= a65).to_numpy(dtype=bool) & (on < k75).to_numpy(dtype=bool)
    mask = np.where(disabled_kouki, kouki_ratios, mask)
    known = (birth.notna() & on.notna()).to_numpy(dtype=bool)
    return pd.Series(np.where(known, mask, 0), index=birth.index, dtype="int64")


def ratio_allowed(ratio: pd.Series, mask: pd.Series) -> pd.Series:
    """True where ``ratio`` (in 割) is one of the ratios in ``mask``; NA ratios are True."""
    r = ratio.fillna(-1).astype("int64")
    bit = r.map({1: BIT[1], 2: BIT[2], 3: BIT[3]}).fillna(0).astype("int64")
    return ratio.isna() | (mask == 0) | ((bit & mask) != 0)


def describe_mask(mask: pd.Series) -> pd.Series:
    """Japanese text of an allowed-ratio mask: 7 -> '1割・2割・3割'."""
    names = {m: "・".join(f"{k}割" for k, b in BIT.items() if m & b) for m in range(8)}
    return mask.map(names)


def age_on(birth: pd.Series, on: pd.Series) -> pd.Series:
    """Legal age in whole years on ``on``: one is N from the day of reaching N."""
    nxt = on + pd.Timedelta(days=1)
    before = (nxt.dt.month < birth.dt.month) | (
        (nxt.dt.month == birth.dt.month) & (nxt.dt.day < birth.dt.day)
    )
    return (nxt.dt.year - birth.dt.year - before.astype("Int64")).astype("Int64")
