"""Excel safety: nothing read from the input ever becomes a formula, URL or raw XML.

The workbook is created with every string auto-conversion off (``WORKBOOK_OPTIONS``) and
text is written with ``write_string`` only (``put_text``). Characters that XML cannot carry
are removed from the workbook text (``clean``, ``text_series``); text shaped like
XlsxWriter's own rich-string markup is written as two escaped runs. The JSON keeps the text
as it is, except lone surrogates, which become U+FFFD (``replace_surrogates``).
"""

from __future__ import annotations

import re
from typing import Any, Final

import pandas as pd
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

__all__ = [
    "IN_MEMORY_ROWS",
    "SURROGATE_RE",
    "WORKBOOK_OPTIONS",
    "XML_ILLEGAL",
    "clean",
    "is_rich_lookalike",
    "put_text",
    "replace_surrogates",
    "text_series",
]

#: XlsxWriter options: a string never turns into a formula, a URL or a number.
WORKBOOK_OPTIONS: Final[dict[str, Any]] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}

#: XlsxWriter builds a workbook's parts in memory (``in_memory``) instead of temp files: a
#: small workbook is written ~20-50 ms sooner (no files to create and delete). A workbook with
#: more lines than this streams its rows to temp files instead (``constant_memory``).
IN_MEMORY_ROWS: Final = 20_000

#: Characters XML 1.0 cannot carry (as a regex); the second pattern adds lone surrogates,
#: which UTF-8 cannot encode.
XML_ILLEGAL: Final = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
_XML_ILLEGAL_OR_SURROGATE_RE: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: Lone surrogates (UTF-8 cannot encode them; JSON texts get U+FFFD instead).
SURROGATE_RE: Final = re.compile("[\ud800-\udfff]")


def clean(text: object) -> str:
    """One value as workbook text: str, without characters XML cannot carry."""
    if text is None or text is pd.NA or text is pd.NaT:
        return ""
    if isinstance(text, float) and text != text:  # NaN
        return ""
    return _XML_ILLEGAL_OR_SURROGATE_RE.sub("", str(text))


def text_series(col: pd.Series) -> pd.Series:
    """A whole column as workbook text ("" for missing), without XML-illegal characters."""
    try:
        s = col.astype("str")
    except UnicodeEncodeError:  # lone surrogates: pyarrow cannot hold them
        return pd.Series([clean(v) for v in col.tolist()], index=col.index, dtype=object)
    s = s.fillna("")
    bad = s.str.contains(XML_ILLEGAL, regex=True)
    if bool(bad.any()):
        s = s.where(~bad, s.str.replace(XML_ILLEGAL, "", regex=True))
    return s


def is_rich_lookalike(s: str) -> bool:
    """Text that XlsxWriter would take for its own rich-string markup."""
    # XlsxWriter (constant_memory) copies strings shaped "<r>...</r>" into the XML
    # unescaped, taking them for its own rich-string markup.
    return s.startswith("<r>") and s.endswith("</r>")


def put_text(ws: Worksheet, row: int, col: int, text: str, fmt: Format, plain: Format) -> None:
    """Write cleaned text as a string cell (never a formula/URL/markup); "" as a blank."""
    if not text:
        ws.write_blank(row, col, None, fmt)
    elif is_rich_lookalike(text):
        # Two escaped runs that read back as exactly ``text``.
        ws.write_rich_string(row, col, text[:3], plain, text[3:], fmt)
    else:
        ws.write_string(row, col, text, fmt)


def replace_surrogates(v: object) -> object:
    """A str with its lone surrogates replaced by U+FFFD; any other value unchanged."""
    return SURROGATE_RE.sub("\ufffd", v) if isinstance(v, str) else v
