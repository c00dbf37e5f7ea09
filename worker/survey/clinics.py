"""Which clinics take part in association surveys (opt-in), and how the association knows them.

``HENREI_SURVEY_CLINICS`` names a TOML file, one table per henrei clinic ID::

    [C001]
    association_id = "13-0042"   # the clinic's number at the association (ASCII)
    prefecture = "東京都"         # 問1
    clinic_type = "医科診療所"     # 問2: 医科診療所, 歯科診療所 or 病院 (may be left out: 無回答)

A clinic not listed has not opted in: nothing is exported for it. henrei never sends a
submission anywhere; the clinic hands the file to its association.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from worker.clinic_ids import ClinicIdError, canonical_clinic_id
from worker.config import Settings
from worker.survey.schema import CLINIC_TYPES, PREFECTURES, ClinicId, SubmissionError

__all__ = ["NotOptedInError", "SurveyClinic", "survey_clinic", "survey_clinic_id"]


class NotOptedInError(SubmissionError):
    """The clinic is not in the survey clinics file (or no file is set)."""


class SurveyClinic(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    association_id: ClinicId
    prefecture: str | None = None
    clinic_type: str | None = None

    def __post_init__(self) -> None:
        if self.prefecture is not None and self.prefecture not in PREFECTURES:
            raise ValueError(f"都道府県「{self.prefecture}」は使えません（例: 東京都、大阪府、北海道）")
        if self.clinic_type is not None and self.clinic_type not in CLINIC_TYPES:
            raise ValueError(f"区分「{self.clinic_type}」は使えません（{'、'.join(CLINIC_TYPES)}）")


def survey_clinic_id(text: str) -> str:
    """henrei's clinic ID as the survey looks it up: the canonical form
    (``worker.clinic_ids``); :class:`SubmissionError` (Japanese) when it has none."""
    try:
        return canonical_clinic_id(text)
    except ClinicIdError as exc:
        raise SubmissionError(str(exc)) from None


def survey_clinic(settings: Settings, clinic_id: str) -> SurveyClinic:
    """The clinic's survey entry; :class:`NotOptedInError` when it has not opted in, and
    :class:`SubmissionError` when the file cannot be read (messages in Japanese)."""
    name = "HENREI_SURVEY_CLINICS"
    if not settings.survey_clinics:
        raise NotOptedInError(
            f"調査に参加する医療機関が設定されていません（{name} に参加医療機関のファイルを指定します）"
        )
    path = Path(settings.survey_clinics)
    try:
        data = path.read_bytes()
    except OSError:
        raise SubmissionError(f"{name} のファイル {path} を読めません") from None
    try:
        clinics = msgspec.toml.decode(data, type=dict[str, SurveyClinic])
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise SubmissionError(f"{name} のファイル {path} の内容に誤りがあります（{exc}）") from None
    entries = {survey_clinic_id(k): v for k, v in clinics.items()}
    key = survey_clinic_id(clinic_id)
    if key not in entries:
        raise NotOptedInError(f"医療機関 {key} は調査への参加が設定されていません（{name}: {path}）")
    return entries[key]
