"""The one place the web page turns a typed clinic ID into the stored one.

Every clinic ID the page or ``henrei users add`` accepts goes through
:func:`canonical_clinic_id`, so that when the project's canonical clinic ID function
lands (NFKC, trimmed, a declared character set), this is the one line to point at it.
"""

from __future__ import annotations

import unicodedata

from worker.jobs.upload_store import check_clinic_id

__all__ = ["canonical_clinic_id"]


def canonical_clinic_id(raw: str) -> str:
    """The stored form of a clinic ID: NFKC, spaces trimmed; raises ValueError (Japanese)
    when it cannot be one (empty, a path separator, a leading dot, over 64 characters)."""
    value = unicodedata.normalize("NFKC", raw).strip()
    try:
        check_clinic_id(value)
    except ValueError:
        raise ValueError(
            "医療機関IDが使えません（/ \\ : を含まず . で始まらない64文字以内で指定してください）。"
        ) from None
    return value
