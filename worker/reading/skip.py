"""Rows of a sheet that are no data: what the reader skips, and why (CONTRACT §1).

レセコン exports are often laid out for printing: the header row is repeated at every page
break, a 合計/小計 row closes each insurance kind, a title line starts a new page, and rows
are left blank. Read as data, each becomes a "claim" with a dozen false findings. The
reader child (``worker.reading.extract``) classifies every data row of a table with
:class:`RowFilter`, on whole columns (Arrow compute and NumPy, never a loop over rows), and
keeps the rest under their Excel row numbers. A row is skipped, first reason that holds:

``header``  it repeats the header row: at least :data:`HEADER_MIN_CELLS` cells, and at least
            :data:`HEADER_SHARE_PERCENT` % of its non-empty cells, equal the header of their
            column after the same normalisation as headers (``normalise_header``).
``total``   a 合計/小計/総計/計 label (:data:`TOTAL_PATTERN`) in its leading non-empty cell or its
            patient-ID/name cell (never in free text such as 摘要), and no patient identity
            (患者ID, 氏名, カナ, 生年月日, 保険者番号, 記号, 番号, レセプト番号) besides the label.
``title``   a title line: at most three non-empty cells, each equal to a cell of the rows
            above the header in its column (the sheet's title repeated); or one non-empty
            cell: a page number (「- 2 -」, 「2/5」, 「P.2」) anywhere but in free text (摘要 …),
            or Japanese text outside the claim fields (patient ID, name, unrecognised columns).
``blank``   no patient ID and no claim field: only unrecognised columns hold something (a
            printing date, a memo). Wholly blank rows between data rows count here too (the
            reader drops them before this filter).

A row with claim fields is never dropped for lacking a patient ID: it stays, and
``input_invalid`` reports the missing ID.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from worker.reading.schema import normalise_header

__all__ = [
    "HEADER_MIN_CELLS",
    "HEADER_SHARE_PERCENT",
    "SKIP_LABELS_JA",
    "SKIP_REASONS",
    "TOTAL_PATTERN",
    "RowFilter",
    "SkipReason",
    "normalise_cells",
    "skipped_text",
]

SkipReason = Literal["header", "total", "title", "blank"]
SKIP_REASONS: Final[tuple[SkipReason, ...]] = ("header", "total", "title", "blank")
#: how the summary names each reason (a clerk reads these)
SKIP_LABELS_JA: Final[Mapping[str, str]] = {
    "header": "見出しの繰り返し",
    "total": "合計行",
    "title": "表題行",
    "blank": "空行",
}

#: share of a row's non-empty cells that must equal their column's header (see module doc)
HEADER_SHARE_PERCENT: Final = 60
#: ... and at least this many cells (one coincidence never makes a header)
HEADER_MIN_CELLS: Final = 2
#: a title line has at most this many non-empty cells
TITLE_MAX_CELLS: Final = 3

#: who the row is about: a label here is still a 合計 row; a title line may sit here
_WHO: Final = frozenset({"patient_id", "name", "name_kana"})
#: a patient's identity: a 合計 row has none of these besides its label
_IDENTITY: Final = _WHO | {"birth_date", "insurer_no", "card_symbol", "card_number", "receipt_no"}
#: free text: a 計 there is no label (摘要 「…計…」 stays a claim)
_FREE_TEXT: Final = frozenset({"tekiyo", "special_notes", "note", "reason", "address"})

# Python's str.isspace() set, as RE2 classes (RE2's \s lacks \v, \x1c-\x1f and \x85)
_WS: Final = r"\s\x{0b}\x{1c}-\x{1f}\x{85}\p{Z}"
_SEP: Final = _WS + r"()\[\]{}<>【】〔〕〈〉《》「」『』:;,.、。・/=*※#~〜|\-"
_KINDS: Final = (
    "社保|社会保険|国保|国民健康保険|国保組合|後期|後期高齢|後期高齢者|後期高齢者医療|公費|自費|労災|"
    "生保|生活保護|本人|家族|高齢|高齢者|前期高齢|前期高齢者|退職|協会|協会けんぽ|組合|共済|一般|入院|外来|"
    "保険|保険者|月|日|件数|人数|点数|金額|請求"
)
_TOTAL_WORDS: Final = "総合計|合計|小計|総計|中計|累計"
#: a 合計 label (RE2, on NFKC text): a word 合計/小計/総計/総合計/中計/累計 starting a token, or
#: 計 as a whole token, after an insurance kind (国保計, 社保 小計) or before a count (計15件);
#: tokens are separated by spaces, brackets and punctuation. 「計算」「会計」「一計」 are no labels.
TOTAL_PATTERN: Final = (
    f"(?:^|[{_SEP}])(?:(?:{_KINDS})分?)?(?:{_TOTAL_WORDS}|計)(?:$|[{_SEP}0-9])|(?:^|[{_SEP}])(?:{_TOTAL_WORDS})"
)
#: a page number alone (NFKC, no spaces): 「-2-」「2/5」「P.2」「2ページ」「頁2」
_PAGE_PATTERN: Final = (
    r"^(?:[-‐‑–—―]\d+[-‐‑–—―]|\d+/\d+(?:ページ|頁)?|[Pp]\.?\d+|\d+(?:ページ|頁)目?|(?:ページ|頁)\d+)$"
)

_KEEP, _CODES = 0, {reason: i + 1 for i, reason in enumerate(SKIP_REASONS)}

Mask = npt.NDArray[np.bool_]
Codes = npt.NDArray[np.int8]
Counts = npt.NDArray[np.int_]


def normalise_cells(cells: pa.Array) -> pa.Array:
    """``normalise_header`` on a whole column: NFKC, no whitespace, no surrounding ``*``/``※``."""
    text = pc.utf8_normalize(cells, "NFKC")
    text = pc.replace_substring_regex(text, pattern=f"[{_WS}]+", replacement="")
    return pc.utf8_trim(text, characters="*※")


def _np(mask: pa.Array | pa.ChunkedArray) -> Mask:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _filled(cells: pa.Array) -> Mask:
    """Cells holding anything but whitespace."""
    if cells.null_count == len(cells):
        return np.zeros(len(cells), dtype=np.bool_)
    return _np(pc.invert(pc.or_(pc.utf8_is_space(cells), pc.equal(cells, ""))))


@dataclass(frozen=True)
class _Column:
    header: str  # normalised header text; "" when the column has none
    field: str | None  # canonical field; None for an unrecognised or unheaded column
    titles: frozenset[str]  # normalised texts of this column in the rows above the header


class RowFilter:
    """Classifies the data rows of one table (see the module doc); built once per table
    from its header row, the fields recognised in it and the rows above it."""

    def __init__(
        self,
        header: Sequence[str | None],
        fields: Mapping[int, str],
        titles: Sequence[Sequence[str | None]] = (),
    ) -> None:
        def norm(text: str | None) -> str:
            return normalise_header(text) if text is not None else ""

        self.columns = tuple(
            _Column(
                header=norm(h),
                field=fields.get(i),
                titles=frozenset(t for row in titles if i < len(row) and (t := norm(row[i]))),
            )
            for i, h in enumerate(header)
        )

    @property
    def width(self) -> int:
        return len(self.columns)

    def classify(self, cells: Sequence[pa.Array]) -> tuple[Mask, dict[str, int]]:
        """Which rows to keep, and how many were skipped per reason (non-zero counts only).

        ``cells`` holds one text array per column of the header row (null = empty cell)."""
        if len(cells) != self.width:
            raise ValueError(f"expected {self.width} columns, got {len(cells)}")
        n = len(cells[0]) if cells else 0
        reason = np.zeros(n, dtype=np.int8)
        if n == 0 or not cells:
            return reason == _KEEP, {}
        filled = np.column_stack([_filled(a) for a in cells])
        count = filled.sum(axis=1)
        self._headers(cells, filled, count, reason)
        self._totals(cells, filled, count, reason)
        self._titles(cells, filled, count, reason)
        self._no_claim(filled, reason)
        codes = np.bincount(reason, minlength=len(SKIP_REASONS) + 1)
        counts: dict[str, int] = {r: int(codes[_CODES[r]]) for r in SKIP_REASONS if codes[_CODES[r]]}
        return reason == _KEEP, counts

    def _headers(self, cells: Sequence[pa.Array], filled: Mask, count: Counts, reason: Codes) -> None:
        # An ASCII cell cannot equal a non-ASCII header after NFKC (ASCII is NFKC-stable):
        # only rows where enough cells might match are normalised.
        possible = filled.copy()
        for j, col in enumerate(self.columns):
            if not col.header:
                possible[:, j] = False
            elif not col.header.isascii():
                possible[:, j] &= ~_np(pc.string_is_ascii(cells[j]))
        rows = _share_rows(possible.sum(axis=1), count)
        if not rows.size:
            return
        take = pa.array(rows)
        equal = np.zeros(rows.size, dtype=np.int_)
        for j, col in enumerate(self.columns):
            if col.header and possible[rows, j].any():
                equal += _np(pc.equal(normalise_cells(cells[j].take(take)), col.header))
        hit = rows[_share_rows(equal, count[rows])]
        reason[hit] = _CODES["header"]

    def _totals(self, cells: Sequence[pa.Array], filled: Mask, count: Counts, reason: Codes) -> None:
        identity = np.array([c.field in _IDENTITY for c in self.columns])
        who = np.array([c.field in _WHO for c in self.columns])
        persons = filled[:, identity].sum(axis=1)
        rows = np.flatnonzero((reason == _KEEP) & (count > 0) & (persons <= 1))
        if not rows.size:
            return
        lead = filled[rows].argmax(axis=1)
        for j, col in enumerate(self.columns):
            if col.field in _FREE_TEXT:
                continue
            here = filled[rows, j] & ((lead == j) | who[j]) & (persons[rows] - identity[j] * filled[rows, j] == 0)
            at = rows[here]
            if not at.size:
                continue
            label = pc.utf8_normalize(cells[j].take(pa.array(at)), "NFKC")
            hit = at[_np(pc.match_substring_regex(label, TOTAL_PATTERN))]
            reason[hit[reason[hit] == _KEEP]] = _CODES["total"]

    def _titles(self, cells: Sequence[pa.Array], filled: Mask, count: Counts, reason: Codes) -> None:
        rows = np.flatnonzero((reason == _KEEP) & (count > 0) & (count <= TITLE_MAX_CELLS))
        if not rows.size:
            return
        take = pa.array(rows)
        repeats = np.ones(rows.size, dtype=np.bool_)
        single = np.zeros(rows.size, dtype=np.bool_)
        for j, col in enumerate(self.columns):
            here = filled[rows, j]
            if not here.any():
                continue
            text = normalise_cells(cells[j].take(take))
            if col.titles:
                repeats &= ~here | _np(pc.is_in(text, value_set=pa.array(sorted(col.titles), pa.string())))
            else:
                repeats &= ~here
            if col.field in _FREE_TEXT:
                continue
            alone = here & (count[rows] == 1)
            single |= alone & _np(pc.match_substring_regex(text, _PAGE_PATTERN))
            if col.field is None or col.field in _WHO:
                single |= alone & ~_np(pc.string_is_ascii(text))
        reason[rows[repeats | single]] = _CODES["title"]

    def _no_claim(self, filled: Mask, reason: Codes) -> None:
        claim = np.array([c.field is not None and c.field not in _WHO for c in self.columns])
        patient = np.array([c.field == "patient_id" for c in self.columns])
        empty = ~filled[:, claim].any(axis=1) & ~filled[:, patient].any(axis=1)
        reason[(reason == _KEEP) & empty] = _CODES["blank"]


def _share_rows(equal: Counts, count: Counts) -> npt.NDArray[np.intp]:
    """Rows where ``equal`` cells are enough of ``count`` to make a repeated header."""
    return np.flatnonzero((equal >= HEADER_MIN_CELLS) & (equal * 100 >= count * HEADER_SHARE_PERCENT))


def skipped_text(counts: Mapping[str, int]) -> str:
    """「見出しの繰り返し 12行・合計行 3行・空行 5行を読み飛ばしました」, or "" when none."""
    parts = [f"{SKIP_LABELS_JA[r]} {counts[r]:,}行" for r in SKIP_REASONS if counts.get(r)]
    return "・".join(parts) + "を読み飛ばしました" if parts else ""
