"""Name and kana folding for comparisons (DOMAIN §4): width, kana, 異体字 and ●."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Final

import jaconv
import numpy as np
import pandas as pd

MASK_CHAR: Final = "●"

#: 異体字 -> 通用字, as the online system and clinics' レセコン disagree on them.
ITAIJI: Final[dict[str, str]] = {
    "髙": "高", "﨑": "崎", "嵜": "崎", "邊": "辺", "邉": "辺", "齊": "斉", "齋": "斎",
    "濵": "浜", "濱": "浜", "澤": "沢", "冨": "富", "德": "徳", "廣": "広", "櫻": "桜",
    "國": "国", "藪": "薮", "槗": "橋", "瀨": "瀬", "圓": "円", "實": "実", "惠": "恵",
    "榮": "栄", "彌": "弥", "龍": "竜", "嶋": "島", "嶌": "島", "曻": "昇", "隆": "隆",
    "𠮷": "吉", "眞": "真", "萬": "万", "髮": "髪", "晉": "晋", "祐": "祐", "淸": "清",
}  # fmt: skip
_ITAIJI_TABLE: Final = str.maketrans(ITAIJI)

_SMALL_KANA: Final = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_SPACES: Final = re.compile(r"[\s・･]+")


def fold_name_text(text: str) -> str:
    """Kanji name for comparison: NFKC, no spaces, 異体字 folded; ● kept as a wildcard."""
    s = unicodedata.normalize("NFKC", text)
    s = _SPACES.sub("", s)
    return s.translate(_ITAIJI_TABLE)


def fold_kana_text(text: str) -> str:
    """Kana name for comparison: NFKC (half- to full-width), katakana, small kana large."""
    s = unicodedata.normalize("NFKC", text)
    s = jaconv.hira2kata(s)
    s = _SPACES.sub("", s)
    return s.translate(_SMALL_KANA)


def wildcard_equal(a: str, b: str) -> bool:
    """Equal when every ● on either side may stand for any one character."""
    if len(a) != len(b):
        return False
    return all(x == y or MASK_CHAR in (x, y) for x, y in zip(a, b, strict=True))


def names_differ(a: pd.Series, b: pd.Series, fold: Callable[[str], str]) -> pd.Series:
    """True where two names really differ: both present and unequal after ``fold``, with ●
    matching any one character. Only rows whose raw text differs are folded (in Python)."""
    differ = (a.ne(b) & a.ne("") & b.ne("") & a.notna() & b.notna()).fillna(False).astype(bool)
    if not differ.any():
        return differ
    idx = differ[differ].index
    same = [wildcard_equal(fold(x), fold(y)) for x, y in zip(a[idx].astype(str), b[idx].astype(str), strict=True)]
    differ.loc[idx] = ~np.array(same, dtype=bool)
    return differ


def has_mask(col: pd.Series) -> pd.Series:
    return col.fillna("").astype(str).str.contains(MASK_CHAR, regex=False)
