"""Vectorised parsers for the value forms of CONTRACT §1.

Every parser takes a column of text (as read, ``None``/"" for empty) and returns the
parsed column plus a boolean ``invalid`` mask: True where a non-empty value could not be
read. Work is done once per *distinct* value (``pd.factorize``), so a column of a million
receipts with a few thousand distinct dates costs a few thousand Python calls.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, Final, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rules.domain import codes, eras

T = TypeVar("T")

#: an era as written before the year (令和, 令, R, r); the table is ``rules.domain.eras``
_ERA: Final = rf"{eras.NAMES_PATTERN}|[{eras.LETTERS}{eras.LETTERS.lower()}{eras.ABBREVIATIONS}]"

_EXCEL_EPOCH: Final = date(1899, 12, 30)


def nfkc(text: str) -> str:
    """NFKC-normalise and strip (full-width digits and letters become ASCII)."""
    return unicodedata.normalize("NFKC", text).strip()


def map_distinct(col: pd.Series, parse: Callable[[str], Any], dtype: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Apply ``parse`` once per distinct value; return (values, invalid mask).

    ``parse`` returns the parsed value, or raises ``ValueError`` for an unreadable value.
    Missing and blank cells stay missing and are not invalid.
    """
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    parsed: list[Any] = []
    bad = np.zeros(len(uniques) + 1, dtype=bool)
    for i, u in enumerate(uniques):
        text = str(u)
        if not text.strip():
            parsed.append(None)
            continue
        try:
            parsed.append(parse(text))
        except ValueError:
            parsed.append(None)
            bad[i] = True
    parsed.append(None)  # the slot for missing cells (code -1)
    arr = np.empty(len(parsed), dtype=object)
    arr[:] = parsed
    taken = arr[codes]
    values = pd.Series(taken, index=col.index, dtype=dtype) if dtype else pd.Series(taken, index=col.index)
    invalid = pd.Series(bad[codes], index=col.index)
    return values, invalid


#: a vectorised parser of distinct texts: (values, read) — values where ``read`` is True
FastParse = Callable[[pa.Array], tuple[np.ndarray, np.ndarray]]


def map_array(
    col: pd.Series, parse: Callable[[str], Any], dtype: str, missing: Any, fast: FastParse | None = None
) -> tuple[np.ndarray, pd.Series]:
    """Like ``map_distinct`` but the result is a numpy array of ``dtype`` (for dates, numbers).

    ``fast`` reads the distinct values of the common form in one vectorised call; only the
    others go through ``parse`` (so ``fast`` must give what ``parse`` gives, or leave it)."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    distinct = np.asarray(uniques, dtype=object)
    out = np.full(len(distinct) + 1, missing, dtype=dtype)
    bad = np.zeros(len(distinct) + 1, dtype=bool)
    todo: Any = range(len(distinct))
    if fast is not None and len(distinct):
        try:
            texts = pa.array(distinct, type=pa.large_string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: each value its own way
            texts = None
        if texts is not None:
            values, read = fast(texts)
            out[: len(distinct)][read] = values[read]
            todo = np.flatnonzero(~read).tolist()
    for i in todo:
        text = str(distinct[i])
        if not text.strip():
            continue
        try:
            out[i] = parse(text)
        except ValueError:
            bad[i] = True
    return out[codes], pd.Series(bad[codes], index=col.index)


#: text that NFKC leaves unchanged: printable ASCII, hiragana, full-width katakana, CJK
#: unified ideographs. Values made only of these skip the per-value Python path.
NFKC_STABLE: Final = r"^[\x20-\x7E\x{3041}-\x{3096}\x{30A1}-\x{30FA}\x{30FC}\x{4E00}-\x{9FFF}々]*$"
#: identifiers that need no cleaning at all (no spaces, no ".0", no full-width)
PLAIN_ID: Final = r"^[0-9A-Za-z\-]*$"


def map_text(col: pd.Series, parse: Callable[[str], str], stable: str | None = None) -> pd.Series:
    """``parse`` once per distinct value into a ``str`` column ('' when blank).

    With ``stable`` (a regex), values matching it are only trimmed, vectorised in Arrow;
    only the others go through ``parse`` — a million clean IDs cost no Python call.
    """
    if stable is None or len(col) == 0:
        values, _ = map_distinct(col, parse, dtype="str")
        return values.fillna("")
    arr = pa.array(col, from_pandas=True)
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    # the ideographic space is the only NFKC change common in names: fold it in Arrow
    arr = pc.replace_substring(arr, "\u3000", " ")
    ok = pc.fill_null(pc.match_substring_regex(arr, stable), True)
    out = pc.fill_null(pc.utf8_trim_whitespace(arr), "")
    slow = np.flatnonzero(is_slow := ~ok.to_numpy(zero_copy_only=False))
    if len(slow):  # parsed, and put in place in Arrow: no Python string per row of the column
        sub = pd.Series(arr.take(pa.array(slow)).to_numpy(zero_copy_only=False), index=col.index[slow])
        fixed = pa.array(map_distinct(sub, parse, dtype="str")[0].fillna("").to_numpy(dtype=object), pa.large_string())
        whole = out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out
        out = pc.replace_with_mask(whole, pa.array(is_slow), fixed)
    return pd.Series(out.to_pandas().array, index=col.index, dtype="str")  # by position, whatever the index


# ---------------------------------------------------------------- dates and months

_DATE_WEST = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATE_ERA = re.compile(rf"^({_ERA})\.?(\d{{1,2}}|元)[-/.年](\d{{1,2}})[-/.月](\d{{1,2}})日?$")
_DATE_GYYMMDD = re.compile(rf"^([{eras.DIGITS}])(\d{{2}})(\d{{2}})(\d{{2}})$")
_SERIAL = re.compile(r"^\d{2,5}(?:\.\d+)?$")

_MONTH_WEST = re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$")
_MONTH_COMPACT = re.compile(r"^(\d{4})(\d{2})$")
_MONTH_ERA = re.compile(rf"^({_ERA})\.?(\d{{1,2}}|元)[-/.年](\d{{1,2}})月?$")
_MONTH_GYYMM = re.compile(rf"^([{eras.DIGITS}])(\d{{2}})(\d{{2}})$")


def _era_n(year: str) -> int:
    return 1 if year == "元" else int(year)


def parse_date_text(text: str) -> date:
    """Read one date in any form of CONTRACT §1; raise ValueError if it is no date.

    A 和暦 date outside its era's span (S70.1.1, R1.4.1) raises ``eras.OutOfEraError``.
    """
    s = nfkc(text).replace(" ", "") if not _DATE_WEST.match(nfkc(text)) else nfkc(text)
    try:
        if m := _DATE_WEST.match(s):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _DATE_COMPACT.match(s):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _DATE_ERA.match(s) or _DATE_GYYMMDD.match(s):
            return eras.era_of(m[1]).to_date(_era_n(m[2]), int(m[3]), int(m[4]))
        if _SERIAL.match(s):
            serial = float(s)
            if 1 <= serial < 2_958_466:
                return _EXCEL_EPOCH + timedelta(days=int(serial))
    except (KeyError, OverflowError) as exc:
        raise ValueError(text) from exc
    raise ValueError(text)


def parse_month_text(text: str) -> date:
    """Read a claim month (2026-10, 202610, R8.10, 令和8年10月 …) as its first day.

    A 和暦 month with no day in its era (R1.4, H31.5) raises ``eras.OutOfEraError``.
    """
    s = nfkc(text).replace(" ", "")
    try:
        if m := _MONTH_WEST.match(s):
            return date(int(m[1]), int(m[2]), 1)
        if m := _MONTH_COMPACT.match(s):
            return date(int(m[1]), int(m[2]), 1)
        if m := _MONTH_ERA.match(s) or _MONTH_GYYMM.match(s):
            return eras.era_of(m[1]).to_month(_era_n(m[2]), int(m[3]))
    except KeyError as exc:
        raise ValueError(text) from exc
    return parse_date_text(text).replace(day=1)


def era_span_problem(text: str, *, month: bool = False) -> str:
    """Why ``text`` is no date (or month): the era span it falls outside, in Japanese
    (「令和は2019年5月1日からです」), or "" when it is readable or unreadable otherwise."""
    try:
        (parse_month_text if month else parse_date_text)(text)
    except eras.OutOfEraError as exc:
        return exc.reason_ja
    except ValueError:
        return ""
    return ""


def era_span_problems(col: pd.Series, *, month: bool = False) -> pd.Series:
    """``era_span_problem`` of each value of ``col``, once per distinct value ('' if none)."""
    values, _ = map_distinct(col, lambda text: era_span_problem(text, month=month), dtype="object")
    return values.fillna("")


#: the form of nearly every date cell (the reader writes a date cell so, a date-time cell
#: with its time): read by Arrow, in years where nothing else can differ
_ISO_DATE: Final = r"^(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?$"


def iso_dates(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``parse_date_text`` of the texts of ``_ISO_DATE``'s form, vectorised: (datetime64[ns]
    days, read). A day that does not exist (2026-02-30) is left to ``parse_date_text``."""
    form = pc.fill_null(pc.match_substring_regex(texts, _ISO_DATE), False)
    day = pc.utf8_slice_codeunits(pc.if_else(form, texts, None), 0, 10)
    stamp = pc.strptime(day, format="%Y-%m-%d", unit="ns", error_is_null=True)
    same = pc.fill_null(pc.equal(pc.strftime(stamp, format="%Y-%m-%d"), day), False)  # no rolled-over day
    values = stamp.to_numpy(zero_copy_only=False).astype("datetime64[ns]")
    return values, same.to_numpy(zero_copy_only=False).astype(bool)


def parse_dates(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Column of dates -> (datetime64[ns] with NaT, invalid mask)."""
    values, invalid = map_array(col, parse_date_text, "datetime64[ns]", np.datetime64("NaT"), fast=iso_dates)
    return pd.Series(values, index=col.index), invalid


def parse_months(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Column of months -> (datetime64 first-of-month with NaT, invalid mask)."""
    values, invalid = map_array(col, parse_month_text, "datetime64[ns]", np.datetime64("NaT"))
    return pd.Series(values, index=col.index), invalid


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
