"""RECEIPTC.UKE (claims) and RECEIPTC.HEN / RECEIPTC.SAH (returns) → raw tables.

The レセプト電算処理システム record files: CP932 text (Shift_JIS in name; 外字 such as 髙
occur), CRLF, comma-separated without quoting, EOF 0x1A. One claim is a block starting
with its ``RE`` record; the records after it up to the next ``RE`` belong to it. Column
positions follow the 記録条件仕様 as mapped by yokenzan/receiptisan
(``lib/recediff/model/receipt_computer/digitalized_receipt/record.rb``); where the
README says a position is not from that map, it says so.

Two editions are read: the current one (診療年月 ``YYYYMM``, 生年月日 ``YYYYMMDD``,
カタカナ氏名 at RE 37, the edition in RE 20 「記録条件仕様年月情報」) and the previous one
(和暦 ``GYYMM`` / ``GYYMMDD`` with era digit 1 明治 … 5 令和, no カタカナ氏名). Every value
stays text; 和暦 values are rewritten as ``R8.10.3`` text for the normaliser.

Everything per receipt is done on whole Arrow/NumPy columns: the lines are split once,
the records of a block found by a running count of ``RE`` records.
"""

from __future__ import annotations

import re
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from worker.reading.native import LineProblem, NativeFormatError, NativeTable

__all__ = ["CONFIRMATION_CODES", "KNOWN_RECORDS", "read_uke"]

#: record IDs of the 記録条件仕様 (claims, and the HEN/SAH return records HI, HR, HG)
KNOWN_RECORDS: Final = frozenset(
    {"IR", "RE", "HO", "KO", "SN", "JD", "MF", "SY", "SI", "IY", "TO", "CO", "SJ", "TI", "TK", "GR", "NI", "KH", "SK"}
    | {"RC", "GO", "HI", "HR", "HG"}
)
#: fewest fields a record must have to be read (RE up to 検索番号, HO up to 合計点数)
_MIN_FIELDS: Final = {"RE": 19, "HO": 6, "KO": 6, "SN": 7, "HR": 4}

# positions (0-based; receiptisan's record.rb)
RE_TYPE, RE_MONTH, RE_NAME, RE_SEX, RE_BIRTH, RE_BENEFIT = 2, 3, 4, 5, 6, 7
RE_NOTES, RE_KARTE, RE_SEARCH, RE_EDITION, RE_KANA = 11, 13, 18, 19, 36
HO_INSURER, HO_SYMBOL, HO_NUMBER, HO_DAYS, HO_POINTS, HO_COPAY = 1, 2, 3, 4, 5, 11
KO_PAYER, KO_RECIPIENT, KO_DAYS, KO_POINTS = 1, 2, 4, 5
SN_CONFIRM, SN_BRANCH = 2, 6
SI_KIND, SI_FIRST_DAY = 1, 13  # 診療識別; 算定日 1日 … 31日 at 13 … 43
CO_TEXT = 4
#: HR (返戻理由): 処理年月, 返戻区分, 返戻事由コード, 返戻理由, 補足事項 in the order DOMAIN §7
#: and the issue list them — no public column map of HR was found (README: doubtful)
HR_MONTH, HR_KIND, HR_CODE, HR_REASON, HR_NOTE = 1, 2, 3, 4, 5

#: SN 確認区分 → the confirmation method words of CONTRACT §1. NOT from a source read: check
#: against the 記録条件仕様's code table (README: doubtful).
CONFIRMATION_CODES: Final = {"01": "マイナ保険証", "02": "資格確認書", "03": "保険証", "04": "資格情報のお知らせ"}

_ERAS: Final = {"1": "M", "2": "T", "3": "S", "4": "H", "5": "R"}

#: field -> how messages name it
HEADERS: Final = {
    "patient_id": "RE カルテ番号等", "claim_month": "RE 診療年月", "name": "RE 氏名",
    "name_kana": "RE カタカナ氏名", "sex": "RE 男女区分", "birth_date": "RE 生年月日",
    "benefit_ratio": "RE 給付割合", "billed_ratio": "RE レセプト種別・特記事項（負担割合）",
    "special_notes": "RE 特記事項", "receipt_no": "RE 検索番号", "insurer_no": "HO 保険者番号",
    "card_symbol": "HO 記号", "card_number": "HO 番号", "card_branch": "SN 枝番",
    "relation": "RE レセプト種別（本人・家族）", "days": "HO 診療実日数", "points": "HO 合計点数",
    "copay_collected": "HO 負担金額", "confirmation_method": "SN 確認区分",
    "service_date": "SI 算定日", "visit_type": "SI 診療識別", "tekiyo": "CO コメント",
    "return_month": "HR 処理年月", "reason_code": "HR 返戻事由コード", "reason": "HR 返戻理由",
    "note": "HR 補足事項",
}  # fmt: skip


def _decode(data: bytes, name: str) -> str:
    body = data.rstrip(b"\x1a\r\n")
    try:
        body.decode("utf-8")
        utf8 = not body.isascii()  # Japanese CP932 text is practically never valid UTF-8
    except UnicodeDecodeError:
        utf8 = False
    try:
        if utf8:
            raise UnicodeDecodeError("cp932", body, _first_non_ascii(body), len(body), "UTF-8 text")
        return body.decode("cp932")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        why = "UTF-8 で保存されています" if utf8 else "Shift_JIS（CP932）として読めない文字があります"
        raise NativeFormatError(
            f"{name} の {line}行目: 文字コードが違います（{why}）。レセプト電算処理ファイルは"
            "レセコンが出力したまま（Shift_JIS）で置いてください。"
        ) from exc


def _first_non_ascii(body: bytes) -> int:
    return next(i for i, c in enumerate(body) if c >= 0x80)


def _null_empty(a: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(a, ""), pa.scalar(None, pa.string()), a)


#: fields each record is padded to before splitting (SI: 算定日 31日 at 43)
_WIDTHS: Final = {"RE": 38, "HO": 15, "KO": 12, "SN": 9, "SI": 44, "CO": 5, "HR": 6}


def _mask(col: pa.Array) -> np.ndarray:
    """A boolean Arrow array as NumPy (nulls False)."""
    b = pc.fill_null(col, False)
    return np.unpackbits(np.frombuffer(b.buffers()[1], dtype=np.uint8), bitorder="little")[
        b.offset : b.offset + len(b)
    ].astype(bool)


class _Lines:
    """The file's lines; each record type's lines split once (padded to its width) into
    field lists, fields taken as Arrow columns. Nothing here converts strings to NumPy
    (pyarrow would import pandas for that, which the reader child does not load)."""

    def __init__(self, text: str) -> None:
        lines = re.split(r"\r?\n", text)
        self.n = len(lines)
        self.arr = pa.array(lines, type=pa.string())
        self.rec = pc.utf8_trim_whitespace(pc.list_element(pc.split_pattern(self.arr, ",", max_splits=1), 0))
        self._split: dict[str, tuple[np.ndarray, pa.ListArray]] = {}
        self._cache: dict[tuple[str, int, bool], pa.Array] = {}

    def where(self, record: str) -> np.ndarray:
        return _mask(pc.equal(self.rec, record))

    def records(self, record: str) -> tuple[np.ndarray, pa.ListArray]:
        """Line indices of ``record`` and their field lists."""
        if record not in self._split:
            idx = np.flatnonzero(self.where(record))
            sub = self.arr.take(pa.array(idx, type=pa.int64()))
            pad = "," * _WIDTHS.get(record, 8)
            self._split[record] = idx, pc.split_pattern(pc.binary_join_element_wise(sub, pad, ""), ",")
        return self._split[record]

    def count(self, record: str) -> np.ndarray:
        idx, _ = self.records(record)
        sub = self.arr.take(pa.array(idx, type=pa.int64()))
        return np.asarray(pc.add(pc.count_substring(sub, ","), 1))

    def field(self, record: str, j: int, *, raw: bool = False) -> pa.Array:
        """Field ``j`` of every ``record`` line (trimmed unless ``raw``; "" as null)."""
        key = (record, j, raw)
        if key not in self._cache:
            col = pc.list_element(self.records(record)[1], j)
            self._cache[key] = _null_empty(col if raw else pc.utf8_trim_whitespace(col))
        return self._cache[key]


class _Blocks:
    """Which ``RE`` block each line belongs to, and per-block lookups of other records."""

    def __init__(self, lines: _Lines) -> None:
        self.lines = lines
        is_re = lines.where("RE")
        self.block = np.cumsum(is_re)  # 0 before the first RE, k for the k-th RE's block
        self.re_idx = np.flatnonzero(is_re)
        self.n = len(self.re_idx)

    def blocks_of(self, record: str) -> np.ndarray:
        idx, _ = self.lines.records(record)
        return self.block[idx]

    def first(self, record: str) -> pa.Array:
        """Per block, the position (among ``record`` lines) of its first ``record``, or null."""
        blocks = self.blocks_of(record)
        take = np.full(self.n, -1, dtype=np.int64)
        inside = np.flatnonzero(blocks > 0)
        uniq, first = np.unique(blocks[inside], return_index=True)
        take[uniq - 1] = inside[first]
        return pa.array(take, mask=take < 0)

    def take(self, record: str, at: pa.Array, j: int, *, raw: bool = False) -> pa.Array:
        return self.lines.field(record, j, raw=raw).take(at)

    def re_field(self, j: int) -> pa.Array:
        return self.lines.field("RE", j)

    def any_where(self, record: str, mask: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n + 1, dtype=bool)
        np.logical_or.at(out, self.blocks_of(record)[mask], True)
        return out[1:]


def _wareki(col: pa.Array, digits: int) -> pa.Array:
    """``GYYMM`` / ``GYYMMDD`` → ``R8.10`` / ``R8.10.3`` text; other forms unchanged."""
    parts = r"(\d\d)" * (digits // 2)
    repl = ".".join(f"\\{i}" for i in range(1, digits // 2 + 1))
    for d, letter in _ERAS.items():
        col = pc.replace_substring_regex(col, pattern=f"^{d}{parts}$", replacement=f"{letter}{repl}")
    return col


def _ratio_from_type(kind: pa.Array, notes: pa.Array) -> pa.Array:
    """負担割合 (text) from レセプト種別's last digit and 特記事項 (DOMAIN §3): 本人/家族/7割 3割,
    未就学 2割, 高齢一般・低所得 2割 (後期: 1割, 2割 with 特記事項 41 区カ)."""
    last = pc.utf8_slice_codeunits(kind, 3, 4)
    kouki = pc.equal(pc.utf8_slice_codeunits(kind, 1, 2), "3")
    ku_ka = pc.fill_null(pc.match_substring_regex(notes, r"^(\d\d)*?41"), False)
    general = pc.is_in(last, pa.array(["7", "8"]))
    general_ratio = pc.if_else(pc.and_(kouki, pc.invert(ku_ka)), "1割", "2割")
    out = pc.if_else(pc.is_in(last, pa.array(["3", "4"])), "2割", pc.if_else(general, general_ratio, "3割"))
    valid = pc.fill_null(pc.match_substring_regex(kind, r"^\d{4}$"), False)
    return pc.if_else(valid, out, pa.scalar(None, pa.string()))


def _relation(kind: pa.Array) -> pa.Array:
    last = pc.utf8_slice_codeunits(kind, 3, 4)
    fam = pc.is_in(last, pa.array(["3", "4", "5", "6"]))
    own = pc.is_in(last, pa.array(["1", "2"]))
    return pc.if_else(own, "本人", pc.if_else(fam, "家族", pa.scalar(None, pa.string())))


def _service_dates(b: _Blocks, month: pa.Array) -> pa.Array:
    """The first day any SI record is 算定 on, as a date text of the claim month."""
    blocks = b.blocks_of("SI")
    first = np.zeros(len(blocks), dtype=np.int64)
    for day in range(31, 0, -1):
        has = _mask(pc.is_valid(b.lines.field("SI", SI_FIRST_DAY + day - 1)))
        first = np.where(has, day, first)
    use = (blocks > 0) & (first > 0)
    best = np.full(b.n + 1, 99, dtype=np.int64)
    np.minimum.at(best, blocks[use], first[use])
    days: np.ndarray = best[1:]
    text = pa.array(np.char.zfill(days.astype(str), 2).tolist(), type=pa.string(), mask=days == 99)
    western = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(month, 0, 4), pc.utf8_slice_codeunits(month, 4, 6), text, "-"
    )
    japanese = pc.binary_join_element_wise(month, text, ".")
    return pc.if_else(pc.fill_null(pc.match_substring_regex(month, r"^\d{6}$"), False), western, japanese)


def _joined(b: _Blocks, record: str, j: int, sep: str) -> pa.Array:
    """Per block, the texts of field ``j`` of its ``record`` lines joined with ``sep``."""
    texts = b.lines.field(record, j)
    t = pa.table({"b": pa.array(b.blocks_of(record)), "t": texts}).filter(pc.is_valid(texts))
    t = t.filter(pc.greater(t["b"], 0))
    grouped = t.group_by("b", use_threads=False).aggregate([("t", "list")])
    take = np.full(b.n, -1, dtype=np.int64)
    take[np.asarray(grouped["b"]) - 1] = np.arange(grouped.num_rows)
    joined = pc.binary_join(grouped["t_list"].combine_chunks(), sep)
    return joined.take(pa.array(take, mask=take < 0))


def _problems(lines: _Lines) -> list[LineProblem]:
    problems: list[LineProblem] = []
    known = _mask(pc.is_in(lines.rec, pa.array(sorted(KNOWN_RECORDS))))
    blank = _mask(pc.equal(lines.arr, ""))
    unknown = np.flatnonzero(~known & ~blank)[:100]
    for i, rec in zip(unknown, lines.rec.take(pa.array(unknown, type=pa.int64())).to_pylist(), strict=True):
        message = f"{int(i) + 1}行目のレコード識別「{rec}」は記録条件仕様にありません（読み飛ばしました）。"
        problems.append(LineProblem(int(i) + 1, "レコード識別", str(rec), message))
    for rec, need in _MIN_FIELDS.items():
        idx, _ = lines.records(rec)
        count = lines.count(rec)
        for k in np.flatnonzero(count < need)[:100]:
            line, got = int(idx[k]) + 1, int(count[k])
            problems.append(
                LineProblem(
                    line,
                    f"{rec} レコード",
                    f"{got}項目",
                    f"{line}行目の {rec} レコードの項目が足りません（{got}項目、"
                    f"{need}項目以上が必要）。ファイルが途中で切れているか、壊れています。",
                )
            )
    last = lines.rec[lines.n - 1].as_py() if lines.n else None
    if last != "GO" and lines.where("RE").any():
        problems.append(
            LineProblem(
                lines.n,
                "GO レコード",
                "",
                f"終わりのレコード（GO）がありません（最後は{lines.n}行目）。ファイルが途中で切れている可能性があります。"
                "レセコンから出力し直してください。",
            )
        )
    return problems


def read_uke(data: bytes, name: str) -> list[NativeTable]:
    """The claims of a RECEIPTC.UKE, or the returns of a RECEIPTC.HEN / .SAH (told apart by
    their HR records), as one raw table; lines that cannot be read as ``problems``."""
    lines = _Lines(_decode(data, name))
    problems = _problems(lines)
    b = _Blocks(lines)
    if b.n == 0:
        first = problems[0].message if problems else "レセプト（RE レコード）がありません。"
        raise NativeFormatError(f"{name}: {first}")
    kind = b.re_field(RE_TYPE)
    notes = b.re_field(RE_NOTES)
    month = _wareki(b.re_field(RE_MONTH), 5)
    ho, ko, sn, hr = b.first("HO"), b.first("KO"), b.first("SN"), b.first("HR")
    benefit = b.re_field(RE_BENEFIT)
    cols: dict[str, pa.Array] = {
        "patient_id": b.re_field(RE_KARTE),
        "claim_month": month,
        "name": b.re_field(RE_NAME),
        "name_kana": b.re_field(RE_KANA),
        "sex": b.re_field(RE_SEX),
        "birth_date": _wareki(b.re_field(RE_BIRTH), 7),
        "insurer_no": b.take("HO", ho, HO_INSURER, raw=True),
        "card_symbol": b.take("HO", ho, HO_SYMBOL),
        "card_number": b.take("HO", ho, HO_NUMBER),
        "card_branch": b.take("SN", sn, SN_BRANCH),
        "relation": _relation(kind),
        "days": pc.coalesce(b.take("HO", ho, HO_DAYS), b.take("KO", ko, KO_DAYS)),
        "points": pc.coalesce(b.take("HO", ho, HO_POINTS), b.take("KO", ko, KO_POINTS)),
        "receipt_no": b.re_field(RE_SEARCH),
        "extra:レセプト種別": kind,
        "extra:記録条件仕様": b.re_field(RE_EDITION),
        "extra:公費負担者番号": b.take("KO", ko, KO_PAYER),
        "extra:公費受給者番号": b.take("KO", ko, KO_RECIPIENT),
    }
    is_return = bool(lines.where("HR").any())
    if is_return:
        cols |= {
            "return_month": _wareki(b.take("HR", hr, HR_MONTH), 5),
            "extra:返戻区分": b.take("HR", hr, HR_KIND),
            "reason_code": b.take("HR", hr, HR_CODE),
            "reason": b.take("HR", hr, HR_REASON),
            "note": b.take("HR", hr, HR_NOTE),
        }
        for k in np.flatnonzero(~_mask(pc.is_valid(hr)))[:100]:
            line = int(b.re_idx[k]) + 1
            message = f"{line}行目のレセプトに返戻理由（HR レコード）がありません。"
            problems.append(LineProblem(line, "HR レコード", "", message))
    else:
        confirm = b.take("SN", sn, SN_CONFIRM)
        cols |= {
            "benefit_ratio": benefit,
            "billed_ratio": pc.if_else(
                pc.is_valid(benefit), pa.scalar(None, pa.string()), _ratio_from_type(kind, notes)
            ),
            "copay_collected": b.take("HO", ho, HO_COPAY),
            "special_notes": pc.utf8_rtrim_whitespace(
                pc.replace_substring_regex(notes, pattern=r"(\d\d)", replacement="\\1 ")
            ),
            "tekiyo": _joined(b, "CO", CO_TEXT, "\n"),
            "confirmation_method": pc.coalesce(_lookup(confirm, CONFIRMATION_CODES), confirm),
            "service_date": _service_dates(b, month),
            "visit_type": _visit_type(b),
        }
    rows = [int(i) + 1 for i in b.re_idx]
    return [
        NativeTable(
            kind="returns" if is_return else "receipts",
            sheet="",
            columns=cols,
            rows=rows,
            headers=dict(HEADERS),
            problems=problems,
        )
    ]


def _lookup(col: pa.Array, table: dict[str, str]) -> pa.Array:
    keys = pa.array(list(table))
    at = pc.index_in(col, value_set=keys)
    return pa.array(list(table.values()), type=pa.string()).take(at)


def _visit_type(b: _Blocks) -> pa.Array:
    """初診 when a SI record of the block has 診療識別 11 (初診), 再診 for 12 (再診)."""
    kinds = b.lines.field("SI", SI_KIND)
    first = b.any_where("SI", _mask(pc.equal(kinds, "11")))
    again = b.any_where("SI", _mask(pc.equal(kinds, "12")))
    out = pa.array(np.where(first, 1, np.where(again, 2, 0)))
    words = pa.array([None, "初診", "再診"], type=pa.string())
    return words.take(out)
