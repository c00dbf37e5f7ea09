"""Reading the free-text 摘要 of a 不詳レセプト (DOMAIN §6, seeds/001), pure.

A 不詳 claim's 摘要 must record 「不詳」(first), カナ氏名, 保険種別, 保険者等名称, 事業所名
(only for some 保険種別), 住所, 連絡先 and 患者への連絡を行った日; the claim must also carry the
right 本人・家族. Clerks write these freely — labelled (「連絡先：」) or not, full- or
half-width, in any order, separated by spaces, 「、」, 「／」 or new lines — so every item is
recognised by what it *looks like* as well as by its label. The rule is lenient on purpose:
an item that is present must never be reported missing.

This module holds the checklist (``ITEMS``, ``Tekiyo``, ``missing_items``) and the reading
order (``parse_tekiyo``); the recognisers live in ``rules.domain.tekiyo_shapes`` (labels,
phone numbers, postal codes, dates) and ``rules.domain.tekiyo_words`` (保険種別, insurer and
company names, addresses, kana names, 本人・家族).

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
  A date that does not exist (2/30, or a 和暦 date outside its era such as R1.4.1 or
  H32.1.1: ``rules.domain.eras``) is no date: it is neither the contact date nor a label's
  date, so a 摘要 whose only contact date is impossible lacks the 患者連絡日.
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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Final

from rules.domain.codes import Relation
from rules.domain.tekiyo_shapes import (
    INTERNATIONAL_PREFIX,
    POSTAL,
    find_contact_date,
    find_dates,
    find_labels,
    find_phones,
    mask,
    normalise,
)
from rules.domain.tekiyo_words import find_insurance_type, find_relation, has_labelled_answer, lookalike_items

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
    #: 本人 (被保険者) or 家族 (被扶養者)
    relation: Relation | None


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


# ---------------------------------------------------------------- the parser

_HEAD = re.compile(r"^\s*不詳(?:レセプト|請求)?")


@lru_cache(maxsize=1 << 14)
def parse_tekiyo(text: str, *, claim_month: date | None = None) -> Tekiyo:
    """Read a 不詳 claim's 摘要; ``claim_month`` gives the year of a month/day date.

    Remembered (the result is immutable): the 不詳 rules read the same 摘要 one after the other."""
    s = normalise(text)
    present: set[str] = set()
    if head := _HEAD.match(s):
        present.add("head")
        s = mask(s, [(head.start(), head.end())])
    s = INTERNATIONAL_PREFIX.sub("0", s)  # +81 90-… → 090-…
    labels = find_labels(s)

    # 〒, phones and dates first: their digits must feed nothing else
    postal = [m.span() for m in POSTAL.finditer(s)]
    if postal:
        present.add("address")
    s = mask(s, postal)
    phones = list(find_phones(s))
    if phones:
        present.add("phone")
    s = mask(s, phones)
    dates = find_dates(s, claim_month)
    has_contact, contact = find_contact_date(s, dates)
    if has_contact:
        present.add("contact_date")

    insurance_type = find_insurance_type(s, labels)
    if insurance_type is not None or has_labelled_answer(labels, "insurance_type"):
        present.add("insurance_type")
    relation = find_relation(s, labels)
    if relation is not None:
        present.add("relation")

    # look-alikes, on text without labels and dates; each found one is blanked for the next
    s = mask(s, [(d.start, d.end) for d in dates] + [(lb.start, lb.end) for lb in labels])
    present |= lookalike_items(s, labels, insurance_type)
    return Tekiyo(frozenset(present), insurance_type, contact, relation)
