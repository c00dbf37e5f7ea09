"""「概要」's block 「解消した指摘」: the findings of the previous (marked) correction list
that this run no longer found — fixed, or gone from the inputs — with their count and a
short list (患者ID, 区分, 内容), so that nothing the clerk worked on disappears silently."""

from __future__ import annotations

from typing import Final

import pandas as pd
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from worker.reports.carry import Carried
from worker.reports.excel_safe import clean, put_text
from worker.reports.formats import Formats
from worker.reports.row_height import row_heights

__all__ = ["MAX_RESOLVED_SHOWN", "RESOLVED_TITLE", "write_resolved"]

RESOLVED_TITLE: Final = "解消した指摘"
#: lines of the previous list listed on 「概要」 (the rest are counted; findings.json has all)
MAX_RESOLVED_SHOWN: Final = 50
#: widths of the block's columns: A 患者ID, B 区分, C–F (merged) 内容
_WIDTHS: Final = (44.0, 20.0, 56.0)


def write_resolved(ws: Worksheet, f: Formats, r: int, carried: Carried | None) -> int:
    """The block from row ``r`` (nothing without a previous list); the next free row."""
    if carried is None or not carried.source:
        return r
    p = f.plain_run

    def text(row: int, col: int, value: object, fmt: Format) -> None:
        put_text(ws, row, col, clean(value), fmt, p)

    r += 1
    text(r, 0, RESOLVED_TITLE, f.section)
    r += 1
    if not carried.compared:
        text(r, 0, carried.note, f.note)
        return r + 1
    text(r, 0, "前回の訂正リスト", f.label)
    text(r, 1, carried.source, f.value)
    r += 1
    text(r, 0, "解消した指摘の件数（前回の一覧の行）", f.label)
    ws.write_number(r, 1, len(carried.resolved), f.value_int)
    r += 1
    if not carried.resolved:
        text(r, 0, "前回の指摘は、すべて今回も見つかりました（解消した指摘はありません）。", f.note)
        return r + 1
    text(r, 0, "前回の訂正リストにあり、今回は見つからなかった指摘です（直したため、または今回の入力にない", f.note)
    r += 1
    text(r, 0, "ため）。今回の指摘一覧には出ていません。", f.note)
    r += 1
    ws.merge_range(r, 2, r, 5, "", f.header)
    for c, h in enumerate(("患者ID", "区分", "内容")):
        text(r, c, h, f.header)
    r += 1
    for line in carried.resolved[:MAX_RESOLVED_SHOWN]:
        cells = (line.patient_id or "（なし）", line.categories, line.content)
        (height,) = row_heights([(pd.Series([clean(t)]), w) for t, w in zip(cells, _WIDTHS, strict=True)], 1)
        if height is not None:
            ws.set_row(r, height)
        text(r, 0, cells[0], f.cell_wrap)
        text(r, 1, cells[1], f.cell_wrap)
        ws.merge_range(r, 2, r, 5, "", f.cell_wrap)
        text(r, 2, cells[2], f.cell_wrap)
        r += 1
    rest = len(carried.resolved) - MAX_RESOLVED_SHOWN
    if rest > 0:
        text(r, 0, f"ほか {rest:,}件（すべては findings.json の resolved にあります）。", f.note)
        r += 1
    return r
