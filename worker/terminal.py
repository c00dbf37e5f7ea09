"""Text made safe to show: control characters escaped, undecodable name bytes visible.

A cell value, a file name or a clinic ID may hold escape sequences (``ESC ] 0 ;`` sets a
window title, ``ESC ] 52 ;`` writes the clipboard, ``ESC [ 2 K`` erases a line and can fake
a 「問題なし」), bidirectional overrides that reorder what is shown, or — a name from a zip
made on Windows — bytes that are not UTF-8 (Python keeps them as lone surrogates,
``os.fsdecode``). :func:`safe_text` turns every such character into a visible escape
(``\\x1b``, ``\\u202e``, ``\\x83``), so what reaches a terminal, a log line, the database or a
workbook is only printable text. Rich markup escaping is a different thing and is still
needed where a string is parsed as markup.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import PurePath
from typing import Final

__all__ = ["safe_name", "safe_text"]

#: categories escaped: controls, format characters (bidi overrides, zero-width), surrogates
#: (undecodable bytes of a file name), private use, unassigned, line/paragraph separators
_ESCAPED: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _escape(ch: str) -> str:
    o = ord(ch)
    if 0xDC80 <= o <= 0xDCFF:  # a byte os.fsdecode could not decode (surrogateescape)
        return f"\\x{o - 0xDC00:02x}"
    if o < 0x100:
        return f"\\x{o:02x}"
    return f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}"


def safe_text(text: object, *, keep_newlines: bool = False) -> str:
    """``text`` with every control, format, surrogate or unassigned character escaped
    (``\\n`` kept when ``keep_newlines``); a backslash stays as it is."""
    s = str(text)
    if s.isprintable() and s.isascii():  # the common case, at once
        return s
    out = []
    for ch in s:
        if keep_newlines and ch == "\n":
            out.append(ch)
        elif unicodedata.category(ch) in _ESCAPED:
            out.append(_escape(ch))
        else:
            out.append(ch)
    return "".join(out)


def safe_name(path: str | bytes | os.PathLike[str] | PurePath) -> str:
    """A file name or path for people: its bytes decoded (undecodable bytes as ``\\xNN``),
    control characters escaped."""
    raw = os.fsdecode(path) if isinstance(path, bytes | os.PathLike) else path
    return safe_text(raw)
