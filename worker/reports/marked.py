"""Reading back a correction list the clerk marked: the 状態 and メモ of every line of
「指摘一覧」 (and 「指摘一覧(2)」 … of a split list), by the findings' keys in the hidden
column 「キー」.

Columns are found by their header text, never by position, so a clerk may move, sort or
filter the lines, delete some (their findings keep no status) or type a status by hand
(「対応済 」, full-width spaces, 「対応済み」 all read as 対応済). A status that is none of
``CLERK_STATUSES`` is ignored with a warning naming the sheet and row. A file without a
「指摘一覧」 sheet whose header holds 「キー」 and 「状態」 is refused (:class:`NotMarkedListError`,
a Japanese message): it is not a henrei correction list.

The lines are kept too (keys, patient, 区分, 内容), so that the next run can list the
previous findings that are gone as 解消 (``worker.reports.carry``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from python_calamine import CalamineWorkbook

from worker.engine.keys import CLERK_STATUSES
from worker.reports.clerk_list import KEY_SEP
from worker.reports.formats import FINDINGS_SHEET, KEY_HEADER, STATUS_HEADER, SUMMARY_SHEET
from worker.reports.marked_sheet import NotMarkedListError, cell, fold, get, header, keys_in, open_marked, peek

__all__ = [
    "MEMO_HEADER",
    "MarkedLine",
    "MarkedList",
    "NotMarkedListError",
    "is_marked_list",
    "normalise_status",
    "read_marked",
]

MEMO_HEADER: Final = "メモ"
_PATIENT: Final = "患者ID"
_CATEGORY: Final = "区分"
_CONTENT: Final = "内容"
_CODES: Final = "区分コード"
_PERIOD_LABEL: Final = "対象期間"
_REQUIRED: Final = (KEY_HEADER, STATUS_HEADER)
_SHEET: Final = re.compile(re.escape(FINDINGS_SHEET) + r"(?:\((\d+)\))?")
#: hand-typed forms of a status besides the status itself (after NFKC, without spaces)
_ALIASES: Final = {"対応済み": "対応済", "済": "対応済", "完了": "対応済", "対象外です": "対象外"}


@dataclass(frozen=True)
class MarkedLine:
    """A line of the marked list: its findings' keys, the clerk's status and memo, and what
    the 概要 of the next run shows when the findings are gone."""

    keys: tuple[str, ...]
    status: str | None  # None: blank or not a status
    memo: str
    patient_id: str
    categories: str  # the 区分 text as shown (one per line)
    codes: tuple[str, ...]  # 区分コード, in the order of keys ("" when unknown)
    content: str


@dataclass(frozen=True)
class MarkedList:
    """What a marked correction list holds: its lines, the period of its run (「概要」's
    対象期間, "" when not found) and warnings (Japanese) about what was ignored."""

    name: str
    lines: tuple[MarkedLine, ...]
    period: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def statuses(self) -> dict[str, tuple[str, str]]:
        """{finding key: (status, memo)} of every line with a status or a memo (a line's
        status applies to each of its keys; a line without a readable status counts as 未対応)."""
        out: dict[str, tuple[str, str]] = {}
        for line in self.lines:
            if line.status is None and not line.memo:
                continue
            for key in line.keys:
                out[key] = (line.status or CLERK_STATUSES[0], line.memo)
        return out

    def keys(self) -> set[str]:
        return {k for line in self.lines for k in line.keys}


def normalise_status(text: str) -> str | None:
    """A status as typed (width, spaces, 「対応済み」) as one of ``CLERK_STATUSES``; None if it is none."""
    folded = fold(text)
    folded = _ALIASES.get(folded, folded)
    return folded if folded in CLERK_STATUSES else None


def _sheet_order(name: str) -> int | None:
    m = _SHEET.fullmatch(name.strip())
    if m is None:
        return None
    return int(m.group(1) or 1)


def is_marked_list(path: Path) -> bool:
    """Whether ``path`` looks like a henrei correction list (a 「指摘一覧」 sheet with the
    「キー」 and 「状態」 headers); never raises for a file it cannot open."""
    return peek(path, lambda n: _sheet_order(n) is not None, _REQUIRED)


def read_marked(path: Path, name: str | None = None) -> MarkedList:
    """The marked list at ``path`` (``name``: the file name shown in messages)."""
    shown = name or path.name
    not_ours = (
        f"「{shown}」は henrei の訂正リスト（corrections.xlsx）ではありません"
        f"（「{FINDINGS_SHEET}」シートの「{KEY_HEADER}」列が見つかりません）。"
        "henrei が作った訂正リストを指定してください。"
    )
    wb = open_marked(path, shown, not_ours)
    sheets = sorted((n for n in wb.sheet_names if _sheet_order(n) is not None), key=lambda n: _sheet_order(n) or 0)
    lines: list[MarkedLine] = []
    warnings: list[str] = []
    found = False
    for sheet in sheets:
        rows = list(wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False))
        head = header(rows, _REQUIRED)
        if head is None:
            continue
        found = True
        at, cols = head
        for r, row in enumerate(rows[at + 1 :], start=at + 2):
            line = _line(row, cols)
            if line is None:
                continue
            raw = cell(get(row, cols.get(STATUS_HEADER)))
            if raw and line.status is None:
                warnings.append(
                    f"「{sheet}」{r}行目の状態「{raw}」は使えないため読み飛ばしました"
                    f"（{'・'.join(CLERK_STATUSES)} のどれかにしてください）。"
                )
            lines.append(line)
    if not found:
        raise NotMarkedListError(not_ours)
    return MarkedList(shown, tuple(lines), _period(wb), tuple(warnings))


def _line(row: Sequence[object], cols: dict[str, int]) -> MarkedLine | None:
    keys = keys_in(cell(get(row, cols[KEY_HEADER])), KEY_SEP)
    if not keys:
        return None  # a blank line, or one the clerk added: nothing to carry
    raw = cell(get(row, cols.get(STATUS_HEADER)))
    codes = [c.strip() for c in cell(get(row, cols.get(_CODES))).split(KEY_SEP)]
    return MarkedLine(
        keys=keys,
        status=normalise_status(raw) if raw else None,
        memo=cell(get(row, cols.get(MEMO_HEADER))),
        patient_id=cell(get(row, cols.get(_PATIENT))),
        categories=cell(get(row, cols.get(_CATEGORY))),
        codes=tuple(codes) if len(codes) == len(keys) else ("",) * len(keys),
        content=cell(get(row, cols.get(_CONTENT))),
    )


def _period(wb: CalamineWorkbook) -> str:
    """「概要」's 対象期間 ("" when the sheet or the label is gone)."""
    if SUMMARY_SHEET not in wb.sheet_names:
        return ""
    for row in wb.get_sheet_by_name(SUMMARY_SHEET).to_python(nrows=40):
        cells = [cell(v) for v in row]
        if _PERIOD_LABEL in cells:
            i = cells.index(_PERIOD_LABEL)
            return next((c for c in cells[i + 1 :] if c), "")
    return ""
