"""Classify a return (返戻) from its reason code and text (DOMAIN §7).

Classes: ``eligibility`` (資格返戻, with the MHLW subtypes), ``fusho`` (不詳レセプトの記載不備),
``ratio`` (負担割合), ``other``. Return reason codes differ between 支払基金 and 国保連 and
between years; no official code table is at hand, so the text (返戻理由, 補足) decides and
a code only counts when it carries words itself. Letters A–D are 査定 reasons, not returns.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from rules.domain.codes import ReturnClass, labels_ja

#: (subtype, pattern) in matching order: more specific first.
ELIGIBILITY_SUBTYPES: Final[tuple[tuple[str, str], ...]] = (
    ("認定外家族", r"認定外"),
    ("資格喪失後の受診", r"喪失"),
    ("給付期間満了", r"給付期間|期間満了"),
    ("後期高齢者該当", r"後期"),
    ("国保該当", r"国保該当|国民健康保険該当|国保"),
    ("旧証", r"旧証|旧保険証|旧資格"),
    ("本人・家族等誤り", r"本人|家族|続柄|本家"),
    ("生年月日の誤り", r"生年月日"),
    ("性別の誤り", r"性別"),
    ("氏名の誤り", r"氏名|名前|カナ"),
    ("該当者なし", r"該当者なし|該当なし|該当者無|資格なし|資格無し|被保険者不存在"),
    ("記号・番号の誤り", r"記号|番号|保険者番号"),
)
_FUSHO: Final = re.compile(r"不詳|記載不備|記載漏れ|摘要|連絡先|申立")
_RATIO: Final = re.compile(r"負担割合|給付割合|一部負担|負担区分|給付率|割合")
_ELIGIBILITY_WORDS: Final = re.compile(r"資格|被保険者|受給者|保険者")

#: class -> Japanese label, in ``ReturnClass`` order
CLASS_LABELS_JA: Final[dict[str, str]] = dict(labels_ja(ReturnClass))


def classify_return(reason: str, code: str = "", note: str = "") -> tuple[ReturnClass, str]:
    """(class, subtype) of a return; subtype is '' when there is none."""
    text = unicodedata.normalize("NFKC", f"{reason} {note} {code}")
    if _FUSHO.search(text):
        return ReturnClass.FUSHO, "記載不備"
    for subtype, pattern in ELIGIBILITY_SUBTYPES:
        if re.search(pattern, text):
            return ReturnClass.ELIGIBILITY, subtype
    if _RATIO.search(text):
        return ReturnClass.RATIO, ""
    if _ELIGIBILITY_WORDS.search(text):
        return ReturnClass.ELIGIBILITY, "その他の資格誤り"
    return ReturnClass.OTHER, ""
