"""A clinic's ID in one canonical form, so that one clinic is never stored as two.

Every entry point (the CLI's ``--clinic``, a drop folder's name, an upload, the web page,
the surveys) and the database models pass a clinic ID through :func:`canonical_clinic_id`:

1. NFKC (full-width ``ｃ００１`` is ``c001``; ``ガ`` written decomposed, as macOS names
   folders, is the composed ``ガ``);
2. surrounding white space removed (``" C001"`` is ``C001``);
3. ASCII letters in capitals (``c001`` is ``C001``);
4. then only the declared characters are allowed: letters and digits (any script: ``さくら内科``,
   ``C001``) and ``-`` ``_`` ``.`` inside, at most :data:`MAX_LENGTH` characters, starting
   with a letter or digit. Anything else — a zero-width space, a right-to-left override,
   a line break, a tab, a space inside, ``/`` — is refused with
   :class:`ClinicIdError`, whose message (Japanese) names the character and what is allowed.

The canonical form is its own canonical form (``canonical_clinic_id(canonical_clinic_id(x))
== canonical_clinic_id(x)``), so two stored IDs are one clinic exactly when they are equal.
"""

from __future__ import annotations

import unicodedata
from typing import Final

__all__ = [
    "ALLOWED_JA",
    "MAX_LENGTH",
    "ClinicIdError",
    "canonical_clinic_id",
    "is_canonical_clinic_id",
    "require_canonical",
]

MAX_LENGTH: Final = 64
_PUNCT: Final = frozenset("-_.")
#: what a clinic ID may hold, for the clerk (used in every refusal)
ALLOWED_JA: Final = (
    f"医療機関IDには文字・数字と「-」「_」「.」だけが使えます（先頭は文字か数字、{MAX_LENGTH}文字以内。"
    "全角は半角に、英字の小文字は大文字にそろえます）"
)


class ClinicIdError(ValueError):
    """A clinic ID that cannot be made canonical; ``str(exc)`` is a Japanese message for people."""


def _shown(ch: str) -> str:
    """A character for a message: printable ones as they are, others as their code point."""
    if ch.isprintable() and not ch.isspace():
        return f"「{ch}」"
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}{f' {name}' if name else ''}"


def _allowed(ch: str) -> bool:
    return ch in _PUNCT or unicodedata.category(ch)[0] in "LN"


def canonical_clinic_id(text: str) -> str:
    """The canonical form of a clinic ID (see the module), or :class:`ClinicIdError`."""
    if not isinstance(text, str):
        raise ClinicIdError(f"医療機関IDが文字列ではありません。{ALLOWED_JA}。")
    value = unicodedata.normalize("NFKC", text).strip()
    value = "".join(c.upper() if "a" <= c <= "z" else c for c in value)
    if not value:
        raise ClinicIdError(f"医療機関IDが空です。{ALLOWED_JA}。")
    bad = next((c for c in value if not _allowed(c)), None)
    if bad is not None:
        raise ClinicIdError(f"医療機関IDに使えない文字 {_shown(bad)} があります。{ALLOWED_JA}。")
    if value[0] in _PUNCT:
        raise ClinicIdError(f"医療機関IDの先頭に {_shown(value[0])} は使えません。{ALLOWED_JA}。")
    if len(value) > MAX_LENGTH:
        raise ClinicIdError(f"医療機関IDが長すぎます（{len(value)}文字）。{ALLOWED_JA}。")
    if unicodedata.normalize("NFKC", value) != value:  # e.g. a letter NFKC changes again after the upper-casing
        raise ClinicIdError(f"医療機関IDの文字を1つの形にそろえられません。{ALLOWED_JA}。")
    return value


def is_canonical_clinic_id(text: str) -> bool:
    """Whether ``text`` is already a canonical clinic ID (what storage accepts)."""
    try:
        return canonical_clinic_id(text) == text
    except ClinicIdError:
        return False


def require_canonical(clinic_id: str) -> str:
    """``clinic_id`` when it is canonical; else :class:`ClinicIdError` (storage takes only
    canonical IDs: an entry point that forgot to canonicalise fails loudly)."""
    if canonical_clinic_id(clinic_id) != clinic_id:
        raise ClinicIdError(
            f"医療機関ID「{canonical_clinic_id(clinic_id)}」が正規の形で渡されていません（内部の誤り）。"
        )
    return clinic_id
