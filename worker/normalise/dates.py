"""Dates and claim months in every form of CONTRACT §1 (西暦, 和暦, compact, Excel serial),
read once per distinct value; the common form (2026-10-03) by Arrow in one call.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rules.domain import eras
from worker.normalise.mapping import map_array, map_distinct, nfkc

#: an era as written before the year (令和, 令, R, r); the table is ``rules.domain.eras``
_ERA: Final = rf"{eras.NAMES_PATTERN}|[{eras.LETTERS}{eras.LETTERS.lower()}{eras.ABBREVIATIONS}]"

_EXCEL_EPOCH: Final = date(1899, 12, 30)


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
