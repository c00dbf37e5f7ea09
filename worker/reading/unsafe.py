"""What the pre-parse guard refuses a file with: the limits it checks, the error it raises
(its ``str()`` a Japanese message a clerk can act on) and the messages' wording, the file
signatures, and what the sheet scan reports (:class:`SheetExtent`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

__all__ = [
    "MSG_NOT_EXCEL",
    "OLE_MAGIC",
    "ZIP_LOCAL_MAGIC",
    "KiB",
    "Limits",
    "MiB",
    "SheetExtent",
    "UnsafeFileError",
    "bomb",
    "column_letters",
    "corrupt",
    "range_error",
    "size_text",
]

#: sizes
KiB: Final = 1024
MiB: Final = 1024 * 1024

#: file signatures: an OLE2 compound file (.xls, or an encrypted .xlsx) and a zip (.xlsx)
OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_LOCAL_MAGIC: Final = b"PK\x03\x04"


@dataclass(frozen=True)
class Limits:
    """What a file may be: its size, its zip's inflated size and ratio, a sheet's range."""

    max_file_bytes: int = 200 * 1024**2
    max_uncompressed_bytes: int = 2 * 1024**3  # sum over zip entries
    max_entry_ratio: float = 200.0  # uncompressed/compressed per entry (entries > 1 MiB only)
    max_columns: int = 1000
    max_cells: int = 60_000_000  # rows*cols of a sheet's used range
    max_rows: int = 1_048_576


class UnsafeFileError(Exception):
    """Raised with a Japanese, clerk-readable message (str(exc)) naming the problem.

    ``kind`` says which check refused the file, for logs and tests: ``"empty"``,
    ``"too_large"``, ``"not_excel"``, ``"encrypted"``, ``"corrupt"``, ``"bomb"``,
    ``"sheet_range"``, ``"not_text"``.
    """

    def __init__(self, message: str, kind: str = "unsafe") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class SheetExtent:
    """What the scan found in one worksheet part."""

    part: str  # zip entry name, e.g. "xl/worksheets/sheet1.xml"
    name: str  # sheet name from workbook.xml, or "シートN" (N-th worksheet part) when unknown
    max_row: int  # 1-based; 0 when the sheet holds no cell
    max_col: int  # 1-based; 0 when the sheet holds no cell
    dimension: str | None  # the <dimension ref> header as written, if any

    @property
    def corner(self) -> str:
        """Bottom-right cell of the used range, e.g. ``XFD1048576``."""
        if not self.max_row or not self.max_col:
            return ""
        return f"{column_letters(self.max_col)}{self.max_row}"


def column_letters(col: int) -> str:
    """1 -> ``A``, 27 -> ``AA``, 16384 -> ``XFD``."""
    out = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


# ----------------------------------------------------------------------------- clerk messages


def size_text(n: int, *, up: bool) -> str:
    """Human size; rounded up for the file's size and down for the limit, so that a file
    over the limit never reads as equal to it."""
    rnd = math.ceil if up else math.floor
    for unit, factor in (("GB", 1024**3), ("MB", MiB), ("KB", KiB)):
        if n >= factor:
            value = n / factor
            if value < 10 and not float(value).is_integer():
                return f"{rnd(value * 10) / 10:g}{unit}"
            return f"{rnd(value)}{unit}"
    return f"{n}バイト"


#: not a workbook at all (wrong content for the extension, no workbook part)
MSG_NOT_EXCEL: Final = (
    "Excelファイルとして開けません（壊れているか、別の形式です）。"
    "Excelで開いて「Excel ブック (*.xlsx)」形式で保存し直してください。"
)


def corrupt(detail: str) -> UnsafeFileError:
    """A damaged workbook (truncated, bit-flipped, inconsistent), ``detail`` saying where."""
    return UnsafeFileError(
        f"Excelファイルが壊れているため開けません（{detail}）。"
        "元のファイルをもう一度保存するか、コピーし直してください。",
        "corrupt",
    )


def bomb(detail: str) -> UnsafeFileError:
    """A decompression bomb (or a zip built like one), ``detail`` saying how it shows."""
    return UnsafeFileError(
        "圧縮されたデータが異常に大きく展開されるため読み込みを中止しました"
        f"（{detail}）。正しいExcelファイルか確認してください。",
        "bomb",
    )


def range_error(sheet: str, max_row: int, max_col: int) -> UnsafeFileError:
    """A sheet whose used range (up to row ``max_row``, column ``max_col``) is too large."""
    corner = f"{column_letters(max_col)}{max_row}"
    return UnsafeFileError(
        f"シートの範囲が異常に広いため読み込みを中止しました（{sheet}: {corner} まで）。"
        "不要なセルを削除して保存し直してください。",
        "sheet_range",
    )
