"""card_number_format — 記号・番号・枝番 malformed.

Catches: 枝番 that is not 2 digits; the known export bug that puts the 枝番 at the end of
the 番号 (番号 two digits too long, 枝番 empty — DOMAIN §4, seeds/003), detected against
the online result or the card; a 番号 with characters other than digits, letters, hyphens.
Fix: split the 番号 and 枝番 as on the card (枝番 = the last 2 digits) and re-export.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from rules.domain.cards import id_key
from rules.domain.columns import ascii_alnum, ends_equal, eq_text, flags, ne_text, per_distinct_values
from rules.domain.context import text
from rules.findings import concat_findings, make_findings

CATEGORY: Final = "card_number_format"
ORDER: Final = 120  # CONTRACT §2
LABEL_JA: Final = "記号・番号・枝番の形式誤り"
SUMMARY_JA: Final = "枝番が番号に入り込んでいる、枝番が2桁でない など"
RULE_IDS: Final = ("CARD_BRANCH_IN_NUMBER", "CARD_BRANCH_FORM", "CARD_NUMBER_CHARS")
ALIASES: Final[Mapping[str, str]] = {}
NEEDS: Final[tuple[str, ...]] = ("online", "cards")
#: the columns the finding texts read (``make_findings(reads=...)``)
_READS: Final[tuple[str, ...]] = (
    "card_number",
    "card_branch",
    "on_card_number",
    "on_card_branch",
    "cd_card_number",
    "cd_card_branch",
)


def _split_like_source(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Rows whose 番号 is a source's 番号 + 枝番 with an empty 枝番, and that source's split."""
    merged = pd.Series(False, index=df.index)
    right = pd.Series("", index=df.index, dtype="object")
    # only rows with an empty 枝番 whose 番号 ends with a source's 枝番 can carry the export bug
    num = df["card_number"]
    ends = ends_equal(num, 2, df["cd_card_branch"], df["on_card_branch"])
    rows = np.flatnonzero(ends & eq_text(df["card_branch"], ""))
    cols = ["card_number", "on_card_number", "on_card_branch", "cd_card_number", "cd_card_branch"]
    cand = df[cols].iloc[rows]
    cand = cand.loc[cand["card_number"].str.len().ge(3).fillna(False).astype(bool)]
    if cand.empty:
        return merged, right
    num = cand["card_number"]
    head, tail = num.str[:-2], num.str[-2:]
    found = pd.Series(False, index=cand.index)
    for p in ("cd_", "on_"):  # the card's form first: a claim keeps the form on the card (DOMAIN §4)
        rn, rb = cand[p + "card_number"], cand[p + "card_branch"]
        # 番号 compared on its key: lost leading zeros, width and hyphen forms do not count;
        # the keys are made only where the plain texts already agree (the 枝番 on the tail)
        m = (rb.eq(tail) & rn.ne("")).fillna(False).astype(bool) & ~found
        if m.any():
            keys = id_key(rn[m]).eq(id_key(head[m])).fillna(False).astype(bool)
            m.loc[m] = keys.to_numpy()
        if m.any():
            right.loc[m[m].index] = ("番号 " + text(rn[m]) + " 枝番 " + text(rb[m])).to_numpy()
        found |= m
    merged.loc[found.index] = found.to_numpy()
    return merged, right


def _bad_chars(num: pd.Series) -> np.ndarray:
    """A 番号 with characters other than digits, letters and hyphens (blank: no)."""
    out = np.zeros(len(num), dtype=bool)
    rows = np.flatnonzero(~ascii_alnum(num))  # the regular expression only where the quick test fails
    if len(rows):
        sub = num.iloc[rows]
        out[rows] = (sub.ne("") & ~sub.str.fullmatch(r"[0-9A-Za-z\-]+").fillna(True).astype(bool)).to_numpy(bool)
    return out


def check(df: pd.DataFrame) -> pd.DataFrame:
    num, br = df["card_number"], df["card_branch"]
    bad_branch = ne_text(br, "") & per_distinct_values(br, lambda b: not (len(b) == 2 and b.isdigit()), False, bool)
    merged, _ = _split_like_source(df)
    bad_chars = _bad_chars(num) & ~flags(df, "is_fusho_claim")
    return concat_findings(
        [
            make_findings(
                df,
                merged,
                reads=_READS,
                category=CATEGORY,
                rule_id="CARD_BRANCH_IN_NUMBER",
                severity="error",
                expected=lambda d: _split_like_source(d)[1],
                actual=lambda d: "番号 " + text(d["card_number"]) + " 枝番 (空欄)",
                message=lambda d: (
                    "枝番が番号の末尾に入っています（番号「" + text(d["card_number"]) + "」、枝番が空欄）。"
                ),
                action="番号と枝番を分けて入力してください（枝番は番号の末尾2桁）。レセコンの出力設定も確認してください。",
            ),
            make_findings(
                df,
                bad_branch & ~merged,
                reads=_READS,
                category=CATEGORY,
                rule_id="CARD_BRANCH_FORM",
                severity="error",
                expected="2桁の数字（例: 00, 01）",
                actual=lambda d: "枝番 " + text(d["card_branch"]),
                message=lambda d: "枝番「" + text(d["card_branch"]) + "」が2桁の数字ではありません。",
                action="証に記載の枝番（2桁）を入力してください。",
            ),
            make_findings(
                df,
                bad_chars,
                reads=_READS,
                category=CATEGORY,
                rule_id="CARD_NUMBER_CHARS",
                severity="warning",
                expected="数字・英字",
                actual=lambda d: "番号 " + text(d["card_number"]),
                message=lambda d: "被保険者証の番号「" + text(d["card_number"]) + "」に使えない文字が含まれています。",
                action="証の番号を確認して入力し直してください。",
            ),
        ]
    )
