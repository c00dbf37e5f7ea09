"""The association side: import submissions and count them into the survey's tables.

``import_submissions`` reads files and folders (every ``*.json`` below a folder), refuses
a bad file with its reason (the others are still imported) and keeps the latest
submission per clinic+month (``created_at``, then the hash: importing the same files
again, or an older copy, changes nothing). ``survey_tables`` counts them in the shape of
the 保団連 questionnaire (seeds/004): 問2 区分, 問3 あった, 問4 per item (the categories of
CONTRACT §2's survey column), 負担割合の齟齬 by 国保/社保/後期, 問7 10割, 問8 返戻, by
prefecture, by clinic type and by month — each a :class:`~worker.survey.suppression.Grid`
of true values, suppressed when published.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from worker.survey.schema import CLINIC_TYPES, PREFECTURES, Submission, SubmissionError, decode_envelope
from worker.survey.suppression import CellKind, Grid

__all__ = [
    "ITEMS",
    "Imported",
    "Rejected",
    "SurveyData",
    "import_submissions",
    "survey_data",
    "survey_tables",
]

#: 問4 items: (key, label as the questionnaire writes it, categories counted) — CONTRACT §2.
ITEMS: Final[tuple[tuple[str, str, tuple[str, ...]], ...]] = (
    ("not_found", "該当の被保険者番号がない", ("eligibility_not_found",)),
    ("invalid", "資格情報の無効がある", ("eligibility_invalid",)),
    ("name", "名前や住所の間違い", ("name_mismatch",)),
    ("masked", "名前や住所で●が表記される", ("masked_characters",)),
    ("ratio", "負担割合の齟齬", ("ratio_online_vs_card", "ratio_billed_vs_verified", "ratio_implausible_for_age")),
    ("limit", "限度額認定に誤り等があった", ("limit_category_mismatch",)),
    ("identity", "他人の情報が紐づけられていた", ("identity_mismatch",)),
    ("ecert", "マイナ保険証の期限切れ", ("ecert_expired",)),
    ("other", "その他（保険者の変更の未反映等）", ("insurer_changed",)),
)
_ITEM_OF: Final = {c: key for key, _, cats in ITEMS for c in cats}
_LABEL: Final = {key: label for key, label, _ in ITEMS}
NO_ANSWER: Final = "無回答"
TOTAL: Final = "計"
RATIO_KINDS: Final = ("国保", "社保", "後期")
RETURN_CLASSES: Final = (
    ("eligibility", "資格"),
    ("fusho", "不詳 記載不備"),
    ("ratio", "負担割合"),
    ("other", "その他"),
    ("unmatched", "元のレセプトが見つからない"),
)


@dataclass(frozen=True)
class Rejected:
    path: str
    reason: str


@dataclass(frozen=True)
class Imported:
    submissions: list[Submission]
    rejected: list[Rejected]
    #: files read that an equal or later submission of the same clinic+month replaced
    superseded: int


def _files(paths: Iterable[Path]) -> Iterable[str]:
    """Every file given, and every ``*.json`` below a folder given (os.walk: Path.rglob is
    several times slower over 100,000 files)."""
    for p in paths:
        if p.is_dir():
            for root, dirs, names in os.walk(p):
                dirs.sort()
                yield from (os.path.join(root, n) for n in sorted(names) if n.endswith(".json"))
        else:
            yield str(p)


def _read(path: str) -> bytes:
    with open(path, "rb", buffering=0) as fh:
        return fh.read()


def import_submissions(paths: Iterable[Path]) -> Imported:
    """Every submission of ``paths`` validated; the latest per clinic+month kept."""
    latest: dict[tuple[str, str], tuple[tuple[object, str], Submission]] = {}
    rejected: list[Rejected] = []
    read = 0
    for path in _files(paths):
        data = _read_or_error(path)
        if isinstance(data, bytes):
            read += _take(path, data, latest, rejected)
        else:
            rejected.append(Rejected(path, "ファイルを読めません"))
    subs = [s for _, s in sorted(latest.values(), key=lambda v: (v[1].clinic, v[1].month))]
    return Imported(subs, rejected, read - len(subs))


def _read_or_error(path: str) -> bytes | OSError:
    try:
        return _read(path)
    except OSError as exc:
        return exc


def _take(
    path: str,
    data: bytes,
    latest: dict[tuple[str, str], tuple[tuple[object, str], Submission]],
    rejected: list[Rejected],
) -> int:
    """Validate one file's bytes and keep it if it is the latest of its clinic+month; 1 when valid."""
    try:
        env = decode_envelope(data)
    except SubmissionError as exc:
        rejected.append(Rejected(path, str(exc)))
        return 0
    sub = env.submission
    key = (sub.clinic, sub.month)
    order = (sub.created_at, env.sha256)
    if key not in latest or order > latest[key][0]:
        latest[key] = (order, sub)
    return 1


@dataclass(frozen=True)
class SurveyData:
    """The submissions as columns: ``clinic_months`` (one row per submission) and ``events``
    (one row per count: ``sub`` the submission's row, ``item`` the 問4 item or "")."""

    clinic_months: pd.DataFrame
    events: pd.DataFrame

    @property
    def months(self) -> list[str]:
        return sorted(self.clinic_months["month"].unique().tolist())


def survey_data(subs: Sequence[Submission]) -> SurveyData:
    cm = pd.DataFrame(
        {
            "clinic": [s.clinic for s in subs],
            "month": [s.month for s in subs],
            "prefecture": [s.prefecture or NO_ANSWER for s in subs],
            "clinic_type": [s.clinic_type or NO_ANSWER for s in subs],
            "receipts": np.fromiter((s.receipts for s in subs), dtype=np.int64, count=len(subs)),
            "full_cases": np.fromiter((s.full_charge.cases for s in subs), dtype=np.int64, count=len(subs)),
            "full_yen": np.fromiter((s.full_charge.refund_yen for s in subs), dtype=np.int64, count=len(subs)),
            **{
                f"ret_{k}": np.fromiter((getattr(s.returns, k) for s in subs), dtype=np.int64, count=len(subs))
                for k, _ in RETURN_CLASSES
            },
        }
    )
    sub_ix = [i for i, s in enumerate(subs) for _ in s.counts]
    ev = pd.DataFrame(
        {
            "sub": np.asarray(sub_ix, dtype=np.int64),
            "category": [c.category for s in subs for c in s.counts],
            "insurance_kind": [c.insurance_kind for s in subs for c in s.counts],
            "events": np.fromiter((c.events for s in subs for c in s.counts), dtype=np.int64, count=len(sub_ix)),
        }
    )
    ev["item"] = ev["category"].map(_ITEM_OF).fillna("")
    return SurveyData(cm, ev)


def _grid(
    values: pd.DataFrame,
    events: pd.DataFrame,
    clinics: pd.DataFrame,
    kinds: dict[str, CellKind],
    *,
    total_row: str | None = None,
    additive: Sequence[str] = (),
    row_sums: Sequence[tuple[Sequence[str], str]] = (),
) -> Grid:
    def fit(df: pd.DataFrame) -> pd.DataFrame:
        return df.reindex(index=values.index, columns=values.columns).fillna(0).astype("int64")

    return Grid(fit(values), fit(events), fit(clinics), kinds, total_row, additive, row_sums)


def _with_total(df: pd.DataFrame, total: pd.Series) -> pd.DataFrame:
    return pd.concat([df, total.to_frame(TOTAL).T]).astype("int64")


def survey_tables(data: SurveyData, months: Sequence[str] | None = None) -> dict[str, Grid]:
    """The survey's tables for ``months`` (all when None), by key."""
    cm, ev = data.clinic_months, data.events
    if months is not None:
        keep = cm["month"].isin(list(months)).to_numpy()
        ev = ev[keep[ev["sub"].to_numpy()]]
        cm = cm[keep]
    ev = ev.assign(clinic=cm["clinic"].reindex(ev["sub"].to_numpy()).to_numpy())
    # one row per clinic: its latest prefecture and type, and its answers
    clinics = cm.sort_values("month").groupby("clinic", sort=True)[["prefecture", "clinic_type"]].last()
    item_events = ev[ev["item"].ne("")].pivot_table(
        index="clinic", columns="item", values="events", aggfunc="sum", fill_value=0
    )
    item_events = item_events.reindex(index=clinics.index, columns=[k for k, _, _ in ITEMS]).fillna(0).astype("int64")
    per_clinic = cm.groupby("clinic")[["receipts", "full_cases", "full_yen", *[f"ret_{k}" for k, _ in RETURN_CLASSES]]]
    sums = per_clinic.sum().reindex(clinics.index).fillna(0).astype("int64")
    had = item_events.gt(0)
    answered = pd.Series(1, index=clinics.index)
    trouble = had.any(axis=1).astype("int64")
    returned = sums[[f"ret_{k}" for k, _ in RETURN_CLASSES]].sum(axis=1)
    tables: dict[str, Grid] = {}

    # 問2 × 問3: clinics by type, with and without trouble
    def by(group: pd.Series, order: Sequence[str]) -> pd.DataFrame:
        frame = pd.DataFrame({"回答医療機関": answered, "あった": trouble, "なかった": 1 - trouble})
        for key, _, _ in ITEMS:
            frame[_LABEL[key]] = had[key].astype("int64")
        out = frame.groupby(group.to_numpy()).sum()
        present = [o for o in order if o in out.index] + sorted(set(out.index) - set(order))
        out = out.reindex(present)
        return _with_total(out, frame.sum())

    types = by(clinics["clinic_type"], (*CLINIC_TYPES, NO_ANSWER))
    tables["by_type"] = _grid(
        types, types, types, dict.fromkeys(types.columns, "clinics"),
        total_row=TOTAL, additive=list(types.columns), row_sums=[(["あった", "なかった"], "回答医療機関")],
    )  # fmt: skip
    prefs = by(clinics["prefecture"], (*PREFECTURES, NO_ANSWER))
    tables["by_prefecture"] = _grid(
        prefs, prefs, prefs, dict.fromkeys(prefs.columns, "clinics"),
        total_row=TOTAL, additive=list(prefs.columns), row_sums=[(["あった", "なかった"], "回答医療機関")],
    )  # fmt: skip

    # 問4: per item, clinics that had it and events
    n_answered = int(answered.sum())
    rows = [_LABEL[k] for k, _, _ in ITEMS]
    items = pd.DataFrame(
        {"あった医療機関": had.sum().to_numpy(), "件数": item_events.sum().to_numpy()}, index=rows
    ).astype("int64")
    clinics_cell = pd.DataFrame({"あった医療機関": items["あった医療機関"], "件数": items["あった医療機関"]})
    tables["items"] = _grid(items, items, clinics_cell, {"あった医療機関": "clinics", "件数": "events"})

    # 負担割合の齟齬 by insurance kind (the questionnaire's 国保・社保・後期高齢; the rest together)
    ratio = ev[ev["item"].eq("ratio")]
    kind = ratio["insurance_kind"].where(ratio["insurance_kind"].isin(RATIO_KINDS), "その他（公費・不詳・不明）")
    k_events = ratio.groupby(kind.to_numpy())["events"].sum()
    positive = ratio["events"].gt(0).to_numpy()
    k_clinics = ratio[positive].groupby(kind.to_numpy()[positive])["clinic"].nunique()
    order = [*RATIO_KINDS, "その他（公費・不詳・不明）"]
    kinds = pd.DataFrame({"あった医療機関": k_clinics.reindex(order), "件数": k_events.reindex(order)}).fillna(0)
    kinds = _with_total(
        kinds.astype("int64"), pd.Series({"あった医療機関": int(had["ratio"].sum()), "件数": int(k_events.sum())})
    )
    kinds_clinics = pd.DataFrame({"あった医療機関": kinds["あった医療機関"], "件数": kinds["あった医療機関"]})
    tables["ratio_kinds"] = _grid(
        kinds, kinds, kinds_clinics, {"あった医療機関": "clinics", "件数": "events"}, total_row=TOTAL, additive=["件数"]
    )

    # 問7 一旦10割負担 and 問8 返戻: clinics with and without, cases
    def yes_no(flag: pd.Series, cases: pd.Series, yen: pd.Series | None, yes: str, no: str) -> Grid:
        n_yes = int(flag.sum())
        values = pd.DataFrame({"医療機関": [n_yes, n_answered - n_yes], "件数": [int(cases.sum()), 0]}, index=[yes, no])
        if yen is not None:
            values["金額（円）"] = [int(yen.sum()), 0]
        values = _with_total(values, values.sum())
        basis = pd.DataFrame({c: values["医療機関"] for c in values.columns})
        kinds_: dict[str, CellKind] = {c: "events" for c in values.columns}
        kinds_["医療機関"] = "clinics"
        return _grid(values, values.assign(**{"金額（円）": values["件数"]}) if yen is not None else values, basis,
                     kinds_, total_row=TOTAL, additive=["医療機関"])  # fmt: skip

    tables["full_charge"] = yes_no(
        sums["full_cases"].gt(0), sums["full_cases"], sums["full_yen"], "一旦10割負担を患者に請求した", "なかった"
    )
    tables["returns"] = yes_no(returned.gt(0), returned, None, "返戻があった", "ない")
    ret = pd.DataFrame(
        {
            "医療機関": [int(sums[f"ret_{k}"].gt(0).sum()) for k, _ in RETURN_CLASSES],
            "件数": [int(sums[f"ret_{k}"].sum()) for k, _ in RETURN_CLASSES],
        },
        index=[label for _, label in RETURN_CLASSES],
    )
    ret = _with_total(ret, pd.Series({"医療機関": int(returned.gt(0).sum()), "件数": int(returned.sum())}))
    ret_basis = pd.DataFrame({"医療機関": ret["医療機関"], "件数": ret["医療機関"]})
    tables["returns_by_class"] = _grid(
        ret, ret, ret_basis, {"医療機関": "clinics", "件数": "events"}, total_row=TOTAL, additive=["件数"]
    )

    # the monthly trend: clinics submitting, receipts, events per item
    m_ev = ev[ev["item"].ne("")].assign(month=cm["month"].reindex(ev.loc[ev["item"].ne(""), "sub"]).to_numpy())
    m_events = m_ev.pivot_table(index="month", columns="item", values="events", aggfunc="sum", fill_value=0)
    pos = m_ev[m_ev["events"].gt(0)]
    m_clinics = pos.pivot_table(index="month", columns="item", values="clinic", aggfunc="nunique", fill_value=0)
    month_rows = sorted(cm["month"].unique())
    item_cols = [k for k, _, _ in ITEMS]
    m_events = m_events.reindex(index=month_rows, columns=item_cols).fillna(0).astype("int64")
    m_clinics = m_clinics.reindex(index=month_rows, columns=item_cols).fillna(0).astype("int64")
    head = cm.groupby("month").agg(提出医療機関=("clinic", "nunique"), レセプト件数=("receipts", "sum"))
    head = head.reindex(month_rows)
    values = pd.concat([head, m_events.rename(columns=_LABEL)], axis=1)
    values = _with_total(values, pd.Series({"提出医療機関": len(clinics), "レセプト件数": int(cm["receipts"].sum()),
                                            **{_LABEL[k]: int(item_events[k].sum()) for k in item_cols}}))  # fmt: skip
    basis = pd.concat(
        [pd.DataFrame({"提出医療機関": head["提出医療機関"], "レセプト件数": head["提出医療機関"]}),
         m_clinics.rename(columns=_LABEL)], axis=1,
    )  # fmt: skip
    basis = _with_total(basis, pd.Series({"提出医療機関": len(clinics), "レセプト件数": len(clinics),
                                          **{_LABEL[k]: int(had[k].sum()) for k in item_cols}}))  # fmt: skip
    kinds_m: dict[str, CellKind] = {"提出医療機関": "clinics", "レセプト件数": "volume"}
    kinds_m.update({_LABEL[k]: "events" for k in item_cols})
    tables["monthly"] = _grid(
        values, values, basis, kinds_m, total_row=TOTAL, additive=["レセプト件数", *[_LABEL[k] for k in item_cols]]
    )
    return tables
