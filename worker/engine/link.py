"""Link each receipt to its online result and its card record (by patient ID).

- Online: the check nearest on or before the service date within the claim month; the
  latest check in the claim month when there is no service date or no check before it.
- Card: among the patient's card records, the one valid on the service date (or the
  claim month when there is none), preferring one that carries a 負担割合, then the
  newest (発効期日, 交付年月日). An old 健康保険証 counts as valid only until 2026-03-31
  (``rules.domain.cards.effective_until``), so a 資格確認書 in force wins over it.

The result has the receipt's own columns plus ``on_*`` and ``cd_*`` columns; a receipt
with no online result or no card has NA there. Everything is joins and sorts on whole
columns.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from rules.domain.cards import card_kind, effective_until
from rules.domain.codes import MatchMethod
from rules.domain.names import kana_readings, name_readings, names_match

#: what a receipt takes of its online result and its card (not their origin: no rule cites
#: it, and a million receipts would carry ~110 MB of it)
ONLINE_FIELDS = (
    "checked_on", "validity", "insurer_no", "card_symbol", "card_number", "card_branch",
    "relation", "name", "name_kana", "sex", "birth_date", "online_ratio", "limit_category",
    "ecert_expiry", "card_valid_until", "address",
)  # fmt: skip
CARD_FIELDS = (
    "doc_type", "insurer_no", "card_symbol", "card_number", "card_branch", "relation",
    "name", "name_kana", "sex", "birth_date", "card_ratio", "effective_from",
    "card_valid_until", "issued_on", "limit_category", "address",
)  # fmt: skip
#: (kind, a source table) -> what is kept of it once its columns are taken (``link_stacked``)
Keep = Callable[[str, pd.DataFrame], pd.DataFrame]


def _patient_keys(receipts: pd.Series, other: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer keys of two columns of patient IDs (as text): equal IDs, equal keys, so the
    joins compare integers, not a million strings on each side."""
    codes, _ = pd.factorize(pd.concat([receipts.astype(str), other.astype(str)], ignore_index=True))
    return codes[: len(receipts)], codes[len(receipts) :]


def _month_start(s: pd.Series) -> pd.Series:
    return s.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")


def link_online(receipts: pd.DataFrame, online: pd.DataFrame) -> pd.Series:
    """For each receipt (by index), the index label of its online result, or -1."""
    result = pd.Series(-1, index=receipts.index, dtype="int64")
    if online.empty or receipts.empty:
        return result
    o = online[["patient_id", "checked_on"]]  # the columns needed, then the rows: not a copy of the table
    o = o.loc[o["patient_id"].ne("") & o["checked_on"].notna()]
    r_key, o_key = _patient_keys(receipts["patient_id"], o["patient_id"])
    o = pd.DataFrame(
        {
            "patient_id": o_key,
            "_month": _month_start(o["checked_on"]),
            "checked_on": o["checked_on"],
            "_oi": o.index.to_numpy(dtype="int64"),
        }
    ).sort_values(["checked_on", "_oi"], kind="stable")
    r = pd.DataFrame(
        {
            "patient_id": r_key,
            "_month": receipts["claim_month"].astype("datetime64[ns]"),
            "service_date": receipts["service_date"].astype("datetime64[ns]"),
            "_ri": receipts.index.to_numpy(dtype="int64"),
        }
    )
    dated = r.loc[r["service_date"].notna() & r["_month"].notna()].sort_values("service_date")
    if len(dated):
        asof = pd.merge_asof(
            dated,
            o,
            left_on="service_date",
            right_on="checked_on",
            by=["patient_id", "_month"],
            direction="backward",
        )
        hit = asof["_oi"].notna()
        result.loc[asof.loc[hit, "_ri"].to_numpy()] = asof.loc[hit, "_oi"].astype("int64").to_numpy()
    latest = o.drop_duplicates(["patient_id", "_month"], keep="last")
    rest = r.loc[result.reindex(r["_ri"]).to_numpy() == -1]
    if len(rest):
        m = rest.merge(latest[["patient_id", "_month", "_oi"]], on=["patient_id", "_month"], how="inner")
        result.loc[m["_ri"].to_numpy()] = m["_oi"].to_numpy(dtype="int64")
    return result


def link_cards(receipts: pd.DataFrame, cards: pd.DataFrame) -> pd.Series:
    """For each receipt (by index), the index label of its card record, or -1."""
    result = pd.Series(-1, index=receipts.index, dtype="int64")
    if cards.empty or receipts.empty:
        return result
    on = receipts["service_date"].fillna(receipts["claim_month"]).astype("datetime64[ns]")
    c = cards[["patient_id", "doc_type", "card_valid_until", "effective_from", "issued_on", "card_ratio"]]
    c = c.loc[c["patient_id"].ne("")]  # the columns needed, then the rows: not a copy of the table
    r_key, c_key = _patient_keys(receipts["patient_id"], c["patient_id"])
    r = pd.DataFrame({"patient_id": r_key, "_on": on, "_ri": receipts.index})
    # an old 健康保険証 is in force until the end of the provisional period at most
    until = effective_until(card_kind(c["doc_type"]), c["card_valid_until"].astype("datetime64[ns]"))
    c = pd.DataFrame(
        {
            "patient_id": c_key,
            "_from": c["effective_from"].astype("datetime64[ns]"),
            "_until": until,
            "_newest": c["effective_from"].fillna(c["issued_on"]).astype("datetime64[ns]"),
            "_has_ratio": c["card_ratio"].notna(),
            "_ci": c.index,
        }
    )
    m = r.merge(c, on="patient_id", how="inner")
    if m.empty:
        return result
    started = m["_from"].isna() | m["_on"].isna() | (m["_from"] <= m["_on"])
    not_over = m["_until"].isna() | m["_on"].isna() | (m["_until"] >= m["_on"])
    m["_score"] = (
        (started & not_over).astype("int64") * 4 + started.astype("int64") * 2 + m["_has_ratio"].astype("int64")
    )
    m = m.sort_values(["_ri", "_score", "_newest", "_ci"], ascending=[True, False, False, False])
    best = m.drop_duplicates("_ri", keep="first")
    result.loc[best["_ri"].to_numpy()] = best["_ci"].to_numpy(dtype="int64")
    return result


def _take(table: pd.DataFrame, fields: tuple[str, ...], at: pd.Series, prefix: str) -> pd.DataFrame:
    """Columns of ``table`` at the linked labels ``at`` (-1: no link, NA of the right dtype)."""
    present = [f for f in fields if f in table]
    src = table[present].reindex(at.to_numpy())
    src.index = at.index
    return src.rename(columns={f: prefix + f.lstrip("_") for f in present})


def link(receipts: pd.DataFrame, online: pd.DataFrame, cards: pd.DataFrame) -> pd.DataFrame:
    """Receipts with their linked online result (``on_*``) and card (``cd_*``)."""
    return link_stacked({"receipts": receipts, "online": online, "cards": cards})


def link_stacked(tables: dict[str, pd.DataFrame], keep: Keep | None = None) -> pd.DataFrame:
    """``link`` on the typed tables by kind. With ``keep``, each source's entry in ``tables``
    becomes ``keep(kind, table)`` as soon as its columns are taken, so what is not kept goes
    before the next source is taken (when ``tables`` holds the only reference)."""
    receipts = tables["receipts"]
    none = pd.Series(-1, index=receipts.index)
    oi = link_online(receipts, tables["online"]) if len(tables["online"]) else none
    ci = link_cards(receipts, tables["cards"]) if len(tables["cards"]) else none
    taken = []
    for kind, fields, at, prefix in (("online", ONLINE_FIELDS, oi, "on_"), ("cards", CARD_FIELDS, ci, "cd_")):
        taken.append(_take(tables[kind], fields, at, prefix))
        if keep is not None:
            tables[kind] = keep(kind, tables[kind])
    out = pd.concat([receipts, *taken], axis=1)
    out["on_linked"] = oi.to_numpy() >= 0
    out["cd_linked"] = ci.to_numpy() >= 0
    return out


#: How a return was matched to its claim, strongest first (labels: ``MatchMethod.label_ja``).
RETURN_MATCH_METHODS: tuple[MatchMethod, ...] = tuple(MatchMethod)


def _first_match(left: pd.DataFrame, right: pd.DataFrame, on: list[str]) -> pd.Series:
    """For each left row (``_ri``), the first right row (``_ci``) equal on ``on``."""
    lk = left.dropna(subset=on)
    lk = lk[(lk[on].astype(str) != "").all(axis=1)]
    m = lk[["_ri", *on]].merge(right[["_ci", *on]], on=on, how="inner")
    m = m.sort_values(["_ri", "_ci"]).drop_duplicates("_ri")
    return pd.Series(m["_ci"].to_numpy(), index=m["_ri"].to_numpy(), dtype="int64")


def _name_match(returns: pd.DataFrame, receipts: pd.DataFrame) -> pd.Series:
    """Match on birth date + sex (+ claim month when known) and a folded name: kana or kanji
    equal as ``rules.domain.names`` folds them (width, long-vowel look-alikes, spaces, 異体字,
    ● as a wildcard), each distinct name folded once."""
    r = returns.loc[returns["birth_date"].notna()]
    if r.empty:
        return pd.Series(dtype="int64")
    cand = r[["_ri", "birth_date", "sex", "claim_month", "name", "name_kana"]].merge(
        receipts[["_ci", "birth_date", "sex", "claim_month", "name", "name_kana"]],
        on="birth_date",
        suffixes=("", "_c"),
    )
    sex_ok = cand["sex"].isna() | cand["sex_c"].isna() | cand["sex"].eq(cand["sex_c"])
    month_ok = cand["claim_month"].isna() | cand["claim_month"].eq(cand["claim_month_c"])
    cand = cand[sex_ok & month_ok]
    if cand.empty:
        return pd.Series(dtype="int64")
    kana = names_match(cand["name_kana"], cand["name_kana_c"], kana_readings)
    kanji = names_match(cand["name"], cand["name_c"], name_readings)
    hit = cand[kana | kanji]
    hit = hit.sort_values(["_ri", "_ci"]).drop_duplicates("_ri")
    return pd.Series(hit["_ci"].to_numpy(), index=hit["_ri"].to_numpy(), dtype="int64")


def link_returns(returns: pd.DataFrame, receipts: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Match every return to its original claim among the uploaded months.

    Tried in order: receipt (search) number within the claim month; patient ID and claim
    month; claim month + insurer number + 番号; kana name + birth date + sex with ●, 異体字
    and width folded. Returns (claim index label or -1, method key or "") per return.
    """
    claim = pd.Series(-1, index=returns.index, dtype="int64")
    method = pd.Series("", index=returns.index, dtype="object")
    if returns.empty or receipts.empty:
        return claim, method
    r = returns.assign(_ri=returns.index)
    c = receipts.assign(_ci=receipts.index)
    attempts = {
        MatchMethod.RECEIPT_NO: lambda left: _first_match(left, c, ["receipt_no", "claim_month"]),
        MatchMethod.PATIENT_MONTH: lambda left: _first_match(left, c, ["patient_id", "claim_month"]),
        MatchMethod.INSURER_NUMBER: lambda left: _first_match(left, c, ["claim_month", "insurer_no", "card_number"]),
        MatchMethod.KANA_BIRTH_SEX: lambda left: _name_match(left, c),
    }
    for key in RETURN_MATCH_METHODS:
        left = r.loc[claim.reindex(r.index).to_numpy() == -1]
        if left.empty:
            break
        found = attempts[key](left)
        if len(found):
            claim.loc[found.index] = found.to_numpy()
            method.loc[found.index] = str(key)
    return claim, method


def latest_online_after(claims: pd.DataFrame, online: pd.DataFrame, after: pd.Series) -> pd.Series:
    """For each claim row, the index label of the patient's latest online check after ``after``
    (a later re-check shows whether a new insurer is registered now), or -1."""
    result = pd.Series(-1, index=claims.index, dtype="int64")
    if online.empty or claims.empty:
        return result
    o = online.loc[online["patient_id"].ne("") & online["checked_on"].notna(), ["patient_id", "checked_on"]]
    o = o.assign(_oi=o.index).sort_values("checked_on").drop_duplicates("patient_id", keep="last")
    m = pd.DataFrame({"patient_id": claims["patient_id"], "_after": after, "_ri": claims.index}).merge(
        o, on="patient_id", how="inner"
    )
    m = m[m["checked_on"] > m["_after"]]
    result.loc[m["_ri"].to_numpy()] = m["_oi"].to_numpy(dtype="int64")
    return result
