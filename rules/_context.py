"""Columns several rules share, derived once from the linked table (pure).

- ``on_date``: the date a claim is judged on: the service date, else the claim month's
  last day (``on_date_first`` is the month's first day, used to be lenient in a
  birthday month when no service date is known).
- ``allowed_billed`` / ``allowed_online`` / ``allowed_card``: bit masks of the burden
  ratios possible for the patient's age and each source's insurer (see ``_age``).
- ``verified_ratio``: the ratio two sources agree on (online and card), or the single
  source present when it is plausible for age; NA when online and card disagree (the
  rules say so and never guess which is right). ``verified_source`` says which.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rules import _age
from rules._insurer import is_fusho, is_kouki


def ratio_text(r: pd.Series) -> pd.Series:
    """3.0 -> '3割'; NA -> ''."""
    return r.map(lambda x: "" if pd.isna(x) else f"{int(x)}割").astype("object")


def yen(points: pd.Series, ratio: pd.Series) -> pd.Series:
    """Copay for points at ratio (割): points × 10円 × ratio/10, rounded to 10円 (四捨五入)."""
    raw = points * ratio  # = points × 10 × ratio / 10
    return (np.floor(raw / 10 + 0.5) * 10).astype("float64")


def date_text(d: pd.Series) -> pd.Series:
    return d.dt.strftime("%Y-%m-%d").astype("object").where(d.notna(), "")


def online_usable(df: pd.DataFrame) -> pd.Series:
    """The online result can be trusted for ratio and identity: 有効, or no validity given."""
    return df["on_linked"] & (df["on_validity"].isna() | df["on_validity"].eq("1"))


def prepare(linked: pd.DataFrame) -> pd.DataFrame:
    df = linked.copy()
    month_end = df["claim_month"] + pd.offsets.MonthEnd(0)
    df["on_date"] = df["service_date"].fillna(month_end)
    df["on_date_first"] = df["service_date"].fillna(df["claim_month"])
    birth = df["birth_date"].fillna(df["on_birth_date"]).fillna(df["cd_birth_date"])
    df["birth"] = birth

    def allowed(insurer: pd.Series) -> pd.Series:
        kouki = is_kouki(insurer)
        last = _age.allowed_ratios(birth, df["on_date"], kouki)
        first = _age.allowed_ratios(birth, df["on_date_first"], kouki)
        # no service date: the claim month may span a boundary (e.g. the 75th birthday)
        return last | first.where(df["service_date"].isna(), 0)

    df["allowed_billed"] = allowed(df["insurer_no"])
    df["allowed_online"] = allowed(df["on_insurer_no"].fillna(df["insurer_no"]))
    df["allowed_card"] = allowed(df["cd_insurer_no"].fillna(df["insurer_no"]))
    df["is_fusho"] = is_fusho(df["insurer_no"])

    on = df["on_online_ratio"].where(online_usable(df))
    cd = df["cd_card_ratio"]
    on_ok = on.notna() & _age.ratio_allowed(on, df["allowed_online"]) & on.ne(10)
    cd_ok = cd.notna() & _age.ratio_allowed(cd, df["allowed_card"]) & cd.ne(10)
    agree = on.notna() & cd.notna() & on.eq(cd)
    only_on = on_ok & cd.isna()
    only_cd = cd_ok & on.isna()
    df["verified_ratio"] = np.select(
        [agree, only_on, only_cd], [on, on, cd], default=np.nan
    ).astype("float64")
    df["verified_source"] = np.select(
        [agree, only_on, only_cd], ["オンライン資格確認と券面", "オンライン資格確認", "券面"], default=""
    )
    df["usable_online_ratio"] = on
    return df
