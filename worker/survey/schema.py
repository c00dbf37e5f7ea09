"""The survey submission: one clinic-month's counts, versioned and strict.

A submission holds counts and money totals only. Every text field is a code from a
closed list (category, severity, insurance kind, prefecture, clinic type) or a short
ASCII identifier (the clinic as the association knows it, the month, henrei's version):
there is no field a name, kana, birth date or card number could travel in, and a field
not declared here is refused (``forbid_unknown_fields``) — when writing and when reading.
The file is ``{"sha256": ..., "submission": {...}}``: the hash is of the submission's
canonical JSON (msgspec's encoding, fields in declaration order), checked on reading.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime
from typing import Annotated, Final, Literal

import msgspec

from rules import CATEGORIES
from rules.domain.insurer import InsuranceKind

__all__ = [
    "CLINIC_TYPES",
    "INSURANCE_KINDS",
    "PREFECTURES",
    "SCHEMA",
    "Count",
    "Envelope",
    "FullCharge",
    "Money",
    "Returns",
    "Submission",
    "SubmissionError",
    "content_hash",
    "decode_envelope",
    "encode_envelope",
]

#: The schema's name and version; a reader refuses any other.
SCHEMA: Final = "henrei.survey/1"
PREFECTURES: Final[tuple[str, ...]] = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県",
    "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
    "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
    "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)  # fmt: skip
#: 問2 区分 (None in a submission: not configured, shown as 無回答).
CLINIC_TYPES: Final[tuple[str, ...]] = ("医科診療所", "歯科診療所", "病院")
INSURANCE_KINDS: Final[tuple[str, ...]] = tuple(str(k) for k in InsuranceKind)

NonNegative = Annotated[int, msgspec.Meta(ge=0, le=10**12)]
ClinicId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")]
Month = Annotated[str, msgspec.Meta(pattern=r"^20\d\d-(0[1-9]|1[0-2])$")]
Version = Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Za-z.+-]{1,32}$")]
Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]


class SubmissionError(ValueError):
    """A submission that cannot be accepted; the message says why, in Japanese."""


#: the finding categories (CONTRACT §2) as an enum: msgspec checks them while decoding
Category = enum.StrEnum("Category", {c: c for c in CATEGORIES})  # type: ignore[misc]


class Count(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Findings of one category × severity × insurance kind, and their copay differences."""

    category: Category
    severity: Literal["error", "warning", "info"]
    insurance_kind: InsuranceKind
    events: NonNegative
    overpaid_yen: NonNegative = 0
    underpaid_yen: NonNegative = 0


class Returns(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Returns (返戻) of the month's claims by class, and returns that matched no claim."""

    eligibility: NonNegative = 0
    fusho: NonNegative = 0
    ratio: NonNegative = 0
    other: NonNegative = 0
    unmatched: NonNegative = 0

    @property
    def matched(self) -> int:
        return self.eligibility + self.fusho + self.ratio + self.other


class FullCharge(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """10割 collected (問7): cases and the refunds owed."""

    cases: NonNegative = 0
    refund_yen: NonNegative = 0


class Money(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The copay differences of the month's findings (both as magnitudes)."""

    overpaid_yen: NonNegative = 0
    underpaid_yen: NonNegative = 0


class Submission(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One clinic-month (``schema`` first: a reader knows the version before anything else)."""

    schema: Literal["henrei.survey/1"]
    clinic: ClinicId
    prefecture: str | None
    clinic_type: str | None
    month: Month
    henrei_version: Version
    created_at: datetime
    receipts: NonNegative
    counts: list[Count]
    returns: Returns
    full_charge: FullCharge
    money: Money

    def __post_init__(self) -> None:
        if self.prefecture is not None and self.prefecture not in PREFECTURES:
            raise ValueError(f"unknown prefecture {self.prefecture!r}")
        if self.clinic_type is not None and self.clinic_type not in CLINIC_TYPES:
            raise ValueError(f"unknown clinic type {self.clinic_type!r}")
        if self.created_at.tzinfo is None:
            raise ValueError("created_at needs a timezone")
        keys = [(c.category, c.severity, c.insurance_kind) for c in self.counts]
        if len(set(keys)) != len(keys):
            raise ValueError("a category × severity × insurance kind is counted twice")


class Envelope(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The file: the submission and the hash of its canonical JSON."""

    sha256: Sha256
    submission: Submission


_ENCODER: Final = msgspec.json.Encoder()
_DECODER: Final = msgspec.json.Decoder(Envelope)


def content_hash(submission: Submission) -> str:
    return hashlib.sha256(_ENCODER.encode(submission)).hexdigest()


def encode_envelope(submission: Submission) -> bytes:
    """The file's bytes; the submission is validated again by a round trip first, so a
    value built in code that the schema would refuse is never written."""
    checked = msgspec.json.decode(_ENCODER.encode(submission), type=Submission)
    return _ENCODER.encode(Envelope(sha256=content_hash(checked), submission=checked))


def decode_envelope(data: bytes) -> Envelope:
    """The file read strictly: :class:`SubmissionError` (Japanese) when it is not JSON of
    this schema, has a field the schema does not know, or its hash does not match."""
    try:
        env = _DECODER.decode(data)
    except msgspec.ValidationError as exc:
        raise SubmissionError(f"様式に合いません（{exc}）") from None
    except msgspec.DecodeError:
        raise SubmissionError("JSON として読めません") from None
    if content_hash(env.submission) != env.sha256:
        raise SubmissionError("内容のハッシュが一致しません（途中で書き換えられたか、壊れています）")
    return env
