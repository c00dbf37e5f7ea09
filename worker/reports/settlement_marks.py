"""Reading back a settlement list (窓口精算リスト.xlsx) the clerk marked: the 状態 and メモ of
each claim, by the finding key in the hidden column 「キー」.

As with the correction list (``worker.reports.marked``), columns are found by header
text, lines may be sorted, filtered or deleted, and a status typed by hand
(「返金済み」, full-width spaces) is read; one that is none of ``SETTLEMENT_STATUSES`` is
ignored with a warning naming the row. A workbook without a 「窓口精算」 sheet whose header
holds 「キー」 and 「状態」 is refused (:class:`NotMarkedListError`, Japanese).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from worker.reports.clerk_list import KEY_SEP
from worker.reports.formats import KEY_HEADER, STATUS_HEADER
from worker.reports.marked_sheet import NotMarkedListError, cell, fold, get, header, keys_in, open_marked, peek
from worker.reports.settlement import SETTLEMENT_NAME, SETTLEMENT_STATUSES, SHEET

__all__ = ["SettlementMarks", "is_settlement_list", "normalise_settlement_status", "read_settlement_marks"]

_MEMO: Final = "メモ"
_REQUIRED: Final = (KEY_HEADER, STATUS_HEADER)
#: hand-typed forms besides the statuses themselves (after NFKC, without spaces)
_ALIASES: Final = {"返金済み": "返金済", "返金しました": "返金済", "徴収済み": "徴収済", "徴収しました": "徴収済"}


@dataclass(frozen=True)
class SettlementMarks:
    """The marks of a settlement list: {finding key: (status, memo)} for each line with a
    status or a memo, and warnings (Japanese) about what was ignored."""

    name: str
    marks: Mapping[str, tuple[str, str]]
    warnings: tuple[str, ...] = field(default_factory=tuple)


def normalise_settlement_status(text: str) -> str | None:
    """A status as typed as one of ``SETTLEMENT_STATUSES``; None if it is none."""
    folded = fold(text)
    folded = _ALIASES.get(folded, folded)
    return folded if folded in SETTLEMENT_STATUSES else None


def _is_sheet(name: str) -> bool:
    return name.strip() == SHEET


def is_settlement_list(path: Path) -> bool:
    """Whether ``path`` looks like a henrei settlement list; never raises."""
    return peek(path, _is_sheet, _REQUIRED)


def read_settlement_marks(path: Path, name: str | None = None) -> SettlementMarks:
    """The marks of the settlement list at ``path`` (``name``: the file name shown)."""
    shown = name or path.name
    not_ours = (
        f"「{shown}」は henrei の窓口精算リスト（{SETTLEMENT_NAME}）ではありません"
        f"（「{SHEET}」シートの「{KEY_HEADER}」列が見つかりません）。"
    )
    wb = open_marked(path, shown, not_ours)
    sheet = next((n for n in wb.sheet_names if _is_sheet(n)), None)
    if sheet is None:
        raise NotMarkedListError(not_ours)
    rows = list(wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False))
    head = header(rows, _REQUIRED)
    if head is None:
        raise NotMarkedListError(not_ours)
    at, cols = head
    marks: dict[str, tuple[str, str]] = {}
    warnings: list[str] = []
    for r, row in enumerate(rows[at + 1 :], start=at + 2):
        keys = keys_in(cell(get(row, cols[KEY_HEADER])), KEY_SEP)
        if not keys:
            continue  # the totals line, a blank line or one the clerk added
        raw, memo = cell(get(row, cols[STATUS_HEADER])), cell(get(row, cols.get(_MEMO)))
        status = normalise_settlement_status(raw) if raw else None
        if raw and status is None:
            warnings.append(
                f"「{sheet}」{r}行目の状態「{raw}」は使えないため読み飛ばしました"
                f"（{'・'.join(SETTLEMENT_STATUSES)} のどれかにしてください）。"
            )
        if status is None and not memo:
            continue
        for key in keys:
            marks[key] = (status or SETTLEMENT_STATUSES[0], memo)
    return SettlementMarks(shown, marks, tuple(warnings))
