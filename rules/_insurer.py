"""保険者番号 structure and check digit (DOMAIN §4), vectorised."""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

#: 法別番号 known to be valid for medical insurance (DOMAIN §4).
KNOWN_HOUBETSU: Final[frozenset[str]] = frozenset(
    {"01", "02", "03", "04", "06", "07", "31", "32", "33", "34", "39", "63", "67", "72", "73", "74", "75"}
)
#: 不詳レセプト markers (DOMAIN §5): never an insurer-number error.
FUSHO_INSURERS: Final[frozenset[str]] = frozenset({"77777777", "77777779"})
DISASTER_INSURER: Final = "99999999"


def check_digit_ok(numbers: pd.Series) -> pd.Series:
    """True where a 6- or 8-digit number's last digit is its check digit.

    From the rightmost digit of the body, multiply alternately by 2,1,2,…, sum the DIGITS
    of each product; check = (10 − sum mod 10) mod 10. Non-digit or other lengths: False.
    """
    s = numbers.fillna("").astype(str)
    out = pd.Series(False, index=s.index)
    for length in (6, 8):
        sel = s.str.len().eq(length) & s.str.fullmatch(r"\d+").fillna(False).astype(bool)
        if not sel.any():
            continue
        digits = np.frombuffer("".join(s[sel]).encode("ascii"), dtype=np.uint8).reshape(-1, length) - 48
        body = digits[:, :-1][:, ::-1].astype(np.int64)  # rightmost body digit first
        weights = np.where(np.arange(length - 1) % 2 == 0, 2, 1)
        prod = body * weights
        total = (prod // 10 + prod % 10).sum(axis=1)
        check = (10 - total % 10) % 10
        out.loc[sel] = check == digits[:, -1]
    return out


def is_fusho(numbers: pd.Series) -> pd.Series:
    return numbers.fillna("").astype(str).isin(FUSHO_INSURERS)


def is_kouki(numbers: pd.Series) -> pd.Series:
    """後期高齢者医療: 8 digits starting 39."""
    s = numbers.fillna("").astype(str)
    return s.str.len().eq(8) & s.str.startswith("39")
