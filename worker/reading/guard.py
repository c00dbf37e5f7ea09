"""Pre-parse safety checks for uploaded files (pure standard library, fast).

``check_file`` looks at a file *before* any spreadsheet library touches it and raises
:class:`UnsafeFileError` (with a Japanese message a clerk can act on) when the file is empty,
too large, not what its extension says, damaged, a decompression bomb, or a workbook whose
used range would make a reader allocate an absurd grid.

What is checked, per type:

``.xlsx`` / ``.xlsm`` (``worker.reading.zip_guard``)
    * a zip archive whose directory, declared sizes and local headers are sane (an OLE2
      file here means a password-protected or renamed ``.xls``);
    * **every** entry is inflated through a bounded stream that never trusts the declared
      size and checks the length and the CRC at the end;
    * every worksheet (``xl/worksheets/*.xml``) is scanned while it is inflated for the
      largest row and column that actually hold a cell (``worker.reading.sheet_range``);
      more than ``max_columns`` columns, more than ``max_rows`` rows or a ``rows x cols``
      grid above ``max_cells`` is refused.

``.xls``
    size and the OLE2 signature (text/HTML "Excel" exports and renamed ``.xlsx`` files get a
    specific message).

``.csv`` (also ``.tsv``/``.txt``)
    size, and no NUL byte in the first 64 KiB (UTF-16 text and renamed workbooks get a
    specific message).

The ``<dimension>`` header is reported by :func:`sheet_extents` but never trusted (see
``worker.reading.sheet_range``). The limits, the error and the wording of the messages are in ``worker.reading.unsafe``.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Final

from worker.reading.unsafe import (
    MSG_NOT_EXCEL,
    OLE_MAGIC,
    ZIP_LOCAL_MAGIC,
    KiB,
    Limits,
    SheetExtent,
    UnsafeFileError,
    column_letters,
    size_text,
)
from worker.reading.zip_guard import check_xlsx

__all__ = [
    "Limits",
    "SheetExtent",
    "UnsafeFileError",
    "check_file",
    "column_letters",
    "sheet_extents",
]

XLSX_SUFFIXES: Final = frozenset({".xlsx", ".xlsm"})
XLS_SUFFIXES: Final = frozenset({".xls"})
TEXT_SUFFIXES: Final = frozenset({".csv", ".tsv", ".txt", ".uke", ".hen", ".sah", ".xml"})
#: a zip of the eligibility terminal's result XMLs: every entry through the zip guard
ZIP_SUFFIXES: Final = frozenset({".zip"})

#: the limits when the caller gives none (frozen: one shared instance)
DEFAULT_LIMITS: Final = Limits()

#: bytes at the start of a text file inspected for NUL bytes
TEXT_SNIFF_BYTES: Final = 64 * KiB


# ----------------------------------------------------------------------------- public API


def check_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise :class:`UnsafeFileError` when ``path`` must not be handed to a reader.

    ``OSError`` (missing file, permission denied, I/O error) propagates unchanged.
    """
    path = Path(path)
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeFileError("通常のファイルではないため読み込めません。", "not_excel")
    size = st.st_size
    if size == 0:
        raise UnsafeFileError("ファイルが空です（0バイト）。保存し直したファイルを選び直してください。", "empty")
    if size > limits.max_file_bytes:
        raise UnsafeFileError(
            f"ファイルが大きすぎます（{size_text(size, up=True)}、"
            f"上限{size_text(limits.max_file_bytes, up=False)}）。"
            "不要なシートや行を削除するか、ファイルを分割してください。",
            "too_large",
        )
    suffix = path.suffix.lower()
    with path.open("rb") as fp:
        head = fp.read(8)
        if suffix in XLSX_SUFFIXES:
            check_xlsx(fp, head, size, limits)
        elif suffix in ZIP_SUFFIXES:
            check_xlsx(fp, head, size, limits, workbook=False)
        elif suffix in XLS_SUFFIXES:
            _check_xls(head)
        elif suffix in TEXT_SUFFIXES:
            fp.seek(0)
            _check_text(fp.read(TEXT_SNIFF_BYTES), suffix)


def sheet_extents(path: Path, limits: Limits = DEFAULT_LIMITS) -> list[SheetExtent]:
    """Run the ``.xlsx`` checks and return what the sheet scan found for every worksheet.

    Raises :class:`UnsafeFileError` exactly as :func:`check_file` does. Useful to compare a
    reader's output with the truth (a ``<dimension>`` smaller than the extent means
    openpyxl's read-only mode would truncate the sheet).
    """
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as fp:
        head = fp.read(8)
        return check_xlsx(fp, head, size, limits)


# ----------------------------------------------------------------------------- .xls / text


def _check_xls(head: bytes) -> None:
    if head.startswith(OLE_MAGIC):
        return
    if head.startswith(ZIP_LOCAL_MAGIC):
        raise UnsafeFileError(
            "拡張子は .xls ですが、中身は新しい形式（.xlsx）のExcelファイルです。"
            "拡張子を .xlsx に変えてから選び直してください。",
            "not_excel",
        )
    if _looks_textual(head):
        raise UnsafeFileError(
            "拡張子は .xls ですが、Excelファイルではありません（テキストまたはHTML形式の"
            "可能性があります）。Excelで開いて「Excel ブック (*.xlsx)」形式で保存し直して"
            "ください。",
            "not_excel",
        )
    raise UnsafeFileError(MSG_NOT_EXCEL, "not_excel")


def _looks_textual(head: bytes) -> bool:
    return bool(head) and all(b >= 0x20 or b in b"\t\r\n" for b in head)


def _check_text(head: bytes, suffix: str) -> None:
    label = suffix.lstrip(".").upper()
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnsafeFileError(
            f"{label}ファイルがUTF-16形式で保存されています。"
            "「CSV UTF-8 (コンマ区切り)」または「CSV (コンマ区切り)」で保存し直してください。",
            "not_text",
        )
    if head.startswith(ZIP_LOCAL_MAGIC):
        raise UnsafeFileError(
            f"拡張子は {suffix} ですが、中身はExcelファイル（.xlsx）です。"
            "拡張子を .xlsx に変えてから選び直してください。",
            "not_text",
        )
    if head.startswith(OLE_MAGIC):
        raise UnsafeFileError(
            f"拡張子は {suffix} ですが、中身はExcelファイル（.xls）です。"
            "拡張子を .xls に変えてから選び直してください。",
            "not_text",
        )
    if b"\x00" in head:
        raise UnsafeFileError(
            f"{label}ファイルとして読めません（文字ではないデータが含まれています）。"
            f"{label}形式で保存し直してください。",
            "not_text",
        )
