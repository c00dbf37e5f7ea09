"""保険者番号 structure and check digit (DOMAIN §4), vectorised."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.columns import contains, isin, per_distinct_values

#: 法別番号 known to be valid for medical insurance (DOMAIN §4).
KNOWN_HOUBETSU: Final[frozenset[str]] = frozenset(
    {"01", "02", "03", "04", "06", "07", "31", "32", "33", "34", "39", "63", "67", "72", "73", "74", "75"}
)
#: 不詳レセプト markers (DOMAIN §5): never an insurer-number error.
FUSHO_INSURERS: Final[frozenset[str]] = frozenset({"77777777", "77777779"})
DISASTER_INSURER: Final = "99999999"


def per_distinct(col: pd.Series, test: Callable[[str], bool]) -> pd.Series:
    """``test`` applied once per distinct value of a text column (missing -> False)."""
    return pd.Series(per_distinct_values(col, test, False, bool), index=col.index, copy=False)


def check_digit_valid(number: str) -> bool:
    """The last digit of a 6- or 8-digit number is its check digit (DOMAIN §4).

    From the rightmost digit of the body, multiply alternately by 2,1,2,…, sum the DIGITS
    of each product; check = (10 − sum mod 10) mod 10.
    """
    if len(number) not in (6, 8) or not number.isdigit():
        return False
    total = 0
    for k, ch in enumerate(reversed(number[:-1])):
        p = int(ch) * (2 if k % 2 == 0 else 1)
        total += p // 10 + p % 10
    return (10 - total % 10) % 10 == int(number[-1])


def check_digit_ok(numbers: pd.Series) -> pd.Series:
    """``check_digit_valid`` on a column (once per distinct number)."""
    return per_distinct(numbers, check_digit_valid)


FUSHO_NUMBERS: Final[frozenset[str]] = frozenset({"777777777", "77777777"})  # 番号 (後期: 8 digits)


def fusho_insurer_valid(number: str) -> bool:
    """A 不詳 insurer marker, also when damaged by zero- or space-padding (0077777777)."""
    s = "".join(number.split()).lstrip("0")
    return s in FUSHO_INSURERS


def is_fusho(numbers: pd.Series) -> pd.Series:
    """The insurer number is a 不詳 marker (DOMAIN §5)."""
    return pd.Series(fusho_array(numbers), index=numbers.index, copy=False)


def fusho_array(numbers: pd.Series) -> np.ndarray:
    """``is_fusho`` as a boolean array."""
    return per_distinct_values(numbers, fusho_insurer_valid, fusho_insurer_valid(""), bool)


def is_fusho_claim(insurer: pd.Series, card_number: pd.Series, tekiyo: pd.Series) -> pd.Series:
    """A 不詳 claim: marker insurer, 番号 777777777 (後期 77777777), or 摘要 starting 「不詳」."""
    return pd.Series(fusho_claim_array(fusho_array(insurer), card_number, tekiyo), index=insurer.index, copy=False)


def fusho_claim_array(fusho_insurer: np.ndarray, card_number: pd.Series, tekiyo: pd.Series) -> np.ndarray:
    """``is_fusho_claim`` as a boolean array, the insurer's ``fusho_array`` given."""
    out = fusho_insurer | isin(card_number, FUSHO_NUMBERS)
    rows = np.flatnonzero(contains(tekiyo, "不詳"))  # only these can start with it
    if len(rows):
        head = tekiyo.iloc[rows].fillna("").str.lstrip().str.startswith("不詳").fillna(False)
        out[rows] |= head.to_numpy(dtype=bool)
    return out


def is_kouki(numbers: pd.Series) -> pd.Series:
    """後期高齢者医療: 8 digits starting 39."""
    return pd.Series(kouki_array(numbers), index=numbers.index, copy=False)


def is_kouki_number(number: str) -> bool:
    """後期高齢者医療: 8 digits starting 39."""
    return len(number) == 8 and number.startswith("39")


def kouki_array(numbers: pd.Series) -> np.ndarray:
    """``is_kouki`` as a boolean array (missing: False)."""
    return per_distinct_values(numbers, is_kouki_number, False, bool)


class InsuranceKind(enum.StrEnum):
    """The kind of insurance a claim is billed to, as the association surveys split it
    (seeds/004 問4: 国保・社保・後期高齢), plus 公費 alone, 不詳 claims and 不明."""

    KOKUHO = "国保"
    SHAHO = "社保"
    KOUKI = "後期"
    KOUHI = "公費"
    FUSHO = "不詳"
    UNKNOWN = "不明"  # no insurer number, or one of no known shape


#: 法別番号 of 被用者保険 (DOMAIN §4): 協会けんぽ, 船員, 日雇, 組合, 自衛官, 共済, 特例退職.
SHAHO_HOUBETSU: Final[frozenset[str]] = frozenset(
    {"01", "02", "03", "04", "06", "07", "31", "32", "33", "34", "63", "72", "73", "74", "75"}
)
#: 法別番号 of 公費負担者番号 (a 公費 alone claim: 生活保護 12, 難病 54, 自立支援 15/16/21 …,
#: and 80–89 for prefectures' and municipalities' own programmes).
KOUHI_HOUBETSU: Final[frozenset[str]] = frozenset(
    {f"{n:02d}" for n in (*range(10, 26), 28, 29, 30, 38, 51, 52, 53, 54, 62, 66, 79, *range(80, 90))}
)


def insurance_kind_of(number: str) -> InsuranceKind:
    """The insurance kind of one (restored, ``parse_insurer_text``) insurer number: 6 digits
    国保 (市町村 and 国保組合), 法別 67 退職 (run by 国保) too; 39 後期; the 被用者保険 法別 社保;
    a 公費 法別 公費; the 不詳 markers 不詳; anything else 不明."""
    s = "".join(number.split())
    if fusho_insurer_valid(s):
        return InsuranceKind.FUSHO
    if not s.isdigit():
        return InsuranceKind.UNKNOWN
    if len(s) == 7:  # a leading zero lost in Excel
        s = "0" + s
    if len(s) == 6 or (len(s) == 8 and s.startswith("00")):
        return InsuranceKind.KOKUHO
    if len(s) != 8:
        return InsuranceKind.UNKNOWN
    houbetsu = s[:2]
    if houbetsu == "39":
        return InsuranceKind.KOUKI
    if houbetsu == "67":
        return InsuranceKind.KOKUHO
    if houbetsu in SHAHO_HOUBETSU:
        return InsuranceKind.SHAHO
    if houbetsu in KOUHI_HOUBETSU:
        return InsuranceKind.KOUHI
    return InsuranceKind.UNKNOWN


def insurance_kind(numbers: pd.Series) -> pd.Series:
    """``insurance_kind_of`` on a column (once per distinct number; missing: 不明), as text."""
    codes, uniques = pd.factorize(numbers.astype(object).where(numbers.notna(), ""), use_na_sentinel=True)
    kinds = np.array([str(insurance_kind_of(str(u))) for u in uniques] + [str(InsuranceKind.UNKNOWN)], dtype=object)
    return pd.Series(kinds[codes], index=numbers.index, dtype=object, copy=False)
