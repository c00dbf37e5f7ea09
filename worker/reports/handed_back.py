"""The lists a clerk hands back to the next run (``henrei reconcile --previous``): the
marked correction list (corrections.xlsx) and the marked settlement list
(窓口精算リスト.xlsx), each recognised by its content, or a previous run's output folder
holding them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from worker.reports.marked import MarkedList, NotMarkedListError, read_marked
from worker.reports.settlement import SETTLEMENT_NAME
from worker.reports.settlement_marks import SettlementMarks, is_settlement_list, read_settlement_marks
from worker.reports.write import XLSX_NAME

__all__ = ["HandedBack", "read_handed_back"]


@dataclass(frozen=True)
class HandedBack:
    """What the clerk handed back: the marked correction list, the marked settlement list
    (either may be None)."""

    marked: MarkedList | None = None
    settled: SettlementMarks | None = None

    def warnings(self) -> list[tuple[str, str]]:
        """(which list, warning) of both lists, Japanese."""
        out = [("前回の訂正リスト", w) for w in (self.marked.warnings if self.marked else ())]
        out += [("前回の窓口精算リスト", w) for w in (self.settled.warnings if self.settled else ())]
        return out


def _files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    found = [path / name for name in (XLSX_NAME, SETTLEMENT_NAME) if (path / name).is_file()]
    if not found:
        raise NotMarkedListError(
            f"フォルダ「{path.name}」に前回の {XLSX_NAME} も {SETTLEMENT_NAME} もありません。"
            "前回の出力フォルダか、状態を付けたファイルを指定してください。"
        )
    return found


def read_handed_back(paths: Sequence[Path]) -> HandedBack:
    """Read each of ``paths`` (a file, or a folder holding the lists) as the list it is;
    ``NotMarkedListError`` (Japanese) for a file that is neither, or two of one kind."""
    marked: MarkedList | None = None
    settled: SettlementMarks | None = None
    for path in (f for p in paths for f in _files(p)):
        if is_settlement_list(path):
            if settled is not None:
                two = f"「{settled.name}」と「{path.name}」"
                raise NotMarkedListError(f"窓口精算リストが2つ指定されています（{two}）。")
            settled = read_settlement_marks(path)
        else:
            if marked is not None:
                raise NotMarkedListError(f"訂正リストが2つ指定されています（「{marked.name}」と「{path.name}」）。")
            marked = read_marked(path)
    return HandedBack(marked, settled)
