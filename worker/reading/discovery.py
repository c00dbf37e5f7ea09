"""Which files a run reads: folders expanded, spreadsheet and CSV files by their suffix.

Nothing in a folder given is passed over in silence when it looks like an input: a path
with an input suffix that is not a regular file — a device, a FIFO, a socket, a link whose
target is gone, a link to a folder named ``….xlsx`` (not walked into) — is reported with its
reason (a folder named so is walked into like any other) (a
:class:`FileProblem`, shown on the console, in 概要 and findings.json). Names are shown with
:func:`worker.terminal.safe_name` (undecodable bytes as ``\\xNN``, control characters
escaped). Lock files (``~$…``) and hidden files (``.…``) are still left out.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from worker.reading.tables import FileProblem
from worker.terminal import safe_name

__all__ = ["CSV_SUFFIXES", "EXCEL_SUFFIXES", "NATIVE_SUFFIXES", "SUFFIXES", "discover", "is_request", "skipped_reason"]

EXCEL_SUFFIXES: Final = {".xlsx", ".xlsm", ".xls", ".ods"}
CSV_SUFFIXES: Final = {".csv", ".txt"}
_REQUEST: Final = re.compile(r"(^|/)(req/|OQS[a-z0-9]*req)", re.IGNORECASE)
#: the clinic systems' own files (``worker.reading.native``; the kind is still told by content)
NATIVE_SUFFIXES: Final = frozenset({".uke", ".hen", ".sah", ".xml", ".zip"})
#: and the files the clinic's systems write (UKE/HEN/SAH, result XML, zip), told by content
SUFFIXES: Final = EXCEL_SUFFIXES | CSV_SUFFIXES | NATIVE_SUFFIXES

_ASK: Final = "ファイルそのものをフォルダに置いてから、もう一度実行してください。"


def is_request(path: str) -> bool:
    """A request file the eligibility terminal reads (``req/``, ``OQS…req_…``), not a result."""
    return bool(_REQUEST.search(path.replace("\\", "/")))


def skipped_reason(p: Path) -> str | None:
    """Why ``p`` (a path with an input suffix) is no file to read (Japanese), or None."""
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        return f"リンク先のファイルがありません（壊れたリンク）。{_ASK}"
    except OSError as exc:
        return f"ファイルの情報を読めません（{exc.strerror or exc.__class__.__name__}）。{_ASK}"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):  # a folder itself is walked into; a link to one is not
        return (
            f"フォルダへのリンク（名前が {p.suffix} で終わっています）のため、中は読み込みませんでした。"
            "フォルダそのものを指定してください。"
        )
    kind = "名前付きパイプ（FIFO）" if stat.S_ISFIFO(mode) else "ソケット" if stat.S_ISSOCK(mode) else "装置ファイル"
    return f"ファイルではなく{kind}のため読み込みませんでした。{_ASK}"


def _candidates(folder: Path) -> list[Path]:
    # the eligibility terminal's request files (req/, OQS…req_…) are no input: left out
    return sorted(
        f
        for f in folder.rglob("*")
        if f.suffix.lower() in SUFFIXES
        and not f.name.startswith(("~$", "."))
        and not is_request(f.relative_to(folder).as_posix())
    )


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[FileProblem]]:
    """Expand folders (recursively) into readable files; report paths that are not."""
    files: list[Path] = []
    problems: list[FileProblem] = []
    for p in paths:
        if p.is_dir():
            for f in _candidates(p):
                if f.is_dir() and not f.is_symlink():
                    continue  # a folder named like a file (month.xlsx): its files are among the candidates
                reason = skipped_reason(f)
                if reason is None:
                    files.append(f)
                else:
                    problems.append(FileProblem(safe_name(f), reason))
        elif p.is_file():
            if p.suffix.lower() in SUFFIXES:
                files.append(p)
            else:
                problems.append(
                    FileProblem(
                        safe_name(p),
                        f"対応していない形式です（{safe_name(p.suffix) or '拡張子なし'}）。"
                        "Excel（.xlsx/.xls）・CSV、またはレセプト電算処理ファイル（.UKE/.HEN/.SAH）・資格確認結果（.xml/.zip）を指定してください。",
                    )
                )
        elif p.exists() or p.is_symlink():
            problems.append(FileProblem(safe_name(p), skipped_reason(p) or "ファイルを読み込めません。"))
        else:
            problems.append(FileProblem(safe_name(p), "ファイルまたはフォルダが見つかりません。"))
    return files, problems
