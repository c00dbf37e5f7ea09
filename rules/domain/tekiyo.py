"""Reading the free-text 摘要 of a 不詳レセプト (DOMAIN §6, seeds/001), pure.

A 不詳 claim's 摘要 must record 「不詳」(first), カナ氏名, 保険種別, 保険者等名称, 事業所名
(only for some 保険種別), 住所, 連絡先 and 患者への連絡を行った日; the claim must also carry the
right 本人・家族. Clerks write these freely — labelled (「連絡先：」) or not, full- or
half-width, in any order, separated by spaces, 「、」, 「／」 or new lines — so every item is
recognised by what it *looks like* as well as by its label. The rule is lenient on purpose:
an item that is present must never be reported missing.

How the text is read (``parse_tekiyo``):

1. NFKC (full-width digits and letters, half-width カナ, ㈱ → (株), ℡ → TEL), every dash
   (‐ ‑ ‒ – — ― − and ー between digits) becomes ``-``.
2. Labels (住所, 連絡先, TEL, 事業所名, 保険者, 種別, カナ …) are found at the start of a
   word; a label's *value* runs to the next label or a hard separator (new line, 、 , ; |
   and a / that is not inside a date). A labelled value counts when it is not blank
   (「なし」「未記入」「-」 are blank); 「不明」「わからない」 count as the patient's answer for
   保険種別, 保険者等名称 and 事業所名 only; 連絡先 and 患者連絡日 always need a real phone
   number / date, カナ氏名 needs kana.
3. Look-alikes are found and blanked in this order, so one never feeds another: 〒 postal
   codes (→ 住所), phone numbers (→ 連絡先), dates (→ 患者連絡日 or not), insurer names,
   company names, addresses, katakana names. A look-alike that starts the value of another
   item's label belongs to that label (「事業所：トヨタ」 is no カナ氏名).

Heuristics a reviewer should know:

- 連絡先: 10 digits starting with 0, 11 when the first group is 090/080/070/050/020/0800
  (03-1234-5678, 03(1234)5678, (03)1234-5678, 090 1234 5678, 09012345678, +81 90-…; the
  fake 03-0000-1234 too). Digits glued to a date (2026/10/20), a postal code and an
  8-digit insurer number are too short or badly placed to be one.
- 患者連絡日: every date form (R8.10.20, 令和8年10月20日, 2026/10/20, 2026-10-20, 20261020,
  10/20, 10月20日). Each label word belongs to the nearer of the dates around it (within 12
  characters, not across a separator; on a tie the date after it, since labels precede
  values: 「受診日 R8.10.15 連絡日 R8.10.20」, but 「R8.10.20連絡 R8.10.15受診」), and a date
  takes its nearest word (on a tie the one before it): a contact word (連絡 but not 連絡先,
  架電, 電話済…) makes it the contact date; a birth word (生年月日, …生) or another date label
  (受診, 取得, 交付 …) rules it out. When no date carries a contact word, the first
  *unlabelled* date from 2000 on is taken as the contact date — a bare date in a 不詳 摘要
  is nearly always the 連絡日 the checklist asks for.
  Month/day without a year gets the year that puts it from 5 months before to 6 months
  after ``claim_month`` (contact happens after the visit); without ``claim_month`` the item
  is present but ``contact_date`` is None. The 7-digit GYYMMDD form is not read in free text.
- カナ氏名: a katakana run of ≥ 2 letters (spaces and ・ allowed inside) standing on its own
  (not glued to kanji, letters or digits), except a few katakana words that are no name
  (ナシ, フメイ, マイナ…) and building names (…ハイツ, …マンション); or a labelled value with kana.
  A katakana company name written without a company marker would pass as a name.
- 保険種別: keywords anywhere, also inside an insurer name (「トヨタ自動車健康保険組合」 says
  組合): the name fixes the type. 「その他」「わからない」「不明」 count only under a 種別 label or
  outside every other label's value (「保険者：不明」 is no 保険種別). A labelled 社保/国保 is
  refined by a more precise word elsewhere (社保 + 共済組合 → 共済, 国保 + 国保組合 → 国保組合).
  「X国保」 is 国保組合 unless X ends in 市/区/町/村/都/道/府/県 (建設国保 is a 国保組合).
- 保険者等名称: …健康保険組合/健保組合/健保, …共済(組合), 全国健康保険協会(…支部),
  協会けんぽ + prefecture or …支部, …国民健康保険組合/国保組合, …市/区/町/村 国保, …市役所/役場,
  …広域連合. A bare type word (協会けんぽ, 国保, 共済) is not a name. 保険者番号 is not a name.
- 事業所名: 株式会社, (株), 有限会社, (有), 合同会社, …法人, …商店, …工業, …建設, …事務所,
  …病院, …医院 … (the clinic itself would match — accepted), or 自営/無職/個人事業.
- 住所: 〒 + postal code, a prefecture followed by a city, or a city/ward/town/village
  followed by a block number (1-2-3, 1丁目2番3号, 12番地).
- 本人・家族: 本人, 家族, 被保険者, 被扶養者 as a word of their own (not 「本人に連絡」,
  not 「被保険者資格申立書」), or a labelled 1/2.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

#: The items of the MHLW checklist, in the order clerks are asked to write them.
ITEMS: Final[tuple[str, ...]] = (
    "head",
    "kana_name",
    "insurance_type",
    "insurer_name",
    "employer",
    "address",
    "phone",
    "contact_date",
    "relation",
)

ITEM_LABELS_JA: Final[Mapping[str, str]] = {
    "head": "「不詳」（先頭）",
    "kana_name": "カナ氏名",
    "insurance_type": "保険種別",
    "insurer_name": "保険者等名称",
    "employer": "事業所名",
    "address": "住所",
    "phone": "連絡先",
    "contact_date": "患者への連絡を行った日",
    "relation": "本人・家族",
}

#: 保険種別 canonical values that need 事業所名 (申立書 ※1: 社保, 国保組合, その他, わからない).
_NEEDS_EMPLOYER: Final[frozenset[str]] = frozenset(
    {"協会けんぽ", "組合", "共済", "社保", "船員", "国保組合", "その他", "わからない"}
)


@dataclass(frozen=True)
class Tekiyo:
    """What a 不詳 摘要 records: the items found (``ITEMS`` names) and three read values."""

    present: frozenset[str]
    #: "協会けんぽ", "組合", "共済", "社保" (unspecified), "船員", "国保", "国保組合", "後期",
    #: "その他", "わからない"; None when no 保険種別 is written
    insurance_type: str | None
    #: the date the patient was contacted; None when absent or its year is unknown
    contact_date: date | None
    #: "1" 本人 (被保険者), "2" 家族 (被扶養者)
    relation: str | None


def employer_required(insurance_type: str | None) -> bool:
    """事業所名 is required for 社保 (協会けんぽ, 組合, 共済, 船員), 国保組合, その他, わからない.

    Not for 市町村国保 or 後期; not when the type is unknown (None) — the missing 保険種別 is
    reported instead.
    """
    return insurance_type in _NEEDS_EMPLOYER


def missing_items(t: Tekiyo, *, relation_known: bool = False) -> tuple[str, ...]:
    """The required items ``t`` lacks, in ``ITEMS`` order.

    ``relation_known``: the claim itself carries 本人/家族, which then need not be in the 摘要.
    """
    out = []
    for item in ITEMS:
        if item in t.present:
            continue
        if item == "employer" and not employer_required(t.insurance_type):
            continue
        if item == "relation" and relation_known:
            continue
        out.append(item)
    return tuple(out)


# ---------------------------------------------------------------- normalisation

MASK: Final = "\x00"
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−﹣", "-"))
#: a character that ends an item whatever the item (a / only outside dates)
_HARD = r"[\n\r、,;|。\x00]|(?<!\d)/|/(?!\d)"
_HARD_RE = re.compile(_HARD)
_KANJI = "\u4e00-\u9fff々〆ヶ"
#: characters that may be part of a name (insurer, company): no space, separator or bracket
_NC = r"[^\s\x00:=、,;|/()\[\]「」【】。]"


def normalise(text: str) -> str:
    """NFKC, one kind of dash, ー between digits as a dash, tabs as spaces."""
    s = unicodedata.normalize("NFKC", text).translate(_DASHES)
    s = re.sub(r"(?<=\d)\s*ー\s*(?=\d)", "-", s)
    return s.replace("\t", " ")


def _mask(s: str, spans: list[tuple[int, int]]) -> str:
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
_LABEL_RE = re.compile(rf"(?<![{_KANJI}A-Za-z])(?:" + "|".join(f"(?P<{item}>{pat})" for item, pat in _LABELS) + ")")
_VALUE_LEAD = re.compile(r"[\s:=]*")
#: a labelled value that says nothing
_BLANK = re.compile(r"(?:なし|無し|ナシ|未記入|未記載|記載なし|未|空欄|-+|\?+)?")
#: a labelled value meaning the patient did not know (an answer for type, insurer, employer)
_UNKNOWN = re.compile(r"(?:不明|わからない|分からない|分らない|わかりません|不詳)")


@dataclass(frozen=True)
class _Label:
    item: str
    start: int  # of the label
    end: int  # of the label
    vstart: int  # of its value
    vend: int
    value: str


def _labels(s: str) -> list[_Label]:
    found = [(m.lastgroup or "", m.start(), m.end()) for m in _LABEL_RE.finditer(s)]
    out = []
    for i, (item, a, b) in enumerate(found):
        lead = _VALUE_LEAD.match(s, b)
        v = lead.end() if lead else b
        nxt = found[i + 1][1] if i + 1 < len(found) else len(s)
        hard = _HARD_RE.search(s, v, nxt)
        end = hard.start() if hard else nxt
        out.append(_Label(item, a, b, v, end, s[v:end].strip()))
    return out


def _owned_by_other(labels: list[_Label], pos: int, item: str, *, also: frozenset[str] = frozenset()) -> bool:
    """A look-alike at ``pos`` starts the value of another item's label."""
    return any(lb.vstart == pos and lb.item != item and lb.item not in also for lb in labels)


# ---------------------------------------------------------------- phone and postal code

_POSTAL = re.compile(r"〒\s*\d{3}\s*-?\s*\d{4}(?!\d)")
_INTL = re.compile(r"\+\s?81[\s-]*\(?0?\)?\s*(?=\d)")
_PHONE_SEP = r"(?:\s*[-()]\s*|\s{1,2})?"
# 0 + area code, exchange, subscriber; not glued to a date, decimal or longer number
_PHONE = re.compile(rf"(?<!\d)(?<!\d[-./])\(?0\d{{1,4}}{_PHONE_SEP}\d{{1,4}}{_PHONE_SEP}\d{{3,4}}(?!\d)(?![-./]\d)")


def _phones(s: str) -> Iterator[tuple[int, int]]:
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

_ERAS: Final[Mapping[str, int]] = {"令和": 2018, "平成": 1988, "昭和": 1925, "大正": 1911, "明治": 1867}
_ERA_LETTERS: Final[Mapping[str, str]] = {"R": "令和", "H": "平成", "S": "昭和", "T": "大正", "M": "明治"}
_DS = r"\s?[-./年]\s?"  # between year and month
_MS = r"\s?[-./月]\s?"  # between month and day
_DATE = re.compile(
    # 和暦: R8.10.20, 令和8年10月20日, H30/4/1
    rf"(?<![A-Za-z\d])(?P<era>令和|平成|昭和|大正|明治|[RHSTMrhstm])\s?\.?\s?(?P<ey>\d{{1,2}}|元){_DS}"
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
class _Date:
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


def _dates(s: str, claim_month: date | None) -> list[_Date]:
    out = []
    for m in _DATE.finditer(s):
        g = m.groupdict()
        try:
            if g["era"]:
                era = g["era"]
                era = _ERA_LETTERS.get(era.upper(), era)
                n = 1 if g["ey"] == "元" else int(g["ey"])
                y, mo, d = _ERAS[era] + n, int(g["em"]), int(g["ed"])
            elif g["wy"]:
                y, mo, d = int(g["wy"]), int(g["wm"]), int(g["wd"])
            elif g["cy"]:
                y, mo, d = int(g["cy"]), int(g["cm"]), int(g["cd"])
            else:
                mo, d = int(g["mm"]), int(g["md"])
                date(2000, mo, d)  # a real month/day (2/29 exists in 2000)
                out.append(_Date(m.start(), m.end(), _year_for(mo, d, claim_month), False, 0))
                continue
            out.append(_Date(m.start(), m.end(), date(y, mo, d), True, y))
        except ValueError:
            continue
    return out


def _date_kinds(s: str, dates: list[_Date]) -> list[str]:
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


def _contact_date(s: str, dates: list[_Date]) -> tuple[bool, date | None]:
    kinds = _date_kinds(s, dates)
    for d, kind in zip(dates, kinds, strict=True):
        if kind == "contact":
            return True, d.value
    for d, kind in zip(dates, kinds, strict=True):
        if kind == "" and (not d.year_known or d.year >= 2000):
            return True, d.value
    return False, None


# ---------------------------------------------------------------- 保険種別

# (canonical, pattern); one alternation, so at each place the longest word wins
_TYPE_WORDS: Final[tuple[tuple[str, str], ...]] = (
    ("国保組合", r"国民健康保険組合|国保組合"),
    ("協会けんぽ", r"全国健康保険協会|協会けんぽ|協会健保|政管健保|政府管掌"),
    ("組合", r"健康保険組合|健保組合|組合健保|組合管掌"),
    ("共済", r"共済"),
    ("船員", r"船員"),
    ("後期", r"後期高齢者?|後期"),
    ("国保", r"市町村国保|国民健康保険|国保"),
    ("社保", r"社保|社会保険|被用者保険|健康保険|健保"),
    ("その他", r"その他"),
    ("わからない", r"わからない|分からない|分らない|わかりません|不明"),
)
_TYPE_RE = re.compile("|".join(f"(?P<t{i}>{pat})" for i, (_, pat) in enumerate(_TYPE_WORDS)))
_TYPE_PRIORITY: Final[tuple[str, ...]] = tuple(c for c, _ in _TYPE_WORDS)
_WEAK_TYPES: Final[frozenset[str]] = frozenset({"その他", "わからない"})
_SHAHO_KINDS: Final[frozenset[str]] = frozenset({"協会けんぽ", "組合", "共済", "船員"})
_NAME_BEFORE = re.compile(rf"{_NC}+$")


def _type_hits(s: str) -> Iterator[tuple[int, str]]:
    for m in _TYPE_RE.finditer(s):
        canon = _TYPE_WORDS[int((m.lastgroup or "t0")[1:])][0]
        prefix = _NAME_BEFORE.search(s, max(0, m.start() - 20), m.start())
        named = prefix.group() if prefix and len(prefix.group()) >= 2 else ""
        if canon == "国保" and m.group() == "国保" and named and named[-1] not in "市区町村都道府県":
            canon = "国保組合"  # 「X国保」 is a 国保組合 (建設国保, 医師国保) unless X is a municipality
        if canon == "社保" and m.group() == "健保" and named and named not in _NOT_A_NAME_PREFIX:
            canon = "組合"  # 「X健保」 (トヨタ健保) is a 健康保険組合
        yield m.start(), canon


def _insurance_type(s: str, labels: list[_Label]) -> str | None:
    type_values = [(lb.vstart, lb.vend) for lb in labels if lb.item == "insurance_type"]
    other_values = [(lb.vstart, lb.vend) for lb in labels if lb.item != "insurance_type"]
    labelled, elsewhere = [], []
    for pos, canon in _type_hits(s):
        if any(a <= pos < b for a, b in type_values):
            labelled.append(canon)
        elif canon not in _WEAK_TYPES or not any(a <= pos < b for a, b in other_values):
            elsewhere.append(canon)

    def best(hits: list[str]) -> str | None:
        return min(hits, key=_TYPE_PRIORITY.index) if hits else None

    if not labelled:
        return best(elsewhere)
    chosen = best(labelled)
    if chosen == "社保":
        return best([h for h in elsewhere if h in _SHAHO_KINDS]) or chosen
    if chosen == "国保" and "国保組合" in elsewhere:
        return "国保組合"
    return chosen


# ---------------------------------------------------------------- look-alikes

_PREFS = (
    "北海道|青森|岩手|宮城|秋田|山形|福島|茨城|栃木|群馬|埼玉|千葉|東京|神奈川|新潟|富山|石川|福井|山梨|長野|"
    "岐阜|静岡|愛知|三重|滋賀|京都|大阪|兵庫|奈良|和歌山|鳥取|島根|岡山|広島|山口|徳島|香川|愛媛|高知|福岡|佐賀|"
    "長崎|熊本|大分|宮崎|鹿児島|沖縄"
)
_PREF = rf"(?:{_PREFS})[都道府県]?"

# insurer names; group "pre" is a name part that must be at least 2 characters
_INSURER_NAME = re.compile(
    rf"(?<!{_NC})(?:全国健康保険協会(?:\s?{_NC}*?支部|\s?\(?{_PREF}\)?)?"
    rf"|協会(?:けんぽ|健保)\s?\(?(?:{_NC}+?支部|{_PREF})\)?"
    rf"|(?P<pre>{_NC}{{2,}}?)(?:健康保険組合|健保組合|国民健康保険組合|国保組合|共済組合|共済会|共済"
    r"|国民健康保険|国保|健保|後期高齢者医療広域連合|広域連合|市役所|区役所|町役場|村役場))"
)
#: a word that is just a municipality (新宿区, 横浜市): the insurer of 国保 and 後期 patients
_MUNICIPALITY = re.compile(rf"(?<!{_NC})(?!{_PREF}){_NC}{{1,6}}?[市区町村](?!{_NC})")
_MUNICIPAL_TYPES: Final[frozenset[str]] = frozenset({"国保", "後期"})
#: prefixes that make a type word, not a name
_NOT_A_NAME_PREFIX: Final[frozenset[str]] = frozenset({"市町村", "組合", "協会", "政管", "政府管掌", "社会", "被用者"})

_EMPLOYER = re.compile(
    r"株式会社|有限会社|合同会社|合資会社|合名会社|\((?:株|有|合)\)"
    r"|(?:一般|公益)?(?:社団|財団)法人|医療法人|社会福祉法人|学校法人|NPO法人|特定非営利活動法人"
    rf"|(?<!{_NC}){_NC}+?(?:商店|商会|商事|工業(?!団地)|工務店|建設|製作所|産業|興業|運輸|物産|電機|事務所|病院|医院"
    r"|クリニック|大学|学園|銀行|信用金庫|農協|生協|協同組合)"
    rf"|(?<!{_NC})(?:自営業?|個人事業主?|無職)(?!{_NC})"
)

_BLOCK_NO = r"(?<!\d)(?:\d+(?:\s?-\s?\d+)+|\d+丁目|\d+番地?|\d+号)"
_ADDRESS = re.compile(
    rf"{_PREF}{_NC}{{0,6}}?[市区町村郡]"  # 東京都新宿区, 神奈川県横浜市
    rf"|{_NC}{{1,10}}?[市区町村郡][^\x00\n]{{0,15}}?{_BLOCK_NO}"  # 新宿区西新宿1-2-3
    r"|(?<!\d)\d+(?:丁目|番地)"
)

_KATA = r"[ァ-ヺー]"
_KANA_RUN = re.compile(
    rf"(?<![^\s\x00:=(\[「【、,;|/。)])"  # after a space, a separator or a bracket
    rf"({_KATA}[ァ-ヺー・]*(?: {_KATA}[ァ-ヺー・]*)*)"  # katakana words, one space between
    r"(?![^\s\x00()\[\]「」【】、,;|/。])"  # before a space, a separator or a bracket
)
#: katakana words that are no name
_NOT_A_NAME: Final[frozenset[str]] = frozenset(
    {"ナシ", "フメイ", "ワカラナイ", "フショウ", "ホンニン", "カゾク", "カナ", "フリガナ", "シメイ", "マイナ", "テル"}
)
_BUILDING = re.compile(
    r"(?:ビル|ハイツ|マンション|コーポ|アパート|レジデンス|メゾン|パレス|タワー|ヒルズ|コート|プラザ)$"
)
_HAS_KANA = re.compile(r"[ぁ-ゖァ-ヺ]")

_RELATION_WORD = re.compile(
    rf"(?<![{_KANJI}])(?:(?P<one>被保険者本人|被保険者|本人)|(?P<two>被扶養者|家族))(?![{_KANJI}ぁ-ゖ])"
)


_NC_RE = re.compile(_NC)


def _widen(s: str, a: int, b: int) -> tuple[int, int]:
    """A look-alike's span grown to its whole word: 「(株)トヨタ」, not 「(株)」."""
    while a > 0 and _NC_RE.match(s[a - 1]):
        a -= 1
    while b < len(s) and (_NC_RE.match(s[b]) or s[b] in "()"):
        b += 1
    return a, b


def _relation(s: str, labels: list[_Label]) -> str | None:
    for lb in labels:
        if lb.item in ("relation", "insurance_type"):
            if lb.value in ("1", "2"):
                return lb.value
            if m := _RELATION_WORD.search(lb.value):
                return "1" if m.group("one") else "2"
    m = _RELATION_WORD.search(_mask(s, [(lb.start, lb.end) for lb in labels]))
    if m:
        return "1" if m.group("one") else "2"
    return None


def _labelled(labels: list[_Label], item: str) -> bool:
    """A label of ``item`` carries an answer."""
    for lb in labels:
        if lb.item != item or _BLANK.fullmatch(lb.value):
            continue
        unknown = bool(_UNKNOWN.fullmatch(lb.value))
        if item == "insurance_type" and (lb.value in ("1", "2") or _RELATION_WORD.fullmatch(lb.value)):
            continue  # 「種別：本人」 is 本人・家族
        if item in ("insurance_type", "insurer_name", "employer"):
            return True
        if item == "kana_name" and _HAS_KANA.search(lb.value):
            return True
        if item == "address" and not unknown:
            return True
    return False


# ---------------------------------------------------------------- the parser

_HEAD = re.compile(r"^\s*不詳(?:レセプト|請求)?")


def parse_tekiyo(text: str, *, claim_month: date | None = None) -> Tekiyo:
    """Read a 不詳 claim's 摘要; ``claim_month`` gives the year of a month/day date."""
    s = normalise(text)
    present: set[str] = set()
    if head := _HEAD.match(s):
        present.add("head")
        s = _mask(s, [(head.start(), head.end())])
    s = _INTL.sub("0", s)  # +81 90-… → 090-…
    labels = _labels(s)

    # 〒, phones and dates first: their digits must feed nothing else
    postal = [m.span() for m in _POSTAL.finditer(s)]
    if postal:
        present.add("address")
    s = _mask(s, postal)
    phones = list(_phones(s))
    if phones:
        present.add("phone")
    s = _mask(s, phones)
    dates = _dates(s, claim_month)
    has_contact, contact = _contact_date(s, dates)
    if has_contact:
        present.add("contact_date")

    insurance_type = _insurance_type(s, labels)
    if insurance_type is not None or _labelled(labels, "insurance_type"):
        present.add("insurance_type")
    relation = _relation(s, labels)
    if relation is not None:
        present.add("relation")

    # look-alikes, on text without labels and dates; each found one is blanked for the next
    s = _mask(s, [(d.start, d.end) for d in dates] + [(lb.start, lb.end) for lb in labels])
    municipal = insurance_type in _MUNICIPAL_TYPES
    for item, rx in (("insurer_name", _INSURER_NAME), ("employer", _EMPLOYER), ("address", _ADDRESS)):
        spans: list[tuple[int, int]] = []
        found = list(rx.finditer(s))
        if item == "insurer_name" and municipal:
            found = sorted([*found, *_MUNICIPALITY.finditer(s)], key=lambda m: m.start())
        for m in found:
            pre = m.groupdict().get("pre")
            if pre is not None and pre in _NOT_A_NAME_PREFIX:
                continue
            if (spans and m.start() < spans[-1][1]) or _owned_by_other(labels, m.start(), item):
                continue
            spans.append(_widen(s, *m.span()))
        if spans or _labelled(labels, item):
            present.add(item)
        s = _mask(s, spans)
    if _labelled(labels, "kana_name") or any(
        run.replace(" ", "").replace("・", "") not in _NOT_A_NAME
        and len(run.replace(" ", "").replace("・", "")) >= 2
        and not _BUILDING.search(run)
        and not _owned_by_other(labels, m.start(1), "kana_name", also=frozenset({"name"}))
        for m in _KANA_RUN.finditer(s)
        for run in (m.group(1),)
    ):
        present.add("kana_name")
    return Tekiyo(frozenset(present), insurance_type, contact, relation)
