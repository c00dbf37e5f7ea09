"""The online eligibility terminal's result XML → an online-results raw table.

Single results (``OQSsiquc01res_*.xml``: ``XmlMsg/MessageBody`` with ``QualificationValidity``
and ``ResultList/ResultOfQualificationConfirmation``) and bulk results
(``OQSmuquc02res_*.xml``: one ``MessageBody/BulkConfirmUnit`` per person, each with its own
``QualificationValidity``, ``ResultOfQualificationConfirmation`` and
``QualificationConfirmSearchInfo``). Element names as modelled by hangilc/myclinic-ts
(``packages/onshi-result``) and by a public C# model of the bulk result (README).

The bytes are decoded as the XML declaration says (Shift_JIS is read as CP932, a superset;
UTF-8 otherwise) *before* parsing, then parsed by lxml with entities, DTDs and the network
off. Every value stays text: ``InsuredPartialContributionRatio`` "010" is 1割.
"""

from __future__ import annotations

import re
from typing import Final

from lxml import etree

from worker.reading.native import LineProblem, NativeFormatError, NativeTable

__all__ = ["ONLINE_FIELDS", "read_result_xml"]

_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._\-]+)["'][^>]*\?>""")
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")

#: field -> path below ResultOfQualificationConfirmation (first found wins)
ONLINE_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "insurer_no": ("InsurerNumber",),
    "card_symbol": ("InsuredCardSymbol",),
    "card_number": ("InsuredIdentificationNumber",),
    "card_branch": ("InsuredBranchNumber",),
    "relation": ("PersonalFamilyClassification",),
    "name": ("Name",),
    "name_kana": ("NameKana",),
    "sex": ("Sex1",),
    "birth_date": ("Birthdate",),
    "address": ("Address",),
    "online_ratio": (
        "InsuredPartialContributionRatio",
        "ElderlyRecipientCertificateInfo/ElderlyRecipientContributionRatio",
    ),
    "limit_category": ("LimitApplicationCertificateRelatedInfo/LimitApplicationCertificateClassificationFlag",),
    "card_valid_until": ("InsuredCardExpirationDate",),
}

HEADERS: Final = {
    "patient_id": "ArbitraryIdentifier（任意識別子）",
    "checked_on": "QualificationConfirmationDate（資格確認日）",
    "validity": "QualificationValidity（資格有効性）",
    **{f: paths[0].rsplit("/", 1)[-1] for f, paths in ONLINE_FIELDS.items()},
}


def _decode(data: bytes, name: str) -> str:
    m = _DECLARED.match(data[:200].lstrip(b"\xef\xbb\xbf"))
    declared = (m.group(1).decode("ascii") if m else "UTF-8").lower().replace("_", "-")
    codec = "cp932" if declared in ("shift-jis", "sjis", "x-sjis", "windows-31j", "cp932", "ms932") else declared
    if codec not in ("utf-8", "utf8", "cp932"):
        raise NativeFormatError(f"{name}: 文字コード「{declared}」のXMLには対応していません（Shift_JIS・UTF-8のみ）。")
    try:
        if codec == "cp932" and not data.isascii() and _is_utf8(data):
            at = next(i for i, c in enumerate(data) if c >= 0x80)
            raise UnicodeDecodeError("cp932", data, at, len(data), "UTF-8 bytes declared Shift_JIS")
        text = data.decode("utf-8-sig" if codec.startswith("utf") else codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise NativeFormatError(
            f"{name} の {line}行目: 文字コードが宣言（{declared}）と違います。"
            "資格確認端末が出力したままのファイルを置いてください。"
        ) from exc
    declaration = _DECLARATION.match(text[:300])
    return text[declaration.end() :] if declaration else text


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_PARSER: Final = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False, recover=False
)


def _text(el: etree._Element | None, path: str) -> str | None:
    if el is None:
        return None
    found = el.find(path)
    if found is None or found.text is None or not found.text.strip():
        return None
    return str(found.text.strip())


def _value(el: etree._Element | None) -> str | None:
    text = el.text if el is not None else None
    return text.strip() or None if text else None


def _texts(el: etree._Element | None) -> dict[str, str]:
    """The non-empty texts of an element's children, by tag."""
    if el is None:
        return {}
    return {str(c.tag): t for c in el if c.text and (t := c.text.strip())}


def read_result_xml(data: bytes, name: str) -> list[NativeTable]:
    """One online-results table from a single or bulk result file; [] for a request file."""
    text = _decode(data, name)
    try:
        root = etree.fromstring(text.encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 0
        raise NativeFormatError(
            f"{name} の {line}行目: XMLとして読めません（ファイルが途中で切れているか、壊れています）。"
            "資格確認端末の結果フォルダから置き直してください。"
        ) from exc
    if root.getroottree().docinfo.doctype:
        raise NativeFormatError(f"{name}: 文書型宣言（DOCTYPE）のあるXMLは読み込みません。")
    if root.tag != "XmlMsg" or root.find("MessageHeader") is None:
        raise NativeFormatError(f"{name}: 資格確認結果のXML（XmlMsg）ではありません。")
    header = root.find("MessageHeader")
    body = root.find("MessageBody")
    if _text(header, "SegmentOfResult") is None and body is None:
        return []  # a request: no result yet
    checked = _text(header, "QualificationConfirmationDate")
    units = body.findall("BulkConfirmUnit") if body is not None else []
    columns: dict[str, list[str | None]] = {f: [] for f in ("patient_id", "checked_on", "validity", *ONLINE_FIELDS)}
    columns["extra:処理実行日時"] = []
    rows: list[int] = []
    problems: list[LineProblem] = []
    people = units if units else ([body] if body is not None else [])
    exec_time = _text(header, "ProcessExecutionTime")
    fallback_id = None if units else _text(header, "ArbitraryFileIdentifier")
    for unit in people:
        # each element's children once, by tag (one pass instead of a search per field)
        own = {c.tag: c for c in unit}
        result = own.get("ResultOfQualificationConfirmation")
        if result is None and (found := own.get("ResultList")) is not None:
            result = found.find("ResultOfQualificationConfirmation")
        kids = _texts(result)
        line = int((result if result is not None else unit).sourceline or 0)
        status = _value(own.get("ProcessingResultStatus"))
        validity = _value(own.get("QualificationValidity"))
        if status == "2" and validity is None:
            code = _value(own.get("ProcessingResultCode")) or ""
            message = f"{line}行目の照会はエラーで終わっています（コード {code}）。"
            problems.append(LineProblem(line, "ProcessingResultStatus", code, message))
            continue
        search = _texts(own.get("QualificationConfirmSearchInfo"))
        columns["patient_id"].append(search.get("ArbitraryIdentifier") or fallback_id)
        columns["checked_on"].append(checked)
        columns["validity"].append(validity)
        columns["extra:処理実行日時"].append(exec_time)
        for f, paths in ONLINE_FIELDS.items():
            value = None
            for path in paths:
                parent, _, leaf = path.rpartition("/")
                source = _texts(result.find(parent)) if parent and result is not None else kids
                if (value := source.get(leaf)) is not None:
                    break
            columns[f].append(value)
        rows.append(line)
    if not rows and problems:
        raise NativeFormatError(f"{name}: {problems[0].message}")
    return [NativeTable(kind="online", sheet="", columns=columns, rows=rows, headers=dict(HEADERS), problems=problems)]
