"""The card a patient holds: its kind, whether it is in force, and its 記号・番号 (DOMAIN §3, §4).

- ``card_kind``: the receipt's 資格確認方法 or a card record's 証の種類 as a ``CardKind``
  code ('' when unknown).
- ``effective_until`` / ``in_force``: the last day a card is in force. The old 健康保険証
  (``CardKind.PAPER``) expired by 2025-12-01 and is accepted until ``PAPER_CARD_LAST_DAY``
  (2026-03-31, DOMAIN §1, §3), whatever the later 有効期限 printed on it.
- ``id_key``: the comparison form of a 記号 or 番号: NFKC (width), no spaces, hyphen and dash
  forms unified to '-', and the leading zeros of an all-digit value dropped (Excel exports
  lose them: 000417 = 417, Ｂ－２０７ = B-207). Only for comparing: a claim keeps the form
  on the card.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.codes import CardKind, spelling_table
from rules.domain.columns import lookup_text, per_distinct_values

#: the day paper 健康保険証 ceased to be valid (DOMAIN §1), and the last day one is still
#: accepted (the provisional period, DOMAIN §3)
PAPER_CARD_ABOLISHED: Final = pd.Timestamp("2025-12-01")
PAPER_CARD_LAST_DAY: Final = pd.Timestamp("2026-03-31")

_KINDS: Final = spelling_table(CardKind)
#: hyphen-like characters (after NFKC: ‐ ‑ ‒ – — ― − and the long vowel mark between
#: letters or digits, typed for a hyphen by Japanese input methods)
_DASHES: Final = re.compile(r"[\u2010-\u2015\u2212\ufe63]|(?<=[0-9A-Za-z])ー|ー(?=[0-9A-Za-z])")


#: up to this many rows, ``id_key`` reads values one by one (the vector path costs ~3 ms a call)
_SMALL: Final = 2000


def _per_distinct_text(col: pd.Series, fn: Callable[[str], str]) -> pd.Series:
    """``fn`` applied once per distinct value of a text column (missing -> '')."""
    # missing values take the last slot (code -1): no fillna first (slow on Arrow text)
    return pd.Series(per_distinct_values(col, fn, fn(""), object), index=col.index, dtype="object", copy=False)


def card_kind_text(value: str) -> str:
    """One 資格確認方法 / 証の種類 as a ``CardKind`` code ('' for unknown or blank)."""
    return _KINDS.get(re.sub(r"\s", "", unicodedata.normalize("NFKC", value)), "")


def card_kind(col: pd.Series) -> pd.Series:
    """A 資格確認方法 / 証の種類 column as ``CardKind`` codes ('' for unknown or blank)."""
    return _per_distinct_text(col, card_kind_text)


def is_paper(col: pd.Series) -> np.ndarray:
    """``card_kind(col) == CardKind.PAPER`` as a boolean array."""
    paper = {k: v == CardKind.PAPER for k, v in _KINDS.items()}
    return lookup_text(col, paper, lambda t: card_kind_text(t) == CardKind.PAPER, bool)


@lru_cache(maxsize=1 << 16)
def id_key_text(value: str) -> str:
    """The comparison form of one 記号 or 番号 (see the module docstring)."""
    s = _DASHES.sub("-", re.sub(r"\s", "", unicodedata.normalize("NFKC", value)))
    return (s.lstrip("0") or "0") if s.isdigit() else s


def id_key(col: pd.Series) -> pd.Series:
    """``id_key_text`` on a column ('' for blank). On a long column, plain ASCII letters and
    digits — nearly every 番号 — take the vectorised path; only the rest is read value by value."""
    if len(col) <= _SMALL:  # the rows a rule reports: plain Python is faster than the vector path
        return _per_distinct_text(col, id_key_text)
    s = col.fillna("").astype("str")
    plain = s.str.fullmatch(r"[0-9A-Za-z]*").fillna(False).astype(bool)
    if not plain.all():
        s = s.where(plain, _per_distinct_text(s.where(~plain, ""), id_key_text))
    digits = s.str.fullmatch(r"[0-9]+").fillna(False).astype(bool)
    return s.where(~digits, s.str.lstrip("0").replace("", "0"))


def effective_until(kind: pd.Series, until: pd.Series) -> pd.Series:
    """The last day a card is in force: its 有効期限, except that an old 健康保険証 whose
    有効期限 is blank or on/after ``PAPER_CARD_ABOLISHED`` is accepted until
    ``PAPER_CARD_LAST_DAY`` (cut to it when printed later, extended to it when the
    abolition cut the card short). A paper card that had expired before the abolition keeps
    its own date."""
    paper = kind.eq(CardKind.PAPER) & (until.isna() | (until >= PAPER_CARD_ABOLISHED))
    return until.mask(paper, PAPER_CARD_LAST_DAY)


def in_force(kind: pd.Series, start: pd.Series, until: pd.Series, on: pd.Series) -> pd.Series:
    """A card in force on ``on``: started (blank 発効期日: yes) and not past its
    ``effective_until`` (blank: no end)."""
    last = effective_until(kind, until)
    started = start.isna() | (start <= on)
    return (started & (last.isna() | (last >= on))).fillna(False).astype(bool)


def in_force_array(paper: np.ndarray, start: pd.Series, until: pd.Series, on: pd.Series) -> np.ndarray:
    """``in_force`` on datetime columns as a boolean array, the card kind given as "is an old
    健康保険証" (``prepare``'s fast path; ``in_force`` takes any columns)."""
    s, u, d = (c.to_numpy(dtype="datetime64[ns]") for c in (start, until, on))
    cut = paper & (np.isnat(u) | (u >= PAPER_CARD_ABOLISHED.to_datetime64()))
    last = np.where(cut, PAPER_CARD_LAST_DAY.to_datetime64(), u)
    started = np.isnat(s) | (s <= d)
    return started & (np.isnat(last) | (last >= d))
