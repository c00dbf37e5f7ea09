"""Columns several rules share, derived once from the linked table (pure).

- ``on_date``: the date a claim is judged on: the service date, else the claim month's
  last day (``on_date_first`` is the month's first day, used to be lenient in a
  birthday month when no service date is known).
- ``allowed_billed`` / ``allowed_online`` / ``allowed_card``: bit masks of the burden
  ratios possible for the patient's age and each source's insurer (see ``_age``).
- ``verified_ratio``: the ratio two sources agree on (online and card), or the single
  source present when it is plausible for age; NA when online and card disagree (the
  rules say so and never guess which is right). ``verified_source`` says which.
- ``card_kind``: the linked card's 証の種類 as a ``CardKind`` code; ``card_in_force``: the
  linked card is in force on ``on_date`` (``rules.domain.cards.in_force``: started, not
  expired, an old 健康保険証 only until 2026-03-31).

Also small text helpers that rules use on the rows they report (never whole columns).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from rules.domain import age as _age
from rules.domain.cards import card_kind, in_force
from rules.domain.codes import OnlineValidity
from rules.domain.insurer import is_fusho, is_fusho_claim, is_kouki


def text(col: pd.Series) -> pd.Series:
    """A column as display text: '' for missing."""
    return col.astype("object").where(col.notna(), "").astype(str).astype("object")


def eligibility_text(d: pd.DataFrame, prefix: str) -> pd.Series:
    """'保険者番号 X 記号 Y 番号 Z' of a source (``prefix``: '', 'on_', 'cd_' …), empty parts left out."""
    out = pd.Series("", index=d.index, dtype="object")
    for label, field in (("保険者番号", "insurer_no"), ("記号", "card_symbol"), ("番号", "card_number")):
        value = text(d[prefix + field])
        out = out + (label + " " + value + " ").where(value.ne(""), "")
    return out.str.strip()


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
    return r.map(lambda x: "" if pd.isna(x) else f"{int(x)}割").astype("object")


def date_text(d: pd.Series) -> pd.Series:
    return d.dt.strftime("%Y-%m-%d").astype("object").where(d.notna(), "")


def yen_text(x: pd.Series) -> pd.Series:
    return x.map(lambda v: "" if pd.isna(v) else f"{int(v):,}円").astype("object")


def yen(points: pd.Series, ratio: pd.Series) -> pd.Series:
    """Copay for points at ratio (割): points × 10円 × ratio/10, rounded to 10円 (四捨五入)."""
    raw = points * ratio  # = points × 10 × ratio / 10
    return (np.floor(raw / 10 + 0.5) * 10).astype("float64")


def online_usable(df: pd.DataFrame) -> pd.Series:
    """The online result can be trusted for ratio and identity: 有効, or no validity given."""
    return df["on_linked"] & (df["on_validity"].isna() | df["on_validity"].eq(OnlineValidity.VALID))


def prepare(linked: pd.DataFrame) -> pd.DataFrame:
    """Add the shared derived columns to ``linked`` (in place) and return it."""
    df = linked
    month_end = df["claim_month"] + pd.offsets.MonthEnd(0)
    df["on_date"] = df["service_date"].fillna(month_end)
    df["on_date_first"] = df["service_date"].fillna(df["claim_month"])
    birth = df["birth_date"].fillna(df["on_birth_date"]).fillna(df["cd_birth_date"])
    df["birth"] = birth
    bounds = _age.Boundaries.of(birth)
    no_service_date = df["service_date"].isna()
    df["k75"] = bounds.kouki_start

    at_last = _age.AgeBands.on(bounds, df["on_date"])
    at_first = _age.AgeBands.on(bounds, df["on_date_first"]) if no_service_date.any() else None

    def allowed(insurer: pd.Series) -> pd.Series:
        kouki = is_kouki(insurer)
        last = at_last.allowed(kouki)
        if at_first is None:
            return last
        # no service date: the claim month may span a boundary (e.g. the 75th birthday)
        return last | at_first.allowed(kouki).where(no_service_date, 0)

    df["allowed_billed"] = allowed(df["insurer_no"])
    df["allowed_online"] = allowed(df["on_insurer_no"].fillna(df["insurer_no"]))
    df["allowed_card"] = allowed(df["cd_insurer_no"].fillna(df["insurer_no"]))
    df["is_fusho"] = is_fusho(df["insurer_no"])
    df["is_fusho_claim"] = is_fusho_claim(df["insurer_no"], df["card_number"], df["tekiyo"])
    df["online_ok"] = online_usable(df)
    df["card_kind"] = card_kind(df["cd_doc_type"])
    df["card_in_force"] = df["cd_linked"] & in_force(
        df["card_kind"], df["cd_effective_from"], df["cd_card_valid_until"], df["on_date"]
    )

    on = df["on_online_ratio"].where(df["online_ok"])
    cd = df["cd_card_ratio"]
    on_ok = on.notna() & _age.ratio_allowed(on, df["allowed_online"]) & on.ne(10)
    cd_ok = cd.notna() & _age.ratio_allowed(cd, df["allowed_card"]) & cd.ne(10)
    agree = (on.notna() & cd.notna() & on.eq(cd)).to_numpy()
    only_on = (on_ok & cd.isna()).to_numpy()
    only_cd = (cd_ok & on.isna()).to_numpy()
    df["verified_ratio"] = np.select(
        [agree, only_on, only_cd], [on.to_numpy(), on.to_numpy(), cd.to_numpy()], default=np.nan
    ).astype("float64")
    df["verified_source"] = pd.Series(np.select([agree, only_on, only_cd], [1, 2, 3], default=0), index=df.index).map(
        {0: "", 1: "オンライン資格確認と券面", 2: "オンライン資格確認", 3: "券面"}
    )
    df["usable_online_ratio"] = on
    return df
