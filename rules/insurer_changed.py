"""insurer_changed — the claim, the online result and the newer card name different qualifications.

A qualification is 保険者番号 + 記号 + 番号. 記号 and 番号 are compared on their key
(``rules.domain.cards.id_key``: width, hyphen forms and the leading zeros of an all-digit
value do not count — DOMAIN §4); a blank 記号 or 番号 never differs, and a claim 番号 that
is the source's 番号 + 枝番 with an empty 枝番 (the export bug card_number_format reports)
is the same 番号. The online result counts when it is usable (有効, or no validity given —
never 無効, 該当資格なし or 複数該当) and was checked on or before the service date (the
receipt's 診療日, else the claim month's last day).

The newer card: the linked card record in force on the service date (発効期日 on or before
it, 有効期限 on or after it, blanks open; an old 健康保険証 only until 2026-03-31 —
``rules.domain.cards.in_force``, column ``card_in_force``). It is what the patient holds on
that day, while the online result lags a change of insurer until the insurer registers it,
so where the two disagree the card wins. A card expired or not yet in force on the service
date contradicts nothing.

Catches: (INSURER_ONLINE_STALE) the newer card names another qualification than the online
result: the change is not reflected online yet; (INSURER_BILLED_OTHER) online and the newer
card agree and the claim bills another; (INSURER_BILLED_NOT_ONLINE) no newer card, and the
claim bills another qualification than the online result. 不詳 claims are left to the fusho
rules.
Fix: bill the qualification named in ``expected`` (in the form on the card, else on the
claim); for a stale online result, also ask the insurer to register the change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.cards import id_key, id_key_text
from rules.domain.columns import both_differ, filled, ne_text
from rules.domain.context import eligibility_text, text, yen, yen_text
from rules.findings import concat_findings, make_findings

CATEGORY: Final = "insurer_changed"
ORDER: Final = 70  # CONTRACT §2
LABEL_JA: Final = "保険者の変更が未反映"
SUMMARY_JA: Final = (
    "新しい証の保険者がオンラインに反映されていない／請求した保険者・記号・番号がオンライン資格確認や新しい証と違う"
)
RULE_IDS: Final = ("INSURER_ONLINE_STALE", "INSURER_BILLED_OTHER", "INSURER_BILLED_NOT_ONLINE")
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("online", "cards")
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = (
    "insurer_no",
    "card_symbol",
    "card_number",
    "card_branch",
    "on_insurer_no",
    "on_card_symbol",
    "on_card_number",
    "on_card_branch",
    "cd_insurer_no",
    "cd_card_symbol",
    "cd_card_number",
    "cd_card_branch",
    "card_in_force",
    "points",
    "billed_ratio",
)

#: (label, field) of the parts of a qualification, in the order a clerk reads them
_PARTS: Final = (("保険者番号", "insurer_no"), ("記号", "card_symbol"), ("番号", "card_number"))


def _part_differs(df: pd.DataFrame, a: str, b: str, field: str) -> np.ndarray:
    """One part of two sources' qualifications differs (``a``/``b``: column prefixes).

    Only the rows whose texts differ can differ on the key: the keys are read there alone."""
    differs = both_differ(df[a + field], df[b + field])
    if field == "insurer_no" or not differs.any():
        return differs
    rows = np.flatnonzero(differs)

    def at(col: str) -> pd.Series:
        return df[col].iloc[rows].fillna("")

    kx, ky = id_key(at(a + field)), id_key(at(b + field))
    still = kx.ne(ky).to_numpy(dtype=bool, na_value=False).copy()
    if field == "card_number":
        for p, kp, q in ((a, kx, b), (b, ky, a)):  # 枝番 exported at the end of the 番号 (card_number_format)
            appended = id_key(at(q + field) + at(q + "card_branch"))
            still &= ~(at(p + "card_branch").eq("") & kp.eq(appended)).to_numpy(dtype=bool, na_value=False)
    differs[rows] = still
    return differs


def _differs(df: pd.DataFrame, a: str, b: str) -> np.ndarray:
    out = np.zeros(len(df), dtype=bool)
    for _, field in _PARTS:
        out |= _part_differs(df, a, b, field)
    return out


def _which(d: pd.DataFrame, a: str, b: str) -> pd.Series:
    """'記号' / '保険者番号・番号' …: the parts that differ between two sources."""
    out = pd.Series("", index=d.index, dtype="object")
    for label, field in _PARTS:
        out = out + pd.Series(np.where(_part_differs(d, a, b, field), "・" + label, ""), index=d.index, dtype=object)
    return out.str[1:]


def _bill_text(d: pd.DataFrame, prefix: str, sep: str = " ") -> pd.Series:
    """'保険者番号 X 記号 Y 番号 Z' (parts joined by ``sep``) of source ``prefix``, each part
    in the form on the card in force, else on the claim, when that is the same value
    (a claim keeps the form on the card: DOMAIN §4). Built row by row: only reported rows."""
    in_force = d["card_in_force"].to_numpy(dtype=bool)
    parts = []
    for label, field in _PARTS:
        values, claims, cards = (text(d[p + field]).tolist() for p in (prefix, "", "cd_"))
        row = []
        for value, claim, card, card_ok in zip(values, claims, cards, in_force, strict=True):
            key = id_key_text(value)
            if card_ok and card and id_key_text(card) == key:  # the card's form wins
                value = card
            elif claim and id_key_text(claim) == key:
                value = claim
            row.append(f"{sep}{label} {value}" if value else "")
        parts.append(row)
    return pd.Series(["".join(p)[len(sep) :] for p in zip(*parts, strict=True)], index=d.index, dtype=object)


def _at_stake(d: pd.DataFrame) -> pd.Series:
    """'このままでは返戻され、保険者負担分 N円 の入金が遅れます。' where points and ratio are known."""
    share = d["points"] * 10 - yen(d["points"], d["billed_ratio"])
    return ("このままでは返戻され、保険者負担分 " + yen_text(share) + " の入金が遅れます。").where(share.notna(), "")


def check(df: pd.DataFrame) -> pd.DataFrame:
    checked = df["on_checked_on"].to_numpy(dtype="datetime64[ns]")
    online = (
        df["online_ok"].to_numpy(dtype=bool)
        & filled(df["on_insurer_no"])
        & (np.isnat(checked) | (checked <= df["on_date"].to_numpy(dtype="datetime64[ns]")))
    )
    card = df["card_in_force"].to_numpy(dtype=bool) & filled(df["cd_insurer_no"])
    online_card_differ = _differs(df, "on_", "cd_")
    claim_online_differ = _differs(df, "", "on_")
    claimed = ne_text(df["insurer_no"], "") & ~df["is_fusho_claim"].to_numpy(dtype=bool)
    stale = make_findings(
        df,
        online & card & online_card_differ,
        reads=_READS,
        category=CATEGORY,
        rule_id="INSURER_ONLINE_STALE",
        severity="warning",
        expected=lambda d: eligibility_text(d, "cd_"),
        actual=lambda d: eligibility_text(d, "on_"),
        message=lambda d: (
            "現在有効な証（"
            + eligibility_text(d, "cd_")
            + "）とオンライン資格確認（"
            + eligibility_text(d, "on_")
            + "）で"
            + _which(d, "on_", "cd_")
            + "が異なります。保険者の変更がオンラインに反映されていない可能性があります。"
        ),
        action=lambda d: (
            "患者に新しい証を確認し、証のとおり "
            + _bill_text(d, "cd_", "・")
            + " で請求してください。オンラインの情報が古い場合は保険者に登録を依頼してください。"
        ),
    )
    agreed = online & card & ~online_card_differ
    billed = _billed_other(
        df,
        agreed & claimed & claim_online_differ,
        "INSURER_BILLED_OTHER",
        source="オンライン資格確認と証が一致して示す資格",
    )
    not_online = _billed_other(
        df,
        online & ~card & claimed & claim_online_differ,
        "INSURER_BILLED_NOT_ONLINE",
        source="受診日までのオンライン資格確認（有効）で確認した資格",
        fact="受診日に有効な新しい証の登録もありません。",
        advice="患者が別の新しい証を持っている場合は、その証を登録して確認してください。",
    )
    return concat_findings([stale, billed, not_online])


def _billed_other(
    df: pd.DataFrame, mask: np.ndarray, rule_id: str, *, source: str, fact: str = "", advice: str = ""
) -> pd.DataFrame:
    """The claim bills another qualification than the one the online check shows: bill that one."""
    return make_findings(
        df,
        mask,
        reads=_READS,
        category=CATEGORY,
        rule_id=rule_id,
        severity="error",
        expected=lambda d: _bill_text(d, "on_"),
        actual=lambda d: eligibility_text(d, ""),
        message=lambda d: (
            "請求した資格（"
            + eligibility_text(d, "")
            + "）の"
            + _which(d, "", "on_")
            + f"が、{source}（"
            + eligibility_text(d, "on_")
            + f"）と異なります。{fact}"
            + _at_stake(d)
        ),
        action=lambda d: "レセプトを " + _bill_text(d, "on_", "・") + f" に直して請求してください。{advice}",
    )
