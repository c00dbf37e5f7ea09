"""What a run read, per claim month, and which checks could not run for want of a table.

A month's rows: receipts and returns by their 診療年月, online results by their 照会日 (a
receipt is linked to the checks of its own claim month, ``worker.engine.link``); card
records carry no month and are linked by patient, so a month counts the card records of
the patients with a receipt in it. Rows without a month count under ``""``.

Warnings: no receipts at all — nothing was checked (the CLI exits 2); a month with
receipts but no online results, or no card records, or neither, names the categories whose
checks compare with what is missing (``NEEDS`` of the rule modules,
``rules.registry.NEEDED_BY``). Months with the same gap share one warning. Computed once,
as data, when the inputs are read (``worker.engine.pipeline.read_inputs``), and carried
in ``RunInfo``/``RunSummary``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from rules.registry import CATEGORY_LABELS_JA, CATEGORY_LIST, NEEDED_BY
from worker.engine.results import MonthRead, RunWarning
from worker.reading import TABLE_KINDS, TABLE_LABELS_JA

__all__ = ["NO_MONTH_JA", "WARNED_KINDS", "months_text", "read_by_month", "refuse_big_months", "run_warnings"]

#: the kinds of table a month with receipts is warned about when it lacks them
WARNED_KINDS: Final[tuple[str, ...]] = ("online", "cards")
NO_MONTH_JA: Final = "診療年月なし"
_NAT: Final = int(np.datetime64("NaT", "M").astype("int64"))

#: by kind: (what the checks compare with, what to add)
_HOW_JA: Final[Mapping[str, tuple[str, str]]] = {
    "online": ("オンライン資格確認", "一括照会の結果などのオンライン資格確認の結果"),
    "cards": ("券面", "資格確認書・高齢受給者証などの券面情報の記録"),
}


def _month_keys(dates: pd.Series) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Each date's month as months since 1970-01 (NaT stays the smallest int64): cheap to
    count over a large month."""
    d = pd.to_datetime(dates, errors="coerce").to_numpy(dtype="datetime64[ns]")
    return d.astype("datetime64[M]").astype("int64")


def _month_text(key: int) -> str:
    return "" if key == _NAT else str(np.datetime64(key, "M"))


def _month_counts(dates: pd.Series) -> dict[str, int]:
    """Rows per month ("YYYY-MM"; "" for no date)."""
    keys, counts = np.unique(_month_keys(dates), return_counts=True)
    return {_month_text(int(k)): int(n) for k, n in zip(keys, counts, strict=True)}


def read_by_month(tables: Mapping[str, pd.DataFrame]) -> list[MonthRead]:
    """Rows per claim month and table kind, months in order (``""`` last)."""
    receipts = tables["receipts"]
    by_kind: dict[str, dict[str, int]] = {
        "receipts": _month_counts(receipts["claim_month"]),
        "online": _month_counts(tables["online"]["checked_on"]),
        "returns": _month_counts(tables["returns"]["claim_month"]),
    }
    months = sorted(set().union(*by_kind.values()), key=lambda m: (m == "", m))
    # card records of each month's patients: patient IDs as integer codes shared by both tables
    card_ids = tables["cards"]["patient_id"].astype(str)
    card_ids = card_ids[card_ids.ne("")]
    codes, uniques = pd.factorize(pd.concat([receipts["patient_id"].astype(str), card_ids], ignore_index=True))
    receipt_codes, card_codes = codes[: len(receipts)], codes[len(receipts) :]
    cards_of = np.bincount(card_codes, minlength=len(uniques))
    keys = _month_keys(receipts["claim_month"])
    cards = {_month_text(int(k)): int(cards_of[np.unique(receipt_codes[keys == k])].sum()) for k in np.unique(keys)}
    out = []
    for m in months:
        rows: dict[str, int] = {k: by_kind[k].get(m, 0) for k in TABLE_KINDS if k != "cards"}
        rows["cards"] = int(cards.get(m, 0))
        out.append(MonthRead(month=m, rows={k: rows[k] for k in TABLE_KINDS}))
    return out


def months_text(months: Sequence[str]) -> str:
    """「2026-09、2026-10」 (``""`` as 診療年月なし)."""
    return "、".join(m or NO_MONTH_JA for m in months)


def _labels(categories: Sequence[str]) -> str:
    return "、".join(CATEGORY_LABELS_JA[c] for c in categories)


def _no_receipts(totals: Mapping[str, int]) -> RunWarning:
    read = [TABLE_LABELS_JA[k] for k in TABLE_KINDS if totals.get(k)]
    what = f"読み込んだ表：{'、'.join(read)}" if read else "読み込める表がありませんでした"
    return RunWarning(
        missing=("receipts",),
        months=(),
        checks=tuple(c.name for c in CATEGORY_LIST if c.stage != "input"),
        message=(
            f"レセプト一覧が見つかりません（{what}）。レセプトの点検はできませんでした。"
            "レセコンから出力したレセプト一覧（Excel または CSV）を追加して、もう一度実行してください。"
        ),
    )


def run_warnings(read: Sequence[MonthRead]) -> list[RunWarning]:
    """The run's warnings: no receipts at all; or, per set of kinds missing, the months with
    receipts that lack them (a month lacking both gets one warning naming both)."""
    totals: dict[str, int] = {k: sum(m.rows.get(k, 0) for m in read) for k in TABLE_KINDS}
    if not totals["receipts"]:
        return [_no_receipts(totals)]
    gaps: dict[tuple[str, ...], list[str]] = {}
    for m in read:
        missing = tuple(k for k in WARNED_KINDS if not m.rows.get(k))
        if m.month and m.rows.get("receipts") and missing:
            gaps.setdefault(missing, []).append(m.month)
    out = []
    for missing, months in gaps.items():
        checks = tuple(c for c in CATEGORY_LABELS_JA if any(c in NEEDED_BY[k] for k in missing))
        tables = "・".join(TABLE_LABELS_JA[k] for k in missing)
        compared = "・".join(_HOW_JA[k][0] for k in missing)
        add = "と、".join(_HOW_JA[k][1] for k in missing)
        message = (
            f"{months_text(months)} 診療分の{tables}がないため、次の点検（{compared}との照合）が"
            f"できませんでした：{_labels(checks)}。{add}（Excel または CSV）を追加して、もう一度実行してください。"
        )
        out.append(RunWarning(missing=missing, months=tuple(months), checks=checks, message=message))
    return out


def refuse_big_months(receipts: pd.DataFrame, limit: int) -> tuple[pd.DataFrame, list[RunWarning]]:
    """The receipts without those of the claim months holding more than ``limit``
    (``HENREI_MAX_ROWS_PER_MONTH``), and one warning per month refused: it is not checked
    (its receipts are missing: the CLI exits 2)."""
    keys = _month_keys(receipts["claim_month"])
    months, counts = np.unique(keys, return_counts=True)
    over = months[(counts > limit) & (months != _NAT)]
    if not over.size:
        return receipts, []
    warnings = [
        RunWarning(
            missing=("receipts",),
            months=(_month_text(int(k)),),
            checks=tuple(c.name for c in CATEGORY_LIST if c.stage != "input"),
            message=(
                f"{_month_text(int(k))} 診療分のレセプトが{int(n):,}件あり、1か月の上限（{limit:,}件）を超えるため"
                "点検しませんでした。診療科・保険の種類ごとなどにファイルを分けて、別々に実行してください。"
            ),
        )
        for k, n in zip(months, counts, strict=True)
        if k in over
    ]
    return receipts[~np.isin(keys, over)].reset_index(drop=True), warnings
