"""Association surveys, the clinic side: no patient field can leave the clinic.

The schema refuses any field it does not declare (when reading and when writing), and a
submission built by ``henrei survey export`` from the bundled sample month is searched for
every name, カナ, birth date, insurer number and 記号・番号 of the inputs: none is there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from rules.domain.insurer import insurance_kind
from worker.survey.schema import (
    SCHEMA,
    Count,
    FullCharge,
    Money,
    Returns,
    Submission,
    SubmissionError,
    decode_envelope,
    encode_envelope,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_receipts"
HENREI = Path(sys.executable).parent / "henrei"
#: the input columns that identify a patient or a card (CONTRACT §1 headers)
PATIENT_HEADERS = ("氏名", "患者氏名", "カナ氏名", "氏名カナ", "フリガナ", "生年月日", "保険者番号", "記号", "番号",
                   "被保険者証記号", "被保険者証番号", "患者ID", "患者番号", "カルテ番号", "レセプト番号")  # fmt: skip


def _submission(**changes: object) -> Submission:
    base = dict(
        schema=SCHEMA, clinic="13-0042", prefecture="東京都", clinic_type="医科診療所", month="2026-10",
        henrei_version="0.1.0", created_at=datetime(2026, 11, 5, tzinfo=UTC), receipts=327,
        counts=[Count("name_mismatch", "warning", "国保", 2)], returns=Returns(), full_charge=FullCharge(),
        money=Money(),
    )  # fmt: skip
    base.update(changes)
    return Submission(**base)  # type: ignore[arg-type]


def _with(data: bytes, path: tuple[str, ...], key: str, value: object) -> bytes:
    doc = json.loads(data)
    node = doc
    for p in path:
        node = node[p]
    node[key] = value
    return json.dumps(doc, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("path", "key", "value"),
    [
        (("submission",), "patient_name", "山田 太郎"),
        (("submission",), "patients", [{"id": "P001"}]),
        (("submission", "returns"), "note", "ヤマダ タロウ"),
        (("submission", "full_charge"), "birth_date", "1950-03-05"),
        ((), "comment", "x"),
    ],
)
def test_a_field_the_schema_does_not_declare_is_refused(path: tuple[str, ...], key: str, value: object) -> None:
    good = encode_envelope(_submission())
    assert decode_envelope(good).submission == _submission()
    with pytest.raises(SubmissionError, match="様式に合いません"):
        decode_envelope(_with(good, path, key, value))


def test_a_count_row_with_an_extra_field_or_free_text_is_refused() -> None:
    good = encode_envelope(_submission())
    doc = json.loads(good)
    doc["submission"]["counts"][0]["patient_id"] = "P001"
    with pytest.raises(SubmissionError):
        decode_envelope(json.dumps(doc).encode())
    # free text where a code is expected: a category, an insurance kind, a clinic ID in kana
    for field, value in (("category", "山田 太郎"), ("insurance_kind", "ヤマダ")):
        doc = json.loads(good)
        doc["submission"]["counts"][0][field] = value
        with pytest.raises(SubmissionError):
            decode_envelope(json.dumps(doc, ensure_ascii=False).encode())
    doc = json.loads(good)
    doc["submission"]["clinic"] = "ヤマダクリニック"
    with pytest.raises(SubmissionError):
        decode_envelope(json.dumps(doc, ensure_ascii=False).encode())


def test_writing_refuses_what_reading_would_refuse() -> None:
    bad = _submission(clinic="山田医院")  # msgspec does not check constraints on construction
    with pytest.raises(msgspec.ValidationError):
        encode_envelope(bad)


def test_the_content_hash_catches_an_edited_file() -> None:
    data = encode_envelope(_submission())
    edited = _with(data, ("submission",), "receipts", 1)
    with pytest.raises(SubmissionError, match="ハッシュ"):
        decode_envelope(edited)


def test_insurance_kind_from_the_insurer_number() -> None:
    numbers = pd.Series(["138057", "00138057", "39280003", "01040013", "1040013", "06139999", "33120015",
                         "67130001", "12130005", "77777777", "", None, "abc", "98134452"])  # fmt: skip
    assert insurance_kind(numbers).tolist() == [
        "国保", "国保", "後期", "社保", "社保", "社保", "社保", "国保", "公費", "不詳", "不明", "不明", "不明", "不明",
    ]  # fmt: skip


def _header(cell: object) -> str:
    return "".join(unicodedata.normalize("NFKC", str(cell)).split())


def _input_values() -> set[str]:
    """Every value of the sample inputs' patient columns, as written and as a date."""
    values: set[str] = set()
    for f in sorted(SAMPLES.rglob("*")):
        if f.suffix == ".xlsx":
            wb = CalamineWorkbook.from_path(str(f))
            sheets = [wb.get_sheet_by_index(i).to_python() for i in range(len(wb.sheet_names))]
        elif f.suffix == ".csv":
            sheets = [pd.read_csv(f, dtype=str, header=None, encoding_errors="replace").fillna("").values.tolist()]
        else:
            continue
        for rows in sheets:
            head = next((i for i, r in enumerate(rows[:15]) if any(_header(c) in PATIENT_HEADERS for c in r)), None)
            if head is None:
                continue
            cols = [j for j, c in enumerate(rows[head]) if _header(c) in PATIENT_HEADERS]
            for r in rows[head + 1 :]:
                for j in cols:
                    v = r[j] if j < len(r) else ""
                    text = v.isoformat()[:10] if hasattr(v, "isoformat") else str(v).strip()
                    if text.endswith(".0"):
                        text = text[:-2]
                    if len(text) >= 4:
                        values.add(text)
    return values


def test_a_submission_from_the_sample_month_holds_no_patient_value(tmp_path: Path) -> None:
    clinics = tmp_path / "clinics.toml"
    clinics.write_text('[C001]\nassociation_id = "13-0042"\nprefecture = "東京都"\nclinic_type = "医科診療所"\n')
    env = {**os.environ, "HENREI_SURVEY_CLINICS": str(clinics), "HENREI_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [str(HENREI), "survey", "export", "--clinic", "C001", "--month", "2026-10", "--from", str(SAMPLES),
         "--out", str(tmp_path / "out")],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (written,) = (tmp_path / "out").glob("henrei-survey-*.json")
    data = written.read_bytes()
    sub = decode_envelope(data).submission
    assert sub.receipts > 300 and sum(c.events for c in sub.counts) > 50  # a real month, not an empty file
    assert {c.insurance_kind for c in sub.counts} >= {"国保", "社保", "後期", "不詳"}
    # every leaf of the file as text (the hash is of the content, it cannot carry a value)
    doc = json.loads(data)
    doc.pop("sha256")
    leaves: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                leaves.append(str(k))
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        else:
            leaves.append(str(node))

    walk(doc)
    text = json.dumps(doc, ensure_ascii=False)
    values = _input_values()
    assert len(values) > 500  # names, kana, birth dates, insurer and card numbers were found
    leaked = sorted(v for v in values if v in leaves or (not v.isdigit() and v in text))
    assert leaked == []
