"""Sheets of a file the reader did not read, and why (issue 12: nothing dropped in silence).

The reader child (``worker.reading.extract``) lists them in its manifest under ``"unread"``
— one :class:`UnreadSheet` per sheet (a CSV is one sheet named ""): a sheet holding rows
whose header row it did not recognise, a damaged sheet of a workbook whose other sheets
read, a table beyond the row limit. The summary shows them (console, 概要, findings.json)
with :func:`unread_message`, a Japanese message saying what to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal, NotRequired, TypedDict

__all__ = ["HALF_READ_REASONS", "UNREAD_REASONS", "UnreadReason", "UnreadSheet", "unread_message"]

UnreadReason = Literal["no_header", "damaged", "too_many_rows"]
UNREAD_REASONS: Final[tuple[UnreadReason, ...]] = ("no_header", "damaged", "too_many_rows")
#: reasons that mean rows of a table were lost (the CLI ends with exit 2); a sheet without a
#: recognised header may hold no table at all (a cover sheet, a pivot): reported, not failed
HALF_READ_REASONS: Final = frozenset({"damaged", "too_many_rows"})

_NO_HEADER_ASK: Final = (
    "見出し行（患者ID・診療年月・保険者番号など）が見つかりません。"
    "照合する表なら、表の上に見出し行を入れてから、もう一度実行してください（表でなければ対応は不要です）。"
)


class UnreadSheet(TypedDict):
    """One sheet not read: its name ("" for a CSV), the rows holding something (None when
    unknown: a damaged sheet), and the reason (:data:`UNREAD_REASONS`); ``limit``: the row
    limit of a table refused for its size."""

    sheet: str
    rows: int | None
    reason: str
    limit: NotRequired[int]


def _where(sheet: str) -> str:
    return f"シート「{sheet}」" if sheet else "ファイル"


def _one(u: Mapping[str, Any]) -> str:
    sheet, rows, reason = str(u.get("sheet") or ""), u.get("rows"), u.get("reason")
    if reason == "damaged":
        return (
            f"{_where(sheet)}は壊れているため読み込めませんでした（ほかのシートは読み込みました）。"
            "Excelで開いて保存し直してから、もう一度実行してください。"
        )
    if reason == "too_many_rows":
        limit = int(u.get("limit") or 0)
        return (
            f"{_where(sheet)}の表は1つの表の上限（{limit:,}行）を超えるため読み込みませんでした。"
            "月ごと・保険の種類ごとなどにファイルを分けてから、もう一度実行してください。"
        )
    counted = f"の{int(rows):,}行" if rows is not None else ""
    return f"{_where(sheet)}{counted}は読み込みませんでした：{_NO_HEADER_ASK}"


def unread_message(sheets: Iterable[Mapping[str, Any]]) -> str:
    """The clerk's message for the sheets not read of one file (Japanese, with what to do)."""
    return "".join(_one(u) for u in sheets)
