"""Columns several rules share, derived once from the linked table (pure).

- ``on_date``: the date a claim is judged on: the service date, else the claim month's
  last day (``on_date_first`` is the month's first day, used to be lenient in a
  birthday month when no service date is known).
- ``allowed_billed`` / ``allowed_online`` / ``allowed_card``: bit masks of the burden
  ratios possible for the patient's age and each source's insurer (see ``_age``).
- ``verified_ratio``: the ratio two sources agree on (online and card), or the single
  source present when it is plausible for age; NA when online and card disagree (the
  rules say so and never guess which is right). ``verified_source`` says which.
- ``card_kind``: the linked card's 証の種類 as a ``CardKind`` code (``card_paper``: it is
  the old 健康保険証); ``card_in_force``: the
  linked card is in force on ``on_date`` (``rules.domain.cards.in_force``: started, not
  expired, an old 健康保険証 only until 2026-03-31).

Also small text helpers that rules use on the rows they report (never whole columns).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from rules.domain import age as _age
from rules.domain.cards import card_kind, in_force_array
from rules.domain.codes import CardKind, OnlineValidity
from rules.domain.columns import differs_from, distinct
from rules.domain.insurer import fusho_claim_array, fusho_insurer_valid, is_kouki_number, kouki_array


def _texts(col: pd.Series) -> list[str]:
    """A column's values as display text ('' for missing), as a list."""
    missing = col.isna().to_numpy()
    return ["" if m else str(v) for v, m in zip(col.to_numpy(dtype=object), missing, strict=True)]


def _series(values: list[str] | np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(
        np.array(values, dtype=object) if isinstance(values, list) else values, index=index, dtype=object, copy=False
    )


def text(col: pd.Series) -> pd.Series:
    """A column as display text: '' for missing."""
    return _series(_texts(col), col.index)


def eligibility_text(d: pd.DataFrame, prefix: str) -> pd.Series:
    """'保険者番号 X 記号 Y 番号 Z' of a source (``prefix``: '', 'on_', 'cd_' …), empty parts left out."""
    labels = ("保険者番号", "記号", "番号")
    values = [_texts(d[prefix + field]) for field in ("insurer_no", "card_symbol", "card_number")]
    rows = zip(*values, strict=True)
    out = ["".join(f"{label} {v} " for label, v in zip(labels, row, strict=True) if v).strip() for row in rows]
    return _series(out, d.index)


#: the three sources compared pairwise (column prefix and Japanese label of each side)
SOURCE_PAIRS: tuple[tuple[str, str, str, str], ...] = (
    ("", "on_", "レセプト", "オンライン資格確認"),
    ("", "cd_", "レセプト", "券面"),
    ("on_", "cd_", "オンライン資格確認", "券面"),
)


def pair_rule_id(stem: str, a: str, b: str) -> str:
    """'IDENTITY', '', 'on_' -> 'IDENTITY_RC_ON' (RC = the receipt)."""
    return f"{stem}_{(a or 'rc_').upper().rstrip('_')}_{b.upper().rstrip('_')}"


def labelled(d: pd.DataFrame, fn: Callable[[pd.DataFrame, str], pd.Series], p: str, label: str) -> pd.Series:
    """'<label>: fn(d, p)' — the expected/actual text of one side of a pair."""
    return label + ": " + fn(d, p)


def ratio_text(r: pd.Series) -> pd.Series:
    """3.0 -> '3割'; NA -> ''."""
    return _series(["" if pd.isna(x) else f"{int(x)}割" for x in r.tolist()], r.index)


def date_text(d: pd.Series) -> pd.Series:
    """'YYYY-MM-DD' ('' for missing), each distinct date formatted once."""
    codes, uniques = pd.factorize(d, use_na_sentinel=True)
    names = np.array([*pd.DatetimeIndex(uniques).strftime("%Y-%m-%d"), ""], dtype=object)
    return _series(names[codes], d.index)


def yen_text(x: pd.Series) -> pd.Series:
    return _series(["" if pd.isna(v) else f"{int(v):,}円" for v in x.tolist()], x.index)


def yen(points: pd.Series, ratio: pd.Series) -> pd.Series:
    """Copay for points at ratio (割): points × 10円 × ratio/10, rounded to 10円 (四捨五入)."""
    raw = points * ratio  # = points × 10 × ratio / 10
    return (np.floor(raw / 10 + 0.5) * 10).astype("float64")


def online_usable(df: pd.DataFrame) -> pd.Series:
    """The online result can be trusted for ratio and identity: 有効, or no validity given."""
    return df["on_linked"] & (df["on_validity"].isna() | df["on_validity"].eq(OnlineValidity.VALID))


def _month_ends(months: pd.Series) -> np.ndarray:
    """The last day of each row's month (``datetime64[ns]``; one value when all rows share one
    month), computed once per distinct month."""
    values = months.to_numpy(dtype="datetime64[ns]")
    if len(values) and not np.isnat(values[0]) and (values == values[0]).all():  # one claim month
        return np.array((pd.Timestamp(values[0]) + pd.offsets.MonthEnd(0)).to_datetime64(), dtype="M8[ns]")
    codes, uniques = pd.factorize(months, use_na_sentinel=True)
    ends = (pd.DatetimeIndex(uniques) + pd.offsets.MonthEnd(0)).to_numpy(dtype="datetime64[ns]")
    return np.append(ends, np.datetime64("NaT", "ns"))[codes]


def _fill(values: np.ndarray, other: np.ndarray) -> np.ndarray:
    """A datetime array with its NaT taken from ``other``."""
    return np.where(np.isnat(values), other, values)


_VERIFIED_SOURCES = np.array(["", "オンライン資格確認と券面", "オンライン資格確認", "券面"], dtype=object)


def prepare(linked: pd.DataFrame) -> pd.DataFrame:
    """Add the shared derived columns to ``linked`` (in place) and return it.

    Computed on NumPy arrays (text columns once per distinct value), so that the fixed cost
    on a small month and the cost per row on a large one stay low."""
    df = linked
    ix = df.index
    service = df["service_date"].to_numpy(dtype="datetime64[ns]")
    claim = df["claim_month"].to_numpy(dtype="datetime64[ns]")
    on_date = _fill(service, _month_ends(df["claim_month"]))
    on_date_first = _fill(service, claim)
    df["on_date"] = pd.Series(on_date, index=ix, copy=False)
    df["on_date_first"] = pd.Series(on_date_first, index=ix, copy=False)
    birth = _fill(
        _fill(df["birth_date"].to_numpy(dtype="datetime64[ns]"), df["on_birth_date"].to_numpy(dtype="datetime64[ns]")),
        df["cd_birth_date"].to_numpy(dtype="datetime64[ns]"),
    )
    df["birth"] = pd.Series(birth, index=ix, copy=False)
    bounds = _age.RowBounds.of(df["birth"])
    no_service_date = np.isnat(service)
    df["k75"] = bounds.column(bounds.distinct_kouki_start, ix)

    at_last = _age.AgeBands.on(bounds, on_date)
    at_first = _age.AgeBands.on(bounds, on_date_first) if no_service_date.any() else None

    def allowed(kouki: np.ndarray) -> np.ndarray:
        last = at_last.allowed_array(kouki)
        if at_first is None:
            return last
        # no service date: the claim month may span a boundary (e.g. the 75th birthday)
        return last | np.where(no_service_date, at_first.allowed_array(kouki), 0)

    insurer = df["insurer_no"]
    codes, uniques = distinct(insurer)  # one reading of the claim's insurer numbers for both tests
    kouki_billed = np.array([is_kouki_number(str(u)) for u in uniques] + [False])[codes]
    allowed_billed = allowed(kouki_billed)
    df["allowed_billed"] = pd.Series(allowed_billed, index=ix, copy=False)
    sources = {}
    for side in ("on_", "cd_"):
        other = df[side + "insurer_no"]
        kouki = kouki_billed.copy()  # a missing or equal number: the claim's
        rows = np.flatnonzero(differs_from(other, insurer))
        kouki[rows] = kouki_array(other.iloc[rows])
        sources[side] = allowed(kouki)
    df["allowed_online"] = pd.Series(sources["on_"], index=ix, copy=False)
    df["allowed_card"] = pd.Series(sources["cd_"], index=ix, copy=False)
    fusho = np.array([fusho_insurer_valid(str(u)) for u in uniques] + [fusho_insurer_valid("")])[codes]
    df["is_fusho"] = pd.Series(fusho, index=ix, copy=False)
    df["is_fusho_claim"] = pd.Series(fusho_claim_array(fusho, df["card_number"], df["tekiyo"]), index=ix, copy=False)
    online_ok = online_usable(df).to_numpy(dtype=bool)
    df["online_ok"] = pd.Series(online_ok, index=ix, copy=False)
    df["card_kind"] = card_kind(df["cd_doc_type"])
    paper = df["card_kind"].to_numpy(dtype=object) == CardKind.PAPER
    df["card_paper"] = pd.Series(paper, index=ix, copy=False)
    in_force_now = in_force_array(paper, df["cd_effective_from"], df["cd_card_valid_until"], df["on_date"])
    df["card_in_force"] = pd.Series(df["cd_linked"].to_numpy(dtype=bool) & in_force_now, index=ix, copy=False)

    on = np.where(online_ok, df["on_online_ratio"].to_numpy(dtype="float64"), np.nan)
    cd = df["cd_card_ratio"].to_numpy(dtype="float64")
    on_na, cd_na = np.isnan(on), np.isnan(cd)
    on_ok = ~on_na & _age.ratio_allowed_array(on, sources["on_"]) & (on != 10)
    cd_ok = ~cd_na & _age.ratio_allowed_array(cd, sources["cd_"]) & (cd != 10)
    agree = ~on_na & ~cd_na & (on == cd)
    only_on = on_ok & cd_na
    only_cd = cd_ok & on_na
    # the three cases exclude one another
    df["verified_ratio"] = pd.Series(np.where(agree | only_on, on, np.where(only_cd, cd, np.nan)), index=ix, copy=False)
    source = agree.view(np.int8) + only_on.view(np.int8) * np.int8(2) + only_cd.view(np.int8) * np.int8(3)
    df["verified_source"] = pd.Series(_VERIFIED_SOURCES[source], index=ix, dtype="object", copy=False)
    df["usable_online_ratio"] = pd.Series(on, index=ix, copy=False)
    return df
