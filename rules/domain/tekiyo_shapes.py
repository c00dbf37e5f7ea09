"""How a 不詳 摘要 is cut up and what is recognised by its *shape* (``rules.domain.tekiyo``).

The text is normalised (NFKC, one dash), labels (住所, 連絡先, TEL …) and their values are
found, and look-alikes made of digits are recognised: 〒 postal codes, phone numbers and
dates — with the label words near each date deciding whether it is the 患者連絡日. Found
spans are blanked (``mask``) so that their digits feed nothing else. The heuristics are
described in ``rules.domain.tekiyo``; ``parse_tekiyo`` there is the entry point.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Final

from rules.domain.eras import LETTERS, NAMES_PATTERN, era_of

# ---------------------------------------------------------------- normalisation

MASK: Final = "\x00"
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−﹣", "-"))
#: a character that ends an item whatever the item (a / only outside dates)
_HARD = r"[\n\r、,;|。\x00]|(?<!\d)/|/(?!\d)"
_HARD_RE = re.compile(_HARD)
KANJI = "\u4e00-\u9fff々〆ヶ"
#: characters that may be part of a name (insurer, company): no space, separator or bracket
NAME_CHAR = r"[^\s\x00:=、,;|/()\[\]「」【】。]"


def normalise(text: str) -> str:
    """NFKC, one kind of dash, ー between digits as a dash, tabs as spaces."""
    s = unicodedata.normalize("NFKC", text).translate(_DASHES)
    s = re.sub(r"(?<=\d)\s*ー\s*(?=\d)", "-", s)
    return s.replace("\t", " ")


def mask(s: str, spans: list[tuple[int, int]]) -> str:
    chars = list(s)
    for a, b in spans:
        chars[a:b] = MASK * (b - a)
    return "".join(chars)


# ---------------------------------------------------------------- labels

# One alternative per label, longest first where one is the start of another.
_LABELS: Final[tuple[tuple[str, str], ...]] = (
    # カナ氏名: 「カナ」 alone only before a colon/space (カナザワ is a name)
    (
        "kana_name",
        r"カナ氏名|氏名\s*\(\s*(?:カナ|フリガナ)\s*\)|氏名カナ|フリガナ|ふりがな|(?<![ァ-ヺ])カナ(?=\s*[:=(]|\s)",
    ),
    ("insurance_type", r"保険種別|保険の種類|保険種類|種別"),
    ("insurer_no", r"保険者番号"),
    ("insurer_name", r"保険者等名称|保険者名称|保険者名|保険者"),
    ("employer", r"事業所名|事業所|お?勤務先|お?勤め先|会社名|会社(?!員)|職場"),
    ("address", r"(?:患者)?(?:現住所|住所)"),
    ("contact_date", r"患者への連絡を行った日|患者へ連絡した日|(?:患者)?連絡(?:した)?日"),
    (
        "phone",
        r"(?:患者)?連絡先(?:電話番号)?|電話番号|携帯電話|携帯番号|携帯|電話(?!連絡|済|し|にて|で)|TEL|Tel|tel|☎",
    ),
    ("relation", r"本人・家族|本人/家族|本人家族|続柄"),
    ("name", r"(?:患者)?氏名"),
    ("other", r"生年月日|性別|受診日|診療日|初診日|資格取得日|取得日"),
)
_LABEL_RE = re.compile(rf"(?<![{KANJI}A-Za-z])(?:" + "|".join(f"(?P<{item}>{pat})" for item, pat in _LABELS) + ")")
_VALUE_LEAD = re.compile(r"[\s:=]*")
#: a labelled value that says nothing
BLANK = re.compile(r"(?:なし|無し|ナシ|未記入|未記載|記載なし|未|空欄|-+|\?+)?")
#: a labelled value meaning the patient did not know (an answer for type, insurer, employer)
UNKNOWN = re.compile(r"(?:不明|わからない|分からない|分らない|わかりません|不詳)")


@dataclass(frozen=True)
class Label:
    item: str
    start: int  # of the label
    end: int  # of the label
    vstart: int  # of its value
    vend: int
    value: str


def find_labels(s: str) -> list[Label]:
    found = [(m.lastgroup or "", m.start(), m.end()) for m in _LABEL_RE.finditer(s)]
    out = []
    for i, (item, a, b) in enumerate(found):
        lead = _VALUE_LEAD.match(s, b)
        v = lead.end() if lead else b
        nxt = found[i + 1][1] if i + 1 < len(found) else len(s)
        hard = _HARD_RE.search(s, v, nxt)
        end = hard.start() if hard else nxt
        out.append(Label(item, a, b, v, end, s[v:end].strip()))
    return out


def owned_by_other(labels: list[Label], pos: int, item: str, *, also: frozenset[str] = frozenset()) -> bool:
    """A look-alike at ``pos`` starts the value of another item's label."""
    return any(lb.vstart == pos and lb.item != item and lb.item not in also for lb in labels)


# ---------------------------------------------------------------- phone and postal code

POSTAL = re.compile(r"〒\s*\d{3}\s*-?\s*\d{4}(?!\d)")
INTERNATIONAL_PREFIX = re.compile(r"\+\s?81[\s-]*\(?0?\)?\s*(?=\d)")
_PHONE_SEP = r"(?:\s*[-()]\s*|\s{1,2})?"
# 0 + area code, exchange, subscriber; not glued to a date, decimal or longer number
_PHONE = re.compile(rf"(?<!\d)(?<!\d[-./])\(?0\d{{1,4}}{_PHONE_SEP}\d{{1,4}}{_PHONE_SEP}\d{{3,4}}(?!\d)(?![-./]\d)")


def find_phones(s: str) -> Iterator[tuple[int, int]]:
    for m in _PHONE.finditer(s):
        digits = re.sub(r"\D", "", m.group())
        first = re.search(r"\d+", m.group())
        if first and not digits.startswith("00") and len(digits) == _phone_length(first.group()):
            yield m.span()


def _phone_length(head: str) -> int:
    """Digits of a number whose first group (or whole run) is ``head``.

    020, 050, 070, 080, 090 and 0800 numbers have 11 digits, all others 10 (03-0000-1234
    is a Tokyo number: its first group is 03).
    """
    return 11 if re.match(r"0[25789]0", head) else 10


# ---------------------------------------------------------------- dates

_DS = r"\s?[-./年]\s?"  # between year and month
_MS = r"\s?[-./月]\s?"  # between month and day
_DATE = re.compile(
    # 和暦: R8.10.20, 令和8年10月20日, H30/4/1
    rf"(?<![A-Za-z\d])(?P<era>{NAMES_PATTERN}|[{LETTERS}{LETTERS.lower()}])\s?\.?\s?(?P<ey>\d{{1,2}}|元){_DS}"
    rf"(?P<em>\d{{1,2}}){_MS}(?P<ed>\d{{1,2}})(?:\s?日)?(?!\d)"
    # 西暦: 2026/10/20, 2026-10-20, 2026年10月20日
    rf"|(?<!\d)(?P<wy>(?:19|20)\d{{2}}){_DS}(?P<wm>\d{{1,2}}){_MS}(?P<wd>\d{{1,2}})(?:\s?日)?(?!\d)"
    # 20261020
    r"|(?<!\d)(?P<cy>20\d{2})(?P<cm>\d{2})(?P<cd>\d{2})(?!\d)"
    # month/day without a year: 10/20, 10月20日 (not part of 1.2.3 or 1-2-3)
    r"|(?<![\d.\-/])(?P<mm>\d{1,2})\s?(?:/|月)\s?(?P<md>\d{1,2})(?:\s?日)?(?![\d.\-/])"
)
#: a word saying the date is the contact with the patient (連絡先 is the phone label)
_CONTACT_WORD = re.compile(r"連絡(?!先)(?:を行った日|した日|日|済み?)?|架電日?|電話(?=連絡|済|し|にて|で)|TEL済")
#: a word saying the date is a birth date
_BIRTH_WORD = re.compile(r"生年月日|誕生日|生まれ|生(?=$|[\s)、,。])")
#: a word saying the date is something else (visit, qualification, issue …)
_OTHER_WORD = re.compile(
    r"(?:受診|診療|来院|初診|再診|取得|喪失|交付|発行|有効|申立|提出|受付|記入|入院|退院|資格)(?:日|年月日)?"
)
_WORD_REACH: Final = 12


@dataclass(frozen=True)
class FoundDate:
    start: int
    end: int
    value: date | None  # None: month/day without a known year
    year_known: bool
    year: int  # the written year (0 for month/day)


def _year_for(month: int, day: int, claim_month: date | None) -> date | None:
    """A month/day in the window from 5 months before to 6 months after ``claim_month``."""
    if claim_month is None:
        return None
    base = claim_month.year * 12 + claim_month.month
    for y in (claim_month.year - 1, claim_month.year, claim_month.year + 1):
        if -5 <= y * 12 + month - base <= 6:
            try:
                return date(y, month, day)
            except ValueError:
                return None
    return None  # pragma: no cover - the window always holds one year


def find_dates(s: str, claim_month: date | None) -> list[FoundDate]:
    out = []
    for m in _DATE.finditer(s):
        g = m.groupdict()
        try:
            if g["era"]:
                # a date outside its era (R1.4.1, H32.1.1) is no date, like 2/30
                n = 1 if g["ey"] == "元" else int(g["ey"])
                found = era_of(g["era"]).to_date(n, int(g["em"]), int(g["ed"]))
                y, mo, d = found.year, found.month, found.day
            elif g["wy"]:
                y, mo, d = int(g["wy"]), int(g["wm"]), int(g["wd"])
            elif g["cy"]:
                y, mo, d = int(g["cy"]), int(g["cm"]), int(g["cd"])
            else:
                mo, d = int(g["mm"]), int(g["md"])
                date(2000, mo, d)  # a real month/day (2/29 exists in 2000)
                out.append(FoundDate(m.start(), m.end(), _year_for(mo, d, claim_month), False, 0))
                continue
            out.append(FoundDate(m.start(), m.end(), date(y, mo, d), True, y))
        except ValueError:
            continue
    return out


def _date_kinds(s: str, dates: list[FoundDate]) -> list[str]:
    """'contact', 'birth', 'other' or '' for each date, from the label words near it.

    Each word labels one date: the nearer of the date just before and the date just after
    it (the characters between them; on a tie the date after, as labels precede values),
    within ``_WORD_REACH`` characters and no separator. A date with several words takes
    the nearest one (on a tie the word before it).
    """
    words = sorted(
        (m.start(), m.end(), kind)
        for kind, rx in (("contact", _CONTACT_WORD), ("birth", _BIRTH_WORD), ("other", _OTHER_WORD))
        for m in rx.finditer(s)
    )
    starts, ends = [d.start for d in dates], [d.end for d in dates]
    best: list[tuple[int, int, str] | None] = [None] * len(dates)  # (gap, 0 word before / 1 after, kind)
    for a, b, kind in words:
        options = []
        i = bisect_right(ends, a) - 1  # the last date ending before the word
        if i >= 0:
            options.append((a - dates[i].end, 1, i, s[dates[i].end : a]))
        i = bisect_left(starts, b)  # the first date starting after the word
        if i < len(dates):
            options.append((dates[i].start - b, 0, i, s[b : dates[i].start]))
        options = [o for o in options if o[0] <= _WORD_REACH and not _HARD_RE.search(o[3])]
        if not options:
            continue
        gap, side, i, _ = min(options, key=lambda o: (o[0], o[1]))
        cand = (gap, side, kind)
        current = best[i]
        if current is None or cand[:2] < current[:2]:
            best[i] = cand
    return [c[2] if c else "" for c in best]


def find_contact_date(s: str, dates: list[FoundDate]) -> tuple[bool, date | None]:
    kinds = _date_kinds(s, dates)
    for d, kind in zip(dates, kinds, strict=True):
        if kind == "contact":
            return True, d.value
    for d, kind in zip(dates, kinds, strict=True):
        if kind == "" and (not d.year_known or d.year >= 2000):
            return True, d.value
    return False, None
