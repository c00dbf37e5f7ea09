"""Input tables of CONTRACT §1: header aliases and how a table's kind is recognised.

Headers are compared after NFKC normalisation and removal of all whitespace, so
``患者 ＩＤ`` and ``患者ID`` are the same header.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

TableKind = Literal["receipts", "online", "cards", "returns"]

TABLE_KINDS: Final[tuple[TableKind, ...]] = ("receipts", "online", "cards", "returns")

TABLE_LABELS_JA: Final[Mapping[str, str]] = {
    "receipts": "レセプト一覧",
    "online": "オンライン資格確認結果",
    "cards": "券面情報",
    "returns": "返戻一覧",
}

#: field -> accepted headers (before normalisation). Shared by every table kind; a field
#: that a kind does not use is simply kept as an extra column.
ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "patient_id": ("患者ID", "患者番号", "カルテ番号", "カルテNo", "カルテNO"),
    "claim_month": ("診療年月", "請求年月"),
    "service_date": ("診療日", "診療開始日", "受診日"),
    "name": ("氏名", "患者氏名", "漢字氏名"),
    "name_kana": ("カナ氏名", "氏名カナ", "フリガナ", "患者カナ氏名", "氏名(カナ)"),
    "sex": ("性別", "男女区分"),
    "birth_date": ("生年月日",),
    "insurer_no": ("保険者番号",),
    "card_symbol": ("記号", "被保険者証記号"),
    "card_number": ("番号", "被保険者証番号"),
    "card_branch": ("枝番",),
    "relation": ("本人家族", "本人・家族", "続柄区分", "本人家族区分"),
    "billed_ratio": ("負担割合", "一部負担金割合"),
    "benefit_ratio": ("給付割合",),
    "days": ("実日数", "診療実日数"),
    "points": ("合計点数", "請求点数"),
    "copay_collected": ("一部負担金", "窓口負担額", "窓口徴収額"),
    "special_notes": ("特記事項",),
    "tekiyo": ("摘要", "摘要欄"),
    "confirmation_method": ("資格確認方法", "確認方法"),
    "visit_type": ("初再診", "初診再診"),
    "checked_on": ("照会日", "確認日", "資格確認日", "照会日時"),
    "validity": ("資格有効性", "資格確認結果"),
    "limit_category": ("限度額適用区分", "限度額区分"),
    "ecert_expiry": ("電子証明書有効期限",),
    "card_valid_until": ("有効期限",),
    "doc_type": ("証の種類",),
    "effective_from": ("発効期日",),
    "issued_on": ("交付年月日",),
    "return_month": ("返戻年月", "処理年月"),
    "receipt_no": ("レセプト番号", "検索番号"),
    "reason_code": ("返戻事由コード", "事由コード"),
    "reason": ("返戻理由", "返戻事由"),
    "note": ("補足", "補足事項"),
    "address": ("住所",),
}


def normalise_header(text: object) -> str:
    """NFKC, no whitespace, no surrounding brackets or stars: how headers are compared."""
    s = unicodedata.normalize("NFKC", str(text)) if text is not None else ""
    s = re.sub(r"\s+", "", s)
    return s.strip("*※")


_HEADER_TO_FIELD: Final[dict[str, str]] = {normalise_header(h): field for field, hs in ALIASES.items() for h in hs}


def field_for_header(header: object) -> str | None:
    """The canonical field a header names, or None for an unknown (kept) column."""
    return _HEADER_TO_FIELD.get(normalise_header(header))


@dataclass(frozen=True)
class HeaderMatch:
    kind: TableKind
    #: column position -> canonical field
    fields: Mapping[int, str]
    #: column position -> header text as found (for messages)
    headers: Mapping[int, str]


def classify_header(cells: Sequence[object]) -> HeaderMatch | None:
    """Recognise a header row and its table kind, or None if the row is no header."""
    fields: dict[int, str] = {}
    headers: dict[int, str] = {}
    for i, c in enumerate(cells):
        if c is None or str(c).strip() == "":
            continue
        f = field_for_header(c)
        if f is not None and f not in fields.values():
            fields[i] = f
            headers[i] = str(c).strip()
    names = set(fields.values())
    if "patient_id" not in names and "receipt_no" not in names and "name_kana" not in names:
        return None
    kind: TableKind | None = None
    if "return_month" in names or "reason" in names or "reason_code" in names:
        kind = "returns"
    elif "checked_on" in names and ("validity" in names or "billed_ratio" in names):
        kind = "online"
    elif "checked_on" not in names and ("doc_type" in names or "effective_from" in names or "issued_on" in names):
        kind = "cards"
    elif "claim_month" in names and ("points" in names or "days" in names):
        kind = "receipts"
    if kind is None or len(names) < 4:
        return None
    if kind == "online" and "billed_ratio" in names:
        # in an online table the 負担割合 column is the online ratio
        fields = {i: ("online_ratio" if f == "billed_ratio" else f) for i, f in fields.items()}
    if kind == "cards" and "billed_ratio" in names:
        fields = {i: ("card_ratio" if f == "billed_ratio" else f) for i, f in fields.items()}
    return HeaderMatch(kind=kind, fields=fields, headers=headers)
