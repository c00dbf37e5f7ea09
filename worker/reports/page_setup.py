"""How every sheet prints: A4 landscape, one page wide, the header row on every page, a
page header with the clinic, the claim month and the sheet name, and 「n / m ページ」.

The header and footer are Excel's codes (``&L`` left, ``&C`` centre, ``&R`` right, ``&A``
the sheet name, ``&P`` the page, ``&N`` the pages); text in them has its ``&`` doubled, so
a clinic's name can never become a code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from xlsxwriter.worksheet import Worksheet

from worker.reports.excel_safe import clean

__all__ = ["A4", "PageHeader", "period_label", "print_setup"]

#: Excel's paper size code of A4.
A4: Final = 9
#: Excel ignores a header or footer longer than 255 characters; keep the free text short.
_MAX_TEXT: Final = 60
_MONTH: Final = re.compile(r"(\d{4})-(\d{2})")


def period_label(period: str) -> str:
    """「2026年10月診療分」 for "2026-10", 「2026年09月〜2026年10月診療分」 for a range; other
    text as it is."""
    if not _MONTH.search(period):
        return period
    return _MONTH.sub(lambda m: f"{m.group(1)}年{m.group(2)}月", period) + "診療分"


def _code_text(text: str) -> str:
    """Free text for a header/footer: no control characters, at most _MAX_TEXT, & doubled."""
    one_line = " ".join(clean(text).split())
    return one_line[:_MAX_TEXT].replace("&", "&&")


@dataclass(frozen=True)
class PageHeader:
    """What every printed page names: the clinic ("" when unknown), the claim month or
    period (as in ``period_label``) and when the list was made."""

    clinic: str
    period: str
    created: str

    # A font size code (&9) takes the digits after it: a space always follows it.
    def header(self) -> str:
        left = f"&L&10 {_code_text(self.clinic)}" if self.clinic else ""
        return f'{left}&C&12 &"-,Bold"&A&R&10 {_code_text(self.period)}'

    def footer(self) -> str:
        return f"&L&8 作成 {_code_text(self.created)}&C&9 &P / &N ページ"


def print_setup(
    ws: Worksheet, page: PageHeader, last_row: int, last_col: int, *, title_rows: int = 1, pages_tall: int = 0
) -> None:
    """A4 landscape, one page wide and ``pages_tall`` pages tall (0: as many as needed),
    rows 1 to ``last_row`` and columns A to ``last_col`` (0-based) printed, the first
    ``title_rows`` rows repeated on every page."""
    ws.set_paper(A4)
    ws.set_landscape()
    ws.fit_to_pages(1, pages_tall)
    ws.print_area(0, 0, max(0, last_row), last_col)
    if title_rows:
        ws.repeat_rows(0, title_rows - 1)
    ws.set_margins(left=0.3, right=0.3, top=0.7, bottom=0.6)
    ws.set_header(page.header(), {"margin": 0.3})
    ws.set_footer(page.footer(), {"margin": 0.3})
    ws.center_horizontally()
