"""Vectorised parsers for the value forms of CONTRACT §1: numbers, ratios, codes and
identifiers (dates and months: ``worker.normalise.dates``).

Every parser takes a column of text (as read, ``None``/"" for empty) and returns the
parsed column plus a boolean ``invalid`` mask: True where a non-empty value could not be
read. Work is done once per *distinct* value (``worker.normalise.mapping``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

import numpy as np
import pandas as pd

from rules.domain import codes
from worker.normalise.mapping import NFKC_STABLE, PLAIN_ID, map_array, map_distinct, map_text, nfkc

# ---------------------------------------------------------------- numbers and ratios

_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$")


def parse_number_text(text: str) -> float:
    s = nfkc(text).replace(",", "").replace("，", "")
    s = re.sub(r"(点|円|日|回|¥|\\)", "", s).strip()
    if not _NUMBER.match(s):
        raise ValueError(text)
    return float(s)


def parse_numbers(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Column of counts or amounts (full-width, commas, 点/円) -> (float64, invalid)."""
    values, invalid = map_array(col, parse_number_text, "float64", np.nan)
    return pd.Series(values, index=col.index), invalid


_RATIO = re.compile(r"^(\d+(?:\.\d+)?)\s*(割|%|パーセント)?$")


def _ratio_tenths(text: str) -> float:
    """A ratio written in any CONTRACT form, in 割 (tenths): '3割','30','030','0.3','30%' -> 3."""
    s = nfkc(text).replace(" ", "")
    m = _RATIO.match(s)
    if not m:
        raise ValueError(text)
    num, unit = float(m[1]), m[2]
    if unit == "割":
        v = num
    elif unit in ("%", "パーセント"):
        v = num / 10
    elif "." in m[1] and num <= 1:
        v = num * 10  # 0.3 -> 3割, 1.0 -> 10割
    elif len(m[1]) == 1:
        v = num  # a bare digit is 割
    else:
        v = num / 10  # "30", "030", "100": percent
    if v < 0 or v > 10 or round(v, 6) != round(v):
        raise ValueError(text)
    return float(round(v))


def parse_burden_text(text: str) -> float:
    """A 負担割合 value in 割; only 0–3 and 10 exist (4–9割 負担 is no burden ratio)."""
    v = _ratio_tenths(text)
    if v not in (0.0, 1.0, 2.0, 3.0, 10.0):
        raise ValueError(text)
    return v


def parse_benefit_text(text: str) -> float:
    """A 給付割合 value converted to 負担 in 割: 負担 = 10 − 給付 ('70', '7割' -> 3)."""
    v = 10.0 - _ratio_tenths(text)
    if v not in (0.0, 1.0, 2.0, 3.0, 10.0):
        raise ValueError(text)
    return v


def parse_burden(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    values, invalid = map_array(col, parse_burden_text, "float64", np.nan)
    return pd.Series(values, index=col.index), invalid


def parse_benefit(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    values, invalid = map_array(col, parse_benefit_text, "float64", np.nan)
    return pd.Series(values, index=col.index), invalid


# ---------------------------------------------------------------- codes


def _codes(col: pd.Series, parse: Callable[[str], str]) -> tuple[pd.Series, pd.Series]:
    return map_distinct(col, parse, dtype="str")


def _lookup(table: dict[str, str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        s = nfkc(text).replace(" ", "").replace("　", "")
        if s in table:
            return table[s]
        raise ValueError(text)

    return parse


#: accepted spelling -> code, from the code enums (``rules.domain.codes``)
_SEX: Final[dict[str, str]] = codes.spelling_table(codes.Sex)
_RELATION: Final[dict[str, str]] = codes.spelling_table(codes.Relation)
_VALIDITY: Final[dict[str, str]] = codes.spelling_table(codes.OnlineValidity)

_LIMIT = {
    "A01": "ア", "ア": "ア", "区分ア": "ア",
    "A02": "イ", "イ": "イ", "区分イ": "イ",
    "A03": "ウ", "ウ": "ウ", "区分ウ": "ウ",
    "A04": "エ", "エ": "エ", "区分エ": "エ",
    "A05": "オ", "オ": "オ", "区分オ": "オ",
    "A06": "オ(境)", "オ(境)": "オ(境)",
    "B01": "現役並みIII", "現役並みIII": "現役並みIII", "現役並み3": "現役並みIII",
    "B02": "現役並みII", "現役並みII": "現役並みII", "現役並み2": "現役並みII",
    "B03": "現役並みI", "現役並みI": "現役並みI", "現役並み1": "現役並みI",
    "B04": "一般", "一般": "一般",
    "B05": "低所得II", "低所得II": "低所得II", "低所得2": "低所得II",
    "B06": "低所得I", "低所得I": "低所得I", "低所得1": "低所得I",
    "B09": "一般II", "一般II": "一般II", "一般2": "一般II",
    "B10": "一般I", "一般I": "一般I", "一般1": "一般I",
}  # fmt: skip


def parse_sex(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    return _codes(col, _lookup(_SEX))


def parse_relation(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    return _codes(col, _lookup(_RELATION))


def parse_validity(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    return _codes(col, _lookup(_VALIDITY))


def _parse_limit(text: str) -> str:
    # NFKC turns Ⅲ into III; keep the canonical spelling of the certificate
    s = nfkc(text).replace(" ", "").replace("区分", "区分")
    s = s.upper() if re.fullmatch(r"[abAB]\d{2}", s) else s
    return _lookup(_LIMIT)(s)


def parse_limit(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    return _codes(col, _parse_limit)


# ---------------------------------------------------------------- identifiers


def _integral(text: str) -> str:
    """NFKC text; an integral float from Excel ("123.0") as the integer's digits."""
    s = nfkc(text)
    return s.split(".")[0] if re.fullmatch(r"\d+\.0+", s) else s


def _digits_only(text: str) -> str:
    return re.sub(r"[\s\-ー‐－]", "", _integral(text))


def parse_insurer_text(text: str) -> str:
    """An insurer number restored to its real length (DOMAIN §4, CONTRACT §1).

    7 digits lost a leading zero (1040013 -> 01040013); a 6-digit 国保 number may come
    zero- or space-padded to 8 (00138057 -> 138057). A 5-digit number is left as is: it
    may be a Hokkaido 国保 number that lost its zero or a typo, and the rule asks the clerk.
    Anything that is not digits is kept as is (the rule reports it).
    """
    s = _digits_only(text)
    if not s.isdigit():
        return s
    if len(s) == 8 and s.startswith("00"):
        return s[2:]
    if len(s) == 7:
        return "0" + s
    return s


def parse_insurer(col: pd.Series) -> pd.Series:
    return map_text(col, parse_insurer_text)


def parse_branch_text(text: str) -> str:
    """枝番: always 2 digits when numeric ("0" lost its zero -> "00")."""
    s = _digits_only(text)
    return s.zfill(2) if s.isdigit() and len(s) < 2 else s


def parse_branch(col: pd.Series) -> pd.Series:
    return map_text(col, parse_branch_text)


def parse_card_text(text: str) -> str:
    """記号・番号: NFKC, no spaces, integral floats from Excel as integers."""
    return re.sub(r"\s", "", _integral(text))


def parse_card(col: pd.Series) -> pd.Series:
    return map_text(col, parse_card_text, PLAIN_ID)


def parse_text(col: pd.Series) -> pd.Series:
    """Free text: NFKC-normalised, stripped, '' for blank."""
    return map_text(col, nfkc, NFKC_STABLE)


def parse_id_text(text: str) -> str:
    """A patient ID: NFKC, no spaces, Excel float artefacts removed ('123.0' -> '123')."""
    return parse_card_text(text)


def parse_ids(col: pd.Series) -> pd.Series:
    return map_text(col, parse_id_text, PLAIN_ID)
