"""The stored codes, as names (DOMAIN §3, §7, CONTRACT §1).

Normalisation turns every accepted spelling of a value (「男性」, 「被扶養者」, 「無効（新しい資格
あり）」 …) into its code ("1", "2", …); rules compare with the members below, never with
bare strings. A member is a ``str`` (``StrEnum``), so ``column.eq(OnlineValidity.VALID)``
and ``column.isin([...])`` work on the code columns as they are.

Each member carries its Japanese label (``label_ja``, what a clerk reads) and the
spellings accepted for it besides the code itself (``spellings``, as they are after NFKC
and with spaces removed); ``spelling_table`` turns an enum into the reader's lookup table.
``str(member)`` is the plain code (``.value`` is typed loosely by mypy for these enums).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any


class Code(StrEnum):
    """A stored code: value = the code, plus its Japanese label and accepted spellings."""

    _value_: str
    label_ja: str
    spellings: tuple[str, ...]

    if not TYPE_CHECKING:  # mypy would read ``Relation("1")`` as a call of this ``__new__``

        def __new__(cls, code: str, label_ja: str, spellings: tuple[str, ...] = ()) -> Any:
            member = str.__new__(cls, code)
            member._value_ = code
            member.label_ja = label_ja
            member.spellings = spellings
            return member


class OnlineValidity(Code):
    """資格有効性 of an online result (QualificationValidity, DOMAIN §3, §5)."""

    VALID = "1", "有効", ("有効", "資格有効")
    INVALID = "2", "無効", ("無効", "資格無効")
    INVALID_NEW = (
        "3",
        "無効（新しい資格あり）",
        ("無効(新しい資格あり)", "資格無効(新しい資格あり)", "無効(新資格あり)"),
    )
    NOT_FOUND = "4", "該当資格なし", ("該当資格なし", "資格情報なし", "該当なし")
    MULTIPLE = "5", "複数該当", ("複数該当",)


class Relation(Code):
    """本人・家族 (PersonalFamilyClassification; 種別 of a claim)."""

    SELF = "1", "本人", ("本人", "本", "被保険者", "被保険者本人")
    FAMILY = "2", "家族", ("家族", "家", "被扶養者", "被保険者家族")


class Sex(Code):
    """性別 (Sex1 of an online result, 男女区分 of a receipt)."""

    MALE = "1", "男", ("男", "男性", "M")
    FEMALE = "2", "女", ("女", "女性", "F")


class CardKind(Code):
    """How eligibility was shown: the receipt's 資格確認方法 and a card record's 証の種類 (CONTRACT §1).

    Both are free text in the exports; ``rules.domain.cards.card_kind`` reads them into
    these codes (after NFKC, spaces removed). ``PAPER`` is the old 健康保険証 (DOMAIN §3:
    expired 2025-12-01, accepted provisionally until 2026-03-31).
    """

    MYNA = "myna", "マイナ保険証", ("マイナ保険証", "マイナンバーカード", "マイナカード")
    PORTAL = "portal", "マイナポータル", ("マイナポータル", "マイナポータル画面")
    CERTIFICATE = "certificate", "資格確認書", ("資格確認書",)
    NOTICE = "notice", "資格情報のお知らせ", ("資格情報のお知らせ",)
    PAPER = (
        "paper",
        "健康保険証",
        (
            "健康保険証",
            "保険証",
            "被保険者証",
            "健康保険被保険者証",
            "国民健康保険被保険者証",
            "紙の保険証",
            "従来の保険証",
            "旧保険証",
        ),
    )


class ReturnClass(Code):
    """The class of a 返戻 (DOMAIN §7), read from its reason by ``rules.domain.return_reasons``."""

    ELIGIBILITY = "eligibility", "資格"
    FUSHO = "fusho", "不詳 記載不備"
    RATIO = "ratio", "負担割合"
    OTHER = "other", "その他"


class MatchMethod(Code):
    """How a 返戻 was matched to its claim (``match_method``), strongest first."""

    RECEIPT_NO = "receipt_no", "レセプト番号"
    PATIENT_MONTH = "patient_month", "患者ID・診療年月"
    INSURER_NUMBER = "insurer_number", "診療年月・保険者番号・番号"
    KANA_BIRTH_SEX = "kana_birth_sex", "カナ氏名・生年月日・性別"


def labels_ja(codes: type[Code]) -> Mapping[str, str]:
    """code -> Japanese label, with plain ``str`` keys (for ``Series.map``)."""
    return {str(m): m.label_ja for m in codes}


def spelling_table(codes: type[Code]) -> dict[str, str]:
    """Every accepted spelling (the code itself included) -> the code, as plain ``str``."""
    return {s: str(m) for m in codes for s in (str(m), *m.spellings)}
