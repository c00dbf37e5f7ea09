"""What is recognised in a 不詳 摘要 by its *words* (``rules.domain.tekiyo``).

保険種別 keywords, insurer names, company names (事業所名), addresses, katakana names and
本人・家族, and whether a label carries an answer. Works on text prepared by
``rules.domain.tekiyo_shapes`` (labels found, digits blanked). The heuristics are described
in ``rules.domain.tekiyo``; ``parse_tekiyo`` there is the entry point.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from rules.domain.codes import Relation
from rules.domain.tekiyo_shapes import BLANK, KANJI, NAME_CHAR, UNKNOWN, Label, mask, owned_by_other

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
_NAME_BEFORE = re.compile(rf"{NAME_CHAR}+$")


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


def find_insurance_type(s: str, labels: list[Label]) -> str | None:
    """The 保険種別 written (canonical, see ``Tekiyo.insurance_type``); a labelled one first."""
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
    rf"(?<!{NAME_CHAR})(?:全国健康保険協会(?:\s?{NAME_CHAR}*?支部|\s?\(?{_PREF}\)?)?"
    rf"|協会(?:けんぽ|健保)\s?\(?(?:{NAME_CHAR}+?支部|{_PREF})\)?"
    rf"|(?P<pre>{NAME_CHAR}{{2,}}?)(?:健康保険組合|健保組合|国民健康保険組合|国保組合|共済組合|共済会|共済"
    r"|国民健康保険|国保|健保|後期高齢者医療広域連合|広域連合|市役所|区役所|町役場|村役場))"
)
#: a word that is just a municipality (新宿区, 横浜市): the insurer of 国保 and 後期 patients
_MUNICIPALITY = re.compile(rf"(?<!{NAME_CHAR})(?!{_PREF}){NAME_CHAR}{{1,6}}?[市区町村](?!{NAME_CHAR})")
_MUNICIPAL_TYPES: Final[frozenset[str]] = frozenset({"国保", "後期"})
#: prefixes that make a type word, not a name
_NOT_A_NAME_PREFIX: Final[frozenset[str]] = frozenset({"市町村", "組合", "協会", "政管", "政府管掌", "社会", "被用者"})

_EMPLOYER = re.compile(
    r"株式会社|有限会社|合同会社|合資会社|合名会社|\((?:株|有|合)\)"
    r"|(?:一般|公益)?(?:社団|財団)法人|医療法人|社会福祉法人|学校法人|NPO法人|特定非営利活動法人"
    rf"|(?<!{NAME_CHAR}){NAME_CHAR}+?(?:商店|商会|商事|工業(?!団地)|工務店|建設|製作所|産業|興業|運輸|物産|電機|事務所|病院|医院"
    r"|クリニック|大学|学園|銀行|信用金庫|農協|生協|協同組合)"
    rf"|(?<!{NAME_CHAR})(?:自営業?|個人事業主?|無職)(?!{NAME_CHAR})"
)

_BLOCK_NO = r"(?<!\d)(?:\d+(?:\s?-\s?\d+)+|\d+丁目|\d+番地?|\d+号)"
_ADDRESS = re.compile(
    rf"{_PREF}{NAME_CHAR}{{0,6}}?[市区町村郡]"  # 東京都新宿区, 神奈川県横浜市
    rf"|{NAME_CHAR}{{1,10}}?[市区町村郡][^\x00\n]{{0,15}}?{_BLOCK_NO}"  # 新宿区西新宿1-2-3
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
    rf"(?<![{KANJI}])(?:(?P<one>被保険者本人|被保険者|本人)|(?P<two>被扶養者|家族))(?![{KANJI}ぁ-ゖ])"
)


_RELATION_CODES: Final[frozenset[str]] = frozenset(str(r) for r in Relation)
_NC_RE = re.compile(NAME_CHAR)


def _widen(s: str, a: int, b: int) -> tuple[int, int]:
    """A look-alike's span grown to its whole word: 「(株)トヨタ」, not 「(株)」."""
    while a > 0 and _NC_RE.match(s[a - 1]):
        a -= 1
    while b < len(s) and (_NC_RE.match(s[b]) or s[b] in "()"):
        b += 1
    return a, b


def find_relation(s: str, labels: list[Label]) -> Relation | None:
    """本人/家族: a labelled code or word (under 本人・家族 or 種別), else a word on its own."""
    for lb in labels:
        if lb.item in ("relation", "insurance_type"):
            if lb.value in _RELATION_CODES:
                return Relation(lb.value)
            if m := _RELATION_WORD.search(lb.value):
                return Relation.SELF if m.group("one") else Relation.FAMILY
    m = _RELATION_WORD.search(mask(s, [(lb.start, lb.end) for lb in labels]))
    if m:
        return Relation.SELF if m.group("one") else Relation.FAMILY
    return None


def has_labelled_answer(labels: list[Label], item: str) -> bool:
    """A label of ``item`` carries an answer."""
    for lb in labels:
        if lb.item != item or BLANK.fullmatch(lb.value):
            continue
        unknown = bool(UNKNOWN.fullmatch(lb.value))
        if item == "insurance_type" and (lb.value in _RELATION_CODES or _RELATION_WORD.fullmatch(lb.value)):
            continue  # 「種別：本人」 is 本人・家族
        if item in ("insurance_type", "insurer_name", "employer"):
            return True
        if item == "kana_name" and _HAS_KANA.search(lb.value):
            return True
        if item == "address" and not unknown:
            return True
    return False


def lookalike_items(s: str, labels: list[Label], insurance_type: str | None) -> set[str]:
    """The items among 保険者等名称, 事業所名, 住所 and カナ氏名 that ``s`` records.

    ``s`` is the text with labels, dates and phones already blanked; each look-alike found
    is blanked before the next kind is looked for (an insurer name is no company name).
    A labelled answer counts as well.
    """
    found_items: set[str] = set()
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
            if (spans and m.start() < spans[-1][1]) or owned_by_other(labels, m.start(), item):
                continue
            spans.append(_widen(s, *m.span()))
        if spans or has_labelled_answer(labels, item):
            found_items.add(item)
        s = mask(s, spans)
    if has_labelled_answer(labels, "kana_name") or any(
        run.replace(" ", "").replace("・", "") not in _NOT_A_NAME
        and len(run.replace(" ", "").replace("・", "")) >= 2
        and not _BUILDING.search(run)
        and not owned_by_other(labels, m.start(1), "kana_name", also=frozenset({"name"}))
        for m in _KANA_RUN.finditer(s)
        for run in (m.group(1),)
    ):
        found_items.add("kana_name")
    return found_items
