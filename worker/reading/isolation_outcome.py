"""What became of one file in the reader server (``worker.reading.isolation``), as the
clerk reads it: :class:`IsolatedFailure`, its Japanese message and its ``reason``
(``"error"``, ``"memory"``, ``"crashed"``, ``"timeout"``), decided from the server's report,
its exit status, its peak RSS and its stderr."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
from typing import Any, Final

__all__ = ["OOM_RSS_SHARE", "OWN_ERRORS", "IsolatedFailure", "raise_for_outcome"]

#: a SIGKILLed child whose peak RSS reached this share of the limit is counted as memory
OOM_RSS_SHARE: Final = 0.9

_MEMORY_MARKERS: Final = (
    "memory allocation of",  # Rust's default alloc error handler
    "MemoryError",
    "Cannot allocate memory",
    "std::bad_alloc",
    "out of memory",
    "Out of memory",
)
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff60]")


class IsolatedFailure(Exception):
    """str(exc) is a Japanese clerk-readable message;
    .reason in {"crashed","memory","timeout","error"}.

    ``exc_type`` is the name of the exception raised in the child (reason ``"error"`` or
    ``"memory"`` from ``MemoryError``), ``detail`` a technical description for logs
    (traceback, signal, stderr tail), ``exit_status`` the raw wait status (None when the
    child could not be started).
    """

    def __init__(
        self,
        message: str,
        reason: str,
        *,
        exc_type: str | None = None,
        detail: str = "",
        exit_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.exc_type = exc_type
        self.detail = detail
        self.exit_status = exit_status


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"シグナル{sig}"


def _mb(n: int) -> str:
    return f"{n / 1024**3:g}GB" if n >= 1024**3 and n % (1024**3) == 0 else f"{n // 1024**2}MB"


def _memory_failure(memory_bytes: int, detail: str, status: int | None, exc_type: str | None) -> IsolatedFailure:
    return IsolatedFailure(
        "ファイルの読み込みに必要なメモリが上限"
        f"（{_mb(memory_bytes)}）を超えたため中止しました。"
        "ファイルが大きすぎるか、シートに不要な範囲が含まれている可能性があります。"
        "不要なシート・行・列を削除するか、ファイルを分割してください。",
        "memory",
        exc_type=exc_type,
        detail=detail,
        exit_status=status,
    )


def raise_for_outcome(
    raw_report: bytes,
    status: int,
    peak_rss: int,
    stderr_tail: str,
    timed_out: bool,
    memory_bytes: int,
    timeout_s: float,
) -> None:
    report: dict[str, Any] = {}
    if raw_report:
        with contextlib.suppress(ValueError):
            loaded = json.loads(raw_report.decode("utf-8", "replace"))
            if isinstance(loaded, dict):
                report = loaded
    stderr_note = f"\n--- child stderr (tail) ---\n{stderr_tail}" if stderr_tail else ""

    if timed_out:
        raise IsolatedFailure(
            f"ファイルの読み込みが制限時間（{timeout_s:g}秒）内に終わらなかったため中止しました。"
            "ファイルを分割するか、不要なデータを削除してください。",
            "timeout",
            detail=f"killed after {timeout_s:g}s" + stderr_note,
            exit_status=status,
        )
    exited_ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    if report.get("ok") is True and exited_ok:
        return
    if report.get("ok") is False:
        exc_type = str(report.get("type") or "Exception")
        message = str(report.get("message") or "")
        detail = str(report.get("traceback") or f"{exc_type}: {message}") + stderr_note
        if exc_type == "MemoryError":
            raise _memory_failure(memory_bytes, detail, status, exc_type)
        raise IsolatedFailure(
            _error_message(exc_type, message), "error", exc_type=exc_type, detail=detail, exit_status=status
        )

    # No report: the child died or left without saying anything.
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        how = f"killed by {_signal_name(sig)}"
    else:
        sig = 0
        how = f"exited with status {os.WEXITSTATUS(status)} without a report"
    detail = f"{how}; peak RSS {peak_rss // 1024**2} MB{stderr_note}"
    if any(marker in stderr_tail for marker in _MEMORY_MARKERS) or (
        sig == signal.SIGKILL and peak_rss >= OOM_RSS_SHARE * memory_bytes
    ):
        raise _memory_failure(memory_bytes, detail, status, None)
    what = f"（{_signal_name(sig)}）" if sig else ""
    raise IsolatedFailure(
        f"ファイルの読み込み処理が異常終了しました{what}。"
        "ファイルが壊れているか、対応していない形式の可能性があります。"
        "Excelで開いて保存し直してから、もう一度お試しください。",
        "crashed",
        detail=detail,
        exit_status=status,
    )


#: the exceptions our readers raise with a message written for the clerk (any other's text
#: is a library's, even when it holds Japanese: a path, a cell)
OWN_ERRORS: Final = ("NativeFormatError", "UnreadableInputError")
#: exceptions of the workbook libraries (calamine through fastexcel, zipfile, the XML parser)
_WORKBOOK_ERRORS: Final = ("Calamine", "FastExcel", "BadZipFile", "ParseError", "XMLSyntaxError", "ArrowError")
_RETRY_ASK: Final = "Excelで開いて保存し直してから、もう一度実行してください。"
_VENDOR_ASK: Final = "解決しない場合はIT担当者（ベンダー）に連絡してください。"


def _error_message(exc_type: str, message: str) -> str:
    """The clerk's message for an exception of the reader: our own readers' words (Japanese)
    as they are, with what to do; a library's (English, may quote cells and paths) never —
    a Japanese message chosen by the kind of exception instead (the text goes to the
    developer log at debug level only, ``worker.reading.read``)."""
    text = " ".join(message.split())
    if len(text) > 300:
        text = text[:300] + "…"
    if exc_type in OWN_ERRORS and text and _JAPANESE.search(text):  # our own readers' words for the clerk
        ask = "" if "ください" in text else "正しいファイルを出力し直してから、もう一度実行してください。"
        return f"ファイルを読み込めませんでした：{text}{ask}"
    if any(k in exc_type for k in _WORKBOOK_ERRORS):
        return (
            "Excelファイルとして読み込めませんでした（壊れているか、対応していない形式です）。"
            "Excelで開いて「Excel ブック (*.xlsx)」形式で保存し直してから、もう一度実行してください。"
        )
    if exc_type in ("UnicodeDecodeError", "UnicodeError"):
        return (
            "ファイルの文字コードを判別できませんでした。"
            "UTF-8 または Shift_JIS（CP932）で保存し直してから、もう一度実行してください。"
        )
    unknown = "ファイルを読み込めませんでした（壊れているか、対応していない形式の可能性があります）。"
    return unknown + _RETRY_ASK + _VENDOR_ASK
