"""The sample month as the clinic's systems write it (issue 15): RECEIPTC.UKE, RECEIPTC.HEN
and the eligibility terminal's result XMLs, from the same rows ``build.py`` writes to Excel.

Written under ``tests/fixtures/native_month/`` (not in ``sample_receipts/``, so that ``henrei demo``, which
reads every file under ``sample_receipts/``, does not read the month twice)::

    tests/fixtures/native_month/2026-09/RECEIPTC.UKE     September claims (検索番号 = the Excel レセプト番号)
    tests/fixtures/native_month/2026-09/RECEIPTC.HEN     the returns received in October
    tests/fixtures/native_month/2026-10/RECEIPTC.UKE     October claims
    tests/fixtures/native_month/2026-10/onshi/res/…      single results (UTF-8), bulk results per check date
                                           (Shift_JIS), one bulk result zipped
    tests/fixtures/native_month/2026-10/onshi/req/…      a request file (ignored by henrei)
    tests/fixtures/native_month/2026-10/card_records_2026-10.xlsx   cards: there is no card file in these formats

Every value is written as the Excel samples carry it; a value the Excel sample seeds as
unreadable is written through unchanged, so the same ``input_invalid`` follows. The billed
ratio goes into レセプト種別 (and 特記事項), and into 給付割合 where the type cannot say it
(国保 always). Not carried by these formats: the e-certificate expiry (no element in the
result XML as modelled by the sources read) and the online ratio of patients under 70 is
written although real terminals fill it for 後期/高齢 only (README).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from xml.sax.saxutils import escape

from benchmarks.synth import BAND_ELDERLY, BAND_KOUKI, BAND_PRESCHOOL, LIMIT_CODES, VALIDITY_WORDS
from worker.reading.uke import CONFIRMATION_CODES

Row = dict[str, object]
CLINIC_CODE = "1312345678"
_CONFIRM = {w: c for c, w in CONFIRMATION_CODES.items()}
_VALIDITY = {w: str(i) for i, w in enumerate(VALIDITY_WORDS) if w}
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _t(value: object) -> str:
    """A field's text: no comma (the format has no quoting), no line break."""
    return "" if value is None else str(value).replace(",", "，").replace("\r", "").replace("\n", " ")


def _ymd(value: object) -> str:
    s = str(value or "")
    return s.replace("-", "") if _ISO.match(s) else s


def _ratio(value: object) -> int | None:
    s = str(value)
    return int(s[:-1]) if s.endswith("割") and s[:-1].isdigit() else None


def receipt_type(r: Row, band: int) -> str:
    """レセプト種別 of an outpatient claim (医科, 単独)."""
    ratio = _ratio(r["負担割合"])
    if band in (BAND_ELDERLY, BAND_KOUKI):
        last = "0" if ratio == 3 else "8"
    elif band == BAND_PRESCHOOL:
        last = "4"
    else:
        last = "2" if r["本人家族"] == "本人" else "6"
    return "1" + ("3" if r["_kind"] == "kouki" else "1") + "1" + last


def type_ratio(kind: str, notes: str) -> int:
    """The 負担割合 the reader derives from レセプト種別 and 特記事項 (worker.reading.uke)."""
    last = kind[3]
    if last in "34":
        return 2
    if last in "78":
        return 1 if kind[1] == "3" and "41" not in re.findall(r"\d\d", notes) else 2
    return 3


def uke_lines(rows: Iterable[Row], band_of: Callable[[Row], int], month: str) -> list[str]:
    """The records of a RECEIPTC.UKE for ``rows`` (one claim each)."""
    out = [f"IR,1,13,1,{CLINIC_CODE[3:]},,見本内科クリニック,{month.replace('-', '')},00,0312345678"]
    total = 0
    for n, r in enumerate(rows, 1):
        band = band_of(r)
        kind = receipt_type(r, band)
        notes = re.sub(r"\D", "", str(r["特記事項"]))
        ratio = _ratio(r["負担割合"])
        benefit = ""
        if r["_kind"] == "kokuho" or ratio is None or ratio != type_ratio(kind, notes):
            benefit = f"{10 - ratio}0" if ratio is not None else _t(r["負担割合"])
        search = str(r.get("レセプト番号") or n)
        re_fields = [
            "RE", str(n), kind, str(r["診療年月"]).replace("-", ""), _t(r["氏名"]),
            "1" if r["性別"] == "男" else "2", _ymd(r["生年月日"]), benefit, "", "", "", notes, "",
            _t(r["患者ID"]), "", "", "", "", search.zfill(17) if search.isdigit() else search, "202406",
            *[""] * 16, _t(r["カナ氏名"]), "",
        ]  # fmt: skip
        out.append(",".join(re_fields))
        insurer = str(r["保険者番号"])
        insurer = insurer.rjust(8) if insurer.isdigit() and len(insurer) == 6 else insurer
        out.append(
            f"HO,{_t(insurer)},{_t(r['記号'])},{_t(r['番号'])},{_t(r['実日数'])},{_t(r['合計点数'])}"
            f",,,,,,{_t(r['一部負担金'])}"
        )
        method = _CONFIRM.get(str(r["資格確認方法"]), _t(r["資格確認方法"]))
        out.append(f"SN,1,{method},{_t(insurer)},{_t(r['記号'])},{_t(r['番号'])},{_t(r['枝番'])},,")
        day = int(str(r["診療日"])[8:10])
        assert str(r["診療日"])[:7] == r["診療年月"], "a service date outside its claim month cannot be written"
        first = r["初再診"] == "初診"
        days = [""] * 31
        days[day - 1] = "1"
        si = ["SI", "11" if first else "12", "1", "111000110" if first else "112007410", "", "291" if first else "75"]
        out.append(",".join([*si, "1", *[""] * 6, *days]))
        for text in str(r["摘要"] or "").split("\n"):
            if text.strip():
                out.append(f"CO,,1,810000001,{_t(text)}")
        total += int(str(r["合計点数"])) if str(r["合計点数"]).isdigit() else 0
    out.append(f"GO,{len(out) - 1},{total},99")
    return out


def hen_lines(returns: Iterable[Row]) -> list[str]:
    """RECEIPTC.HEN: each returned claim's RE/HO and its HR (返戻理由)."""
    out = [f"IR,1,13,1,{CLINIC_CODE[3:]},,見本内科クリニック,202610,00,0312345678"]
    for n, ret in enumerate(returns, 1):
        claim = ret["_claim"]
        search = str(claim["レセプト番号"]).zfill(17) if ret["_receipt_no"] and claim else ""  # type: ignore[index]
        re_fields = [
            "RE", str(n), "1112", str(ret["診療年月"]).replace("-", ""), _t(ret["氏名"]),
            "1" if ret["性別"] == "男" else "2", _ymd(ret["生年月日"]), "", "", "", "", "", "",
            _t(ret["患者ID"]), "", "", "", "", search, "202406", *[""] * 16, _t(ret["カナ氏名"]), "",
        ]  # fmt: skip
        out.append(",".join(re_fields))
        out.append(f"HO,{_t(ret['保険者番号'])},{_t(ret['記号'])},{_t(ret['番号'])},1,{_t(ret['_points'])}")
        out.append(f"HR,202610,1,{_t(ret['返戻事由コード'])},{_t(ret['返戻理由'])},{_t(ret['補足'])}")
    out.append(f"GO,{len(out) - 1},0,99")
    return out


def _write_records(path: Path, lines: list[str]) -> None:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932") + b"\x1a")


def _result(o: Row) -> str:
    """A ResultOfQualificationConfirmation element."""
    ratio = _ratio(o["負担割合"])
    limit = str(o["限度額適用区分"] or "")
    limit_code = LIMIT_CODES.get(limit, limit)
    parts = {
        "InsuredCardClassification": "01",
        "InsurerNumber": o["保険者番号"],
        "InsuredCardSymbol": o["記号"],
        "InsuredIdentificationNumber": o["番号"],
        "InsuredBranchNumber": o["枝番"],
        "PersonalFamilyClassification": {"本人": "1", "家族": "2"}.get(str(o["本人家族"]), o["本人家族"]),
        "Name": o["氏名"],
        "NameKana": o["カナ氏名"],
        "Sex1": o["性別"],
        "Birthdate": _ymd(o["生年月日"]),
        "InsuredCardExpirationDate": _ymd(o["有効期限"]),
        "InsuredPartialContributionRatio": f"{ratio * 10:03d}" if ratio is not None else o["負担割合"],
        "InsurerName": "見本保険者",
    }
    body = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in parts.items() if v not in (None, ""))
    if limit_code:
        body += (
            "<LimitApplicationCertificateRelatedInfo><LimitApplicationCertificateClassificationFlag>"
            f"{escape(limit_code)}</LimitApplicationCertificateClassificationFlag></LimitApplicationCertificateRelatedInfo>"
        )
    return f"<ResultOfQualificationConfirmation>{body}</ResultOfQualificationConfirmation>"


def _validity(o: Row) -> str:
    word = str(o["資格有効性"])
    return _VALIDITY.get(word, word)


def single_xml(o: Row) -> bytes:
    day = _ymd(o["照会日"])
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<XmlMsg>\n<MessageHeader>'
        f"<ProcessExecutionTime>{day}093000</ProcessExecutionTime>"
        f"<QualificationConfirmationDate>{day}</QualificationConfirmationDate>"
        f"<MedicalInstitutionCode>{CLINIC_CODE}</MedicalInstitutionCode>"
        f"<ArbitraryFileIdentifier>{escape(str(o['患者ID']))}</ArbitraryFileIdentifier>"
        "<ReferenceClassification>1</ReferenceClassification><SegmentOfResult>1</SegmentOfResult>"
        "<CharacterCodeIdentifier>0</CharacterCodeIdentifier></MessageHeader>\n<MessageBody>"
        f"<ProcessingResultStatus>1</ProcessingResultStatus><QualificationValidity>{escape(_validity(o))}"
        f"</QualificationValidity>\n<ResultList>{_result(o)}</ResultList>\n</MessageBody>\n</XmlMsg>\n"
    ).encode()


def bulk_xml(day: str, rows: list[Row]) -> bytes:
    units = "".join(
        "<BulkConfirmUnit><QualificationConfirmSearchInfo>"
        f"<ArbitraryIdentifier>{escape(str(o['患者ID']))}</ArbitraryIdentifier></QualificationConfirmSearchInfo>"
        f"<ProcessingResultStatus>1</ProcessingResultStatus><QualificationValidity>{escape(_validity(o))}"
        f"</QualificationValidity>\n{_result(o)}<ReferenceNumber>{n}</ReferenceNumber></BulkConfirmUnit>\n"
        for n, o in enumerate(rows, 1)
    )
    text = (
        '<?xml version="1.0" encoding="Shift_JIS" standalone="no"?>\n<XmlMsg>\n<MessageHeader>'
        f"<ProcessExecutionTime>{day}200000</ProcessExecutionTime>"
        f"<QualificationConfirmationDate>{day}</QualificationConfirmationDate>"
        f"<MedicalInstitutionCode>{CLINIC_CODE}</MedicalInstitutionCode><SegmentOfResult>1</SegmentOfResult>"
        f"<NumberOfProcessingResult>{len(rows)}</NumberOfProcessingResult>"
        "<CharacterCodeIdentifier>1</CharacterCodeIdentifier></MessageHeader>\n"
        f"<MessageBody>\n{units}</MessageBody>\n</XmlMsg>\n"
    )
    return text.encode("cp932")


REQUEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<XmlMsg><MessageHeader><MedicalInstitutionCode>'
    f"{CLINIC_CODE}</MedicalInstitutionCode><ArbitraryFileIdentifier>100001</ArbitraryFileIdentifier>"
    "</MessageHeader></XmlMsg>\n"
)


def write_results(folder: Path, online: list[Row]) -> None:
    """The terminal's folder: the first checks of the month as single results, the rest as
    one bulk result per check date; the last date's bulk result zipped."""
    res, req = folder / "res", folder / "req"
    for f in (res, req):
        shutil.rmtree(f, ignore_errors=True)
        f.mkdir(parents=True)
    ordered = sorted(online, key=lambda o: (str(o["照会日"]), str(o["患者ID"])))
    singles, bulk = ordered[:12], ordered[12:]
    for n, o in enumerate(singles, 1):
        (res / f"OQSsiquc01res_{n:04d}.xml").write_bytes(single_xml(o))
    by_day: dict[str, list[Row]] = {}
    for o in bulk:
        by_day.setdefault(_ymd(o["照会日"]), []).append(o)
    days = sorted(by_day)
    for day in days[:-1]:
        (res / f"OQSmuquc02res_{day}.xml").write_bytes(bulk_xml(day, by_day[day]))
    last = days[-1]
    info = zipfile.ZipInfo(f"OQSmuquc02res_{last}.xml", date_time=(2026, 11, 1, 9, 0, 0))
    with zipfile.ZipFile(res / f"OQSmuquc02res_{last}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(info, bulk_xml(last, by_day[last]))
    (req / "OQSsiquc01req_0001.xml").write_text(REQUEST, encoding="utf-8")


def write_native(
    root: Path,
    months: dict[str, list[Row]],
    online: list[Row],
    returns: list[Row],
    cards_xlsx: Path,
    band_of: Callable[[Row], int],
) -> None:
    """The whole native sample under ``root`` (``tests/fixtures/native_month/``)."""
    for month, rows in months.items():
        folder = root / month
        folder.mkdir(parents=True, exist_ok=True)
        _write_records(folder / "RECEIPTC.UKE", uke_lines(rows, band_of, month))
    _write_records(root / "2026-09" / "RECEIPTC.HEN", hen_lines(returns))
    write_results(root / "2026-10" / "onshi", online)
    shutil.copyfile(cards_xlsx, root / "2026-10" / cards_xlsx.name)


def service_band(birth: Callable[[str, str], int]) -> Callable[[Row], int]:
    """A row's age band at its service date (build.py's ``band_of`` on the row's dates)."""

    def band(r: Row) -> int:
        try:
            return birth(str(r["生年月日"]), str(r["診療日"]))
        except (ValueError, TypeError):
            return {"kouki": BAND_KOUKI}.get(str(r["_kind"]), 1)

    return band


_ = dt  # dates arrive as ISO text
