"""Normalise raw text tables into typed columns; unreadable values become findings.

Data flows read -> **normalise** -> link -> rules. Every table kind gets the same
treatment per field; a value that cannot be read is blanked (so rules ignore it) and
reported as an ``input_invalid`` finding naming file, sheet, row, column and value.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from rules import make_findings
from worker.normalise import dates as d
from worker.normalise import values as v
from worker.reading import RawTable, TableKind

Parser = Callable[[pd.Series], tuple[pd.Series, pd.Series]]

#: fields parsed with an invalid mask (these can produce input_invalid)
CHECKED: dict[str, Parser] = {
    "claim_month": d.parse_months,
    "return_month": d.parse_months,
    "service_date": d.parse_dates,
    "birth_date": d.parse_dates,
    "checked_on": d.parse_dates,
    "ecert_expiry": d.parse_dates,
    "card_valid_until": d.parse_dates,
    "effective_from": d.parse_dates,
    "issued_on": d.parse_dates,
    "sex": v.parse_sex,
    "relation": v.parse_relation,
    "validity": v.parse_validity,
    "limit_category": v.parse_limit,
    "billed_ratio": v.parse_burden,
    "online_ratio": v.parse_burden,
    "card_ratio": v.parse_burden,
    "benefit_ratio": v.parse_benefit,
    "days": v.parse_numbers,
    "points": v.parse_numbers,
    "copay_collected": v.parse_numbers,
}

#: fields cleaned without an invalid mask
CLEANED: dict[str, Callable[[pd.Series], pd.Series]] = {
    "patient_id": v.parse_ids,
    "insurer_no": v.parse_insurer,
    "card_symbol": v.parse_card,
    "card_number": v.parse_card,
    "card_branch": v.parse_branch,
    "receipt_no": v.parse_ids,
}

_EXPECTED_FORM: dict[str, str] = {
    "claim_month": "年月（2026-10、R8.10、令和8年10月など）",
    "return_month": "年月（2026-10、R8.10、令和8年10月など）",
    "sex": "1/2 または 男/女",
    "relation": "本人/家族 または 1/2",
    "validity": "有効/無効/無効（新しい資格あり）/該当資格なし/複数該当 または 1〜5",
    "limit_category": "ア〜オ、現役並みⅢ〜Ⅰ、一般Ⅱ、一般Ⅰ、低所得Ⅱ/Ⅰ または A01〜B10",
    "billed_ratio": "負担割合 1割・2割・3割（3、30、0.3、30% も可）",
    "online_ratio": "負担割合 1割・2割・3割（3、30、0.3、30% も可）",
    "card_ratio": "負担割合 1割・2割・3割（3、30、0.3、30% も可）",
    "benefit_ratio": "給付割合 7割・8割・9割（70、0.7 も可）",
    "days": "数値",
    "points": "数値",
    "copay_collected": "金額（数値）",
}
_DATE_FORM = "日付（2026-10-01、R8.10.1、令和8年10月1日など）"
#: the month fields (a 和暦 month outside its era is refused like a date)
_MONTH_FIELDS = frozenset({"claim_month", "return_month"})
#: the date and month fields, whose 和暦 values may lie outside their era (R1.4.1, H32.1.1)
_ERA_FIELDS = frozenset(f for f, p in CHECKED.items() if p in (d.parse_dates, d.parse_months))

#: A date that cannot be later than another date of its row (checked in this order; a
#: reference that is itself impossible or missing checks nothing):
#: - 診療日 after the end of the claim month: a claim bills the visits of its month;
#: - 生年月日 after the end of the claim month, after the 診療日, or after the online
#:   check (照会日): nobody is seen or checked before being born.
#: Dates that are normally in the future stay unchecked: 有効期限, 電子証明書有効期限, a
#: 発効期日 issued in advance, and a 患者連絡日 in the 摘要 (contact follows the visit).
NOT_AFTER: tuple[tuple[str, str], ...] = (
    ("service_date", "claim_month"),
    ("birth_date", "claim_month"),
    ("birth_date", "service_date"),
    ("birth_date", "checked_on"),
)
_REFERENCE_LABEL = {"claim_month": "診療年月", "service_date": "診療日", "checked_on": "照会日"}

#: text columns every normalised table has (empty when absent from the file)
TEXT_FIELDS = (
    "patient_id", "name", "name_kana", "insurer_no", "card_symbol", "card_number",
    "card_branch", "tekiyo", "confirmation_method", "visit_type", "special_notes",
    "doc_type", "receipt_no", "reason_code", "reason", "note", "address",
)  # fmt: skip


def _empty_like(parse: Parser, n: int, index: pd.Index) -> pd.Series:
    """An all-missing column of the dtype ``parse`` produces (for a field the file lacks)."""
    one, _ = parse(pd.Series([None], dtype="object"))
    return pd.Series(np.repeat(one.to_numpy(), n), index=index, dtype=one.dtype)


def empty_table(kind: TableKind) -> pd.DataFrame:
    """A normalised table with no rows (every column present), for a missing table kind."""
    frame = pd.DataFrame({"_row": pd.Series(dtype="int64")})
    typed, _ = normalise(RawTable(kind=kind, file="", sheet="", frame=frame))
    return typed


#: the fields that say which month a row belongs to (a receipt's claim, an online check's date)
MONTH_FIELDS: dict[str, Parser] = {"claim_month": d.parse_months, "checked_on": d.parse_dates}


def months_of(table: RawTable) -> set[str]:
    """The months ("YYYY-MM") of a table's rows, read from its month fields alone
    (what :func:`normalise` would give there, without normalising the rest)."""
    months: set[str] = set()
    for f, parse in MONTH_FIELDS.items():
        if f in table.frame and len(table.frame):
            values, _ = parse(table.frame[f])
            months |= set(values.dropna().dt.strftime("%Y-%m"))
    return months


def normalise(table: RawTable) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed table (canonical columns, ``_file``/``_sheet``/``_row``) and its input findings."""
    raw = table.frame
    out = pd.DataFrame(index=raw.index)
    out["_file"] = table.file
    out["_sheet"] = table.sheet
    out["_row"] = raw["_row"].astype("int64")
    findings: list[pd.DataFrame] = []
    # the fields the file lacks share one blank column per dtype (columns are never
    # written in place), not a million-row array each
    absent: dict[Parser | None, pd.Series] = {}
    for f in TEXT_FIELDS:
        if f in CLEANED and f in raw:
            out[f] = CLEANED[f](raw[f]).fillna("")
        elif f in raw:
            out[f] = v.parse_text(raw[f])
        else:
            if None not in absent:
                absent[None] = pd.Series("", index=out.index, dtype="str")
            out[f] = absent[None]
    invalid_by_field: dict[str, pd.Series] = {}
    for f, parse in CHECKED.items():
        if f not in raw:
            if parse not in absent:
                absent[parse] = _empty_like(parse, len(out), out.index)
            out[f] = absent[parse]
            continue
        values, invalid = parse(raw[f])
        out[f] = values
        if invalid.any():
            invalid_by_field[f] = invalid
    if "benefit_ratio" in out:
        # a 給付割合 column is the billed ratio in 負担 terms (DOMAIN §3)
        br = out["billed_ratio"] if "billed_ratio" in out else pd.Series(float("nan"), index=out.index)
        out["billed_ratio"] = br.fillna(out["benefit_ratio"])
    base = out[["_file", "_sheet", "_row", "patient_id", "claim_month"]]
    for f, invalid in invalid_by_field.items():
        findings.append(_unreadable(table, base, f, invalid))
    for f, ref, after in _after_reference(out):
        findings.append(_after_finding(table, base, out, f, ref, after))
        out[f] = out[f].mask(after)
    missing_id = out["patient_id"].eq("") & (table.kind != "returns")
    if missing_id.any():
        header = table.headers.get("patient_id", "患者ID")
        findings.append(
            make_findings(
                base,
                missing_id,
                category="input_invalid",
                rule_id="input_invalid.patient_id",
                severity="error",
                expected="患者ID",
                actual=f"「{header}」列: 空欄",
                message=f"「{header}」が空欄のため、この行を他の表と照合できません。",
                action="レセコンで患者IDを確認し、入力して出力し直してください。",
            )
        )
    if table.problems:
        findings.append(_line_problems(table))
    return out, pd.concat(findings, ignore_index=True) if findings else pd.DataFrame()


def _line_problems(table: RawTable) -> pd.DataFrame:
    """``input_invalid`` findings for the lines of a UKE/HEN/XML file no row came from
    (an unknown record, a short record, a missing GO record …), naming file and line."""
    p = pd.DataFrame(table.problems)
    base = pd.DataFrame(
        {"_file": table.file, "_sheet": table.sheet, "_row": p["line"].astype("int64"), "patient_id": ""},
        index=p.index,
    )
    base["claim_month"] = pd.Series(pd.NaT, index=p.index, dtype="datetime64[ns]")
    return make_findings(
        base,
        np.ones(len(p), dtype=bool),
        category="input_invalid",
        rule_id="input_invalid.record",
        severity="error",
        expected="記録条件仕様どおりのレコード",
        actual="「" + p["column"].astype(str) + "」: " + p["value"].astype(str),
        message=p["message"].astype(str),
        action="レセコン・資格確認端末から出力し直し、直らなければレセコンの業者に問い合わせてください。",
    )


def _unreadable(table: RawTable, base: pd.DataFrame, f: str, invalid: pd.Series) -> pd.DataFrame:
    """``input_invalid`` findings for the values of field ``f`` no form reads.

    A 和暦 date or month outside its era says why (「令和は2019年5月1日からです」).
    """
    header = table.headers.get(f, f)
    raw = table.frame.loc[invalid.to_numpy(), f]  # the texts of these rows only, not of every row
    value = raw.astype("object").astype(str)
    form = _EXPECTED_FORM.get(f, _DATE_FORM)
    reason = pd.Series("", index=raw.index, dtype="object")
    if f in _ERA_FIELDS:
        reason = d.era_span_problems(raw, month=f in _MONTH_FIELDS)
    out_of_era = reason.ne("")
    nothing = "年月" if f in _MONTH_FIELDS else "日付"
    return make_findings(
        base,
        invalid,
        category="input_invalid",
        rule_id=f"input_invalid.{f}",
        severity="error",
        expected=(form + "。" + reason).where(out_of_era, form),
        actual=f"「{header}」列: " + value,
        message=(f"「{header}」列の値「" + value + f"」は存在しない{nothing}です（" + reason + "）。").where(
            out_of_era, f"「{header}」列の値「" + value + "」を読み取れません。"
        ),
        action=f"元のデータの「{header}」を正しい値（{form}）に直して出力し直してください。",
    )


def _after_reference(out: pd.DataFrame) -> list[tuple[str, str, pd.Series]]:
    """(field, reference, mask) per ``NOT_AFTER`` pair: the rows whose ``field`` is later
    than their ``reference`` (a claim month: its last day). Each value is reported once,
    and a value found impossible is no reference for the pairs after it."""
    found: list[tuple[str, str, pd.Series]] = []
    seen: dict[str, np.ndarray] = {}
    bounds: dict[str, np.ndarray] = {}
    for f, ref in NOT_AFTER:
        if ref not in bounds:
            bounds[ref] = out[ref].to_numpy(dtype="datetime64[ns]")
            if ref in _MONTH_FIELDS:
                bounds[ref] = _next_month(bounds[ref])
        bound = bounds[ref]
        if ref in seen:
            bound = np.where(seen[ref], np.datetime64("NaT", "ns"), bound)
        value = out[f].to_numpy(dtype="datetime64[ns]")
        after = value >= bound if ref in _MONTH_FIELDS else value > bound  # NaT compares False
        if f in seen:
            after &= ~seen[f]
        if after.any():
            found.append((f, ref, pd.Series(after, index=out.index)))
            seen[f] = seen[f] | after if f in seen else after
    return found


def _next_month(months: np.ndarray) -> np.ndarray:
    """The first day of the month after each month, computed once per distinct month."""
    codes, uniques = pd.factorize(months)
    following = (np.asarray(uniques, dtype="datetime64[ns]").astype("datetime64[M]") + 1).astype("datetime64[ns]")
    return np.append(following, np.datetime64("NaT", "ns"))[codes]


def _after_finding(
    table: RawTable, base: pd.DataFrame, out: pd.DataFrame, f: str, ref: str, after: pd.Series
) -> pd.DataFrame:
    """``input_invalid`` findings for values of ``f`` later than ``ref`` on their row."""
    header = table.headers.get(f, f)
    ref_header = table.headers.get(ref, _REFERENCE_LABEL[ref])
    month = ref in _MONTH_FIELDS
    bound = "の末日" if month else ""

    def said(d: pd.DataFrame) -> pd.Series:
        value = table.frame.loc[d.index, f].astype(str)
        r = out.loc[d.index, ref]
        when = r.dt.year.astype(str) + "年" + r.dt.month.astype(str) + "月" if month else r.dt.strftime("%Y-%m-%d")
        return f"「{header}」列の値「" + value + f"」は「{ref_header}」（" + when + "）より後の日付です。"

    return make_findings(
        base,
        after,
        category="input_invalid",
        rule_id=f"input_invalid.{f}",
        severity="error",
        expected=f"「{ref_header}」{bound}以前の日付",
        actual=lambda d: f"「{header}」列: " + table.frame.loc[d.index, f].astype(str),
        message=said,
        action=f"元のデータの「{header}」と「{ref_header}」を確かめ、正しい日付に直して出力し直してください。",
    )
