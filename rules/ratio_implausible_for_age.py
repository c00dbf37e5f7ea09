"""ratio_implausible_for_age — a burden ratio impossible for the age and insurer.

Catches (each source on its own: the receipt, the online result, the card), judged on the
service date with the exact boundaries of DOMAIN §2: 未就学 2割 up to the 3/31 after
reaching 6; 3割 to 69; 70–74 2割 or 3割 from the 1st of the month after the 70th birthday
(the birthday month when born on the 1st), never 1割 (except those born before
1944-04-02); 後期 (39…) from the 75th birthday 1・2・3割 (2割 only from 2022-10-01).
Also: a ratio that contradicts the 限度額適用区分 of the same source (後期: 一般Ⅰ・低所得 1割,
一般Ⅱ 2割, 現役並み 3割; 70–74: 一般・低所得 2割, 現役並み 3割), and a patient of 75 or
more billed to an insurer that is not 後期.
Fix: the billed ratio — correct it; the online or card ratio — ask the insurer.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Final

import numpy as np
import pandas as pd

from rules.domain import age as _age
from rules.domain.columns import float_values, index_of, ne_text, per_distinct_values
from rules.domain.context import date_text, ratio_text, text
from rules.findings import concat_findings, make_findings

CATEGORY: Final = "ratio_implausible_for_age"
ORDER: Final = 30  # CONTRACT §2
LABEL_JA: Final = "年齢・保険者とあわない負担割合"
SUMMARY_JA: Final = "年齢・保険者・限度額区分からありえない負担割合（未就学・70歳・75歳の境目を日付で判定）"
RULE_IDS: Final = (
    "RATIO_AGE_BILLED",
    "RATIO_AGE_ONLINE",
    "RATIO_AGE_CARD",
    "RATIO_LIMIT_ONLINE",
    "RATIO_LIMIT_CARD",
    "RATIO_LIMIT_BILLED",
    "AGE75_NOT_KOUKI",
)
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("online", "cards")
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = (
    "birth",
    "on_date",
    "k75",
    "insurer_no",
    "billed_ratio",
    "usable_online_ratio",
    "cd_card_ratio",
    "allowed_billed",
    "allowed_online",
    "allowed_card",
    "on_limit_category",
    "cd_limit_category",
)

_SOURCES = (
    ("billed_ratio", "allowed_billed", "請求", "error", "RATIO_AGE_BILLED",
     "レセプトの負担割合を年齢にあう割合に直してください（保険者にも確認してください）。"),
    ("usable_online_ratio", "allowed_online", "オンライン資格確認", "warning", "RATIO_AGE_ONLINE",
     "オンライン資格確認の負担割合が年齢とあいません。保険者に正しい割合を確認し、登録の訂正を依頼してください。"),
    ("cd_card_ratio", "allowed_card", "券面", "warning", "RATIO_AGE_CARD",
     "券面の負担割合が年齢とあいません。証の種類と有効期間を確認し、保険者に問い合わせてください。"),
)  # fmt: skip


def _allowed_text(d: pd.DataFrame, allowed: str) -> pd.Series:
    return _age.describe_mask(d[allowed])


def _labelled_ratio(d: pd.DataFrame, col: str, label: str) -> pd.Series:
    return label + " " + ratio_text(d[col])


def _implied_text(d: pd.DataFrame, limit_col: str, allowed_col: str) -> pd.Series:
    return ratio_text(_implied(d, limit_col, allowed_col))


def check(df: pd.DataFrame) -> pd.DataFrame:
    parts = []
    fusho = df["is_fusho"].to_numpy(dtype=bool)
    for col, allowed, label, severity, rule_id, action in _SOURCES:
        ratio = float_values(df[col])
        allowed_mask = df[allowed].to_numpy()
        judged = ~np.isnan(ratio) & (ratio != 10) & (allowed_mask != 0)
        if col == "billed_ratio":
            judged &= ~fusho
        mask = judged & ~_age.ratio_allowed_array(ratio, allowed_mask)

        def message(d: pd.DataFrame, col: str = col, allowed: str = allowed, label: str = label) -> pd.Series:
            age = _age.age_on(d["birth"], d["on_date"]).map(lambda a: "" if pd.isna(a) else f"{a}歳")
            return (
                label
                + "の負担割合 "
                + ratio_text(d[col])
                + " は、"
                + date_text(d["on_date"])
                + " 時点の年齢（"
                + age.astype("object")
                + "）ではありえません（"
                + _age.describe_mask(d[allowed]).astype("object")
                + " のはずです）。"
            )

        parts.append(
            make_findings(
                df,
                mask,
                reads=_READS,
                category=CATEGORY,
                rule_id=rule_id,
                severity=severity,  # type: ignore[arg-type]
                expected=partial(_allowed_text, allowed=allowed),
                actual=partial(_labelled_ratio, col=col, label=label),
                message=message,
                action=action,
            )
        )
    parts.extend(_limit_category_checks(df))
    ins = df["insurer_no"]
    not_kouki = _reached_75(df) & ~fusho & df["service_date"].notna().to_numpy()
    rows = np.flatnonzero(not_kouki)  # the insurer numbers are read on these rows alone
    if len(rows):
        number = ins.iloc[rows]
        not_kouki[rows] = ne_text(number, "") & ~per_distinct_values(number, lambda n: n.startswith("39"), False, bool)
    parts.append(
        make_findings(
            df,
            not_kouki,
            reads=_READS,
            category=CATEGORY,
            rule_id="AGE75_NOT_KOUKI",
            severity="warning",
            expected="後期高齢者医療（保険者番号 39…）",
            actual=lambda d: "保険者番号 " + text(d["insurer_no"]),
            message=lambda d: (
                "75歳の誕生日（"
                + date_text(d["k75"])
                + "）以降の受診ですが、後期高齢者医療以外の保険者 "
                + text(d["insurer_no"])
                + " で請求しています。"
            ),
            action="後期高齢者医療の資格確認書等で保険者番号と負担割合を確認し、後期高齢者医療に請求してください"
            "（生活保護など例外の場合は対象外にしてください）。",
        )
    )
    return concat_findings(parts)


#: The burden ratio a 限度額区分 implies (DOMAIN §3): for 後期 members and for 70–74.
_KOUKI_LIMIT_RATIO = {"一般I": 1.0, "一般II": 2.0, "一般": 1.0, "低所得I": 1.0, "低所得II": 1.0,
                      "現役並みI": 3.0, "現役並みII": 3.0, "現役並みIII": 3.0}  # fmt: skip
_ELDERLY_LIMIT_RATIO = {"一般": 2.0, "低所得I": 2.0, "低所得II": 2.0,
                        "現役並みI": 3.0, "現役並みII": 3.0, "現役並みIII": 3.0}  # fmt: skip

_LIMIT_SOURCES = (
    ("usable_online_ratio", "on_limit_category", "allowed_online", "オンライン資格確認", "RATIO_LIMIT_ONLINE"),
    ("cd_card_ratio", "cd_limit_category", "allowed_card", "券面", "RATIO_LIMIT_CARD"),
    ("billed_ratio", "on_limit_category", "allowed_billed", "請求", "RATIO_LIMIT_BILLED"),
)  # fmt: skip


def _reached_75(df: pd.DataFrame) -> np.ndarray:
    """On or after the 75th birthday on the judged date (unknown: False)."""
    return df["on_date"].to_numpy(dtype="datetime64[ns]") >= df["k75"].to_numpy(dtype="datetime64[ns]")


#: every 限度額区分 that implies a ratio in some band
_LIMITS: Final = list(dict.fromkeys([*_KOUKI_LIMIT_RATIO, *_ELDERLY_LIMIT_RATIO]))
_KOUKI_OF: Final = np.array([_KOUKI_LIMIT_RATIO.get(u, np.nan) for u in _LIMITS] + [np.nan])
_ELDERLY_OF: Final = np.array([_ELDERLY_LIMIT_RATIO.get(u, np.nan) for u in _LIMITS] + [np.nan])


def _implied(df: pd.DataFrame, limit_col: str, allowed_col: str, coded: np.ndarray | None = None) -> pd.Series:
    """The ratio the 限度額区分 implies for that row's age band; NA where it implies none
    (``coded``: the limit column's ``index_of(_LIMITS)``, when already read)."""
    codes = index_of(df[limit_col], _LIMITS) if coded is None else coded
    implied = np.full(len(df), np.nan)
    rows = np.flatnonzero(codes >= 0)  # only the rows whose 区分 implies a ratio in some band
    kouki_of, elderly_of = _KOUKI_OF, _ELDERLY_OF
    if not len(rows):
        return pd.Series(implied, index=df.index, dtype="float64")
    kouki, elderly = kouki_of[codes[rows]], elderly_of[codes[rows]]
    allowed = df[allowed_col].to_numpy()[rows]
    kouki_band = _reached_75(df)[rows] | (allowed == _age.BIT[1] | _age.BIT[2] | _age.BIT[3])
    elderly_band = allowed == _age.BIT[2] | _age.BIT[3]
    found = np.where(kouki_band, kouki, np.nan)
    implied[rows] = np.where(np.isnan(found) & elderly_band, elderly, found)
    return pd.Series(implied, index=df.index, dtype="float64")


def _limit_category_checks(df: pd.DataFrame) -> list[pd.DataFrame]:
    """A ratio that contradicts the 限度額区分 of the same source (e.g. 後期 3割 with 一般Ⅰ)."""
    out = []
    coded = {c: index_of(df[c], _LIMITS) for c in {limit for _, limit, _, _, _ in _LIMIT_SOURCES}}
    for ratio_col, limit_col, allowed_col, label, rule_id in _LIMIT_SOURCES:
        ratio = float_values(df[ratio_col])
        implied = _implied(df, limit_col, allowed_col, coded[limit_col]).to_numpy()
        mask = ~np.isnan(ratio) & ~np.isnan(implied) & (ratio != implied) & (ratio != 10)

        def message(
            d: pd.DataFrame,
            ratio_col: str = ratio_col,
            limit_col: str = limit_col,
            allowed_col: str = allowed_col,
            label: str = label,
        ) -> pd.Series:
            return (
                label
                + "の負担割合 "
                + ratio_text(d[ratio_col])
                + " は、限度額適用区分「"
                + text(d[limit_col])
                + "」（"
                + ratio_text(_implied(d, limit_col, allowed_col))
                + "負担の区分）とあいません。"
            )

        out.append(
            make_findings(
                df,
                mask,
                reads=_READS,
                category=CATEGORY,
                rule_id=rule_id,
                severity="warning",
                expected=partial(_implied_text, limit_col=limit_col, allowed_col=allowed_col),
                actual=partial(_labelled_ratio, col=ratio_col, label=label),
                message=message,
                action="保険者に負担割合と限度額適用区分を確認し、正しい割合で請求・窓口徴収してください。",
            )
        )
    return out
