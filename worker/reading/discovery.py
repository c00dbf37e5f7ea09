"""Which files a run reads: folders expanded, spreadsheet and CSV files by their suffix."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Final

from worker.reading.tables import FileProblem

__all__ = ["CSV_SUFFIXES", "EXCEL_SUFFIXES", "SUFFIXES", "discover"]

EXCEL_SUFFIXES: Final = {".xlsx", ".xlsm", ".xls", ".ods"}
CSV_SUFFIXES: Final = {".csv", ".txt"}
SUFFIXES: Final = EXCEL_SUFFIXES | CSV_SUFFIXES


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[FileProblem]]:
    """Expand folders (recursively) into readable files; report paths that are not."""
    files: list[Path] = []
    problems: list[FileProblem] = []
    for p in paths:
        if p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.is_file() and f.suffix.lower() in SUFFIXES and not f.name.startswith(("~$", "."))
            )
            files.extend(found)
        elif p.is_file():
            if p.suffix.lower() in SUFFIXES:
                files.append(p)
            else:
                problems.append(
                    FileProblem(
                        str(p),
                        f"対応していない形式です（{p.suffix or '拡張子なし'}）。"
                        "Excel（.xlsx/.xls）またはCSVで出力してください。",
                    )
                )
        else:
            problems.append(FileProblem(str(p), "ファイルまたはフォルダが見つかりません。"))
    return files, problems
