"""Write the findings of a run for clerks (corrections.xlsx) and for machines (findings.json).

CONTRACT §2: the correction list holds the findings with Japanese headers, severity colours,
filters, a frozen header and the money impact; the same findings are written as JSON.
When the caller passes the returns (返戻) to reclaim, they get their own sheet 「返戻再請求」
(and a "reclaims" list in the JSON); ``RunSummary.returns`` adds a 「返戻」 block to the summary.

Safety: nothing read from the input ever becomes a formula, URL or raw XML in the workbook.
The workbook is created with every string auto-conversion off and text is written with
``write_string`` only. Characters that XML cannot carry are removed from the workbook text
(the JSON keeps the text as it is, except lone surrogates, which become U+FFFD).

Both files are first written to temporary names in ``out_dir`` and moved into place with
``os.replace``, so a failed run never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, TextIO

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from rules import CATEGORIES, CATEGORY_LABELS_JA, FINDING_COLUMNS, SEVERITY_LABELS_JA, SEVERITY_ORDER
from worker.engine.results import RunSummary

__all__ = [
    "FINDINGS_HEADERS",
    "FINDINGS_SHEET",
    "JSON_NAME",
    "MAX_ROWS_PER_SHEET",
    "RECLAIMS_SHEET",
    "RECLAIM_POINTS_COLUMN",
    "RECLAIM_STATUS_COLUMN",
    "SUMMARY_SHEET",
    "XLSX_NAME",
    "write_reports",
]

XLSX_NAME: Final = "corrections.xlsx"
JSON_NAME: Final = "findings.json"
SUMMARY_SHEET: Final = "概要"
FINDINGS_SHEET: Final = "指摘一覧"
RECLAIMS_SHEET: Final = "返戻再請求"

#: The one numeric column of the reclaims sheet (number "#,##0", blank where missing).
RECLAIM_POINTS_COLUMN: Final = "請求点数"
#: The column whose value colours a reclaims row (see _RECLAIM_FILL).
RECLAIM_STATUS_COLUMN: Final = "再請求"

#: Data rows per findings sheet: Excel's 1,048,576 rows minus the header row.
MAX_ROWS_PER_SHEET: int = 1_048_575

#: Rows prepared at a time for the findings sheets (bounds the Python objects alive).
PREP_CHUNK_ROWS: int = 10_000

#: Rows per to_json call when writing findings.json (bounds the size of one JSON string).
JSON_CHUNK_ROWS: int = 10_000

#: Characters XML 1.0 cannot carry (plus lone surrogates, which UTF-8 cannot encode).
_XML_ILLEGAL: Final = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
_XML_ILLEGAL_OR_SURROGATE_RE: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SURROGATE_RE: Final = re.compile("[\ud800-\udfff]")

_SEVERITIES: Final[tuple[str, ...]] = tuple(sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.__getitem__))

_SEVERITY_FILL: Final[Mapping[str, str]] = {
    "error": "#FFC7CE",  # light red
    "warning": "#FFEB9C",  # light yellow
    "info": "#DDEBF7",  # light blue
}

#: Row colour of the reclaims sheet by the value of its 「再請求」 column.
_RECLAIM_FILL: Final[Mapping[str, str]] = {
    "可": "#C6EFCE",  # light green: can be reclaimed
    "確認待ち": "#FFEB9C",  # light yellow: waiting for a check
}

#: Reclaims sheet column widths: (min, max) by content; headers with these words get the wide range.
_RECLAIM_WIDTH: Final = (8.0, 30.0)
_RECLAIM_WIDE_WIDTH: Final = (40.0, 60.0)
_RECLAIM_WIDE_WORDS: Final = ("対応", "理由")
_WIDTH_SAMPLE_ROWS: Final = 500

_STATUS_LABELS_JA: Final[Mapping[str, str]] = {"ok": "読込済", "error": "読込エラー"}

_SEVERITY_NOTES_JA: Final[Mapping[str, str]] = {
    "error": "修正しないと返戻・誤請求になります。",
    "warning": "誤りの可能性が高いため、確認してください。",
    "info": "参考情報です。対応は不要です。",
}


# --------------------------------------------------------------------------------------
# Findings sheet layout: (header, source column, kind, width).
# kind: "text" (write_string), "yen" (number, #,##0, blank where NA), "int" (number).
# --------------------------------------------------------------------------------------
_SEVERITY_LABEL: Final = "_severity_ja"
_CATEGORY_LABEL: Final = "_category_ja"

_LAYOUT: Final[tuple[tuple[str, str, str, float], ...]] = (
    ("重要度", _SEVERITY_LABEL, "text", 8),
    ("区分", _CATEGORY_LABEL, "text", 34),
    ("患者ID", "patient_id", "text", 12),
    ("診療年月", "claim_month", "text", 10),
    ("内容", "message", "text", 70),
    ("対応", "action", "text", 60),
    ("正しい値", "expected", "text", 18),
    ("現在の値", "actual", "text", 18),
    ("窓口負担の差額(円)", "copay_diff_yen", "yen", 13),
    ("ファイル", "source_file", "text", 28),
    ("シート", "sheet", "text", 16),
    ("行", "row", "int", 8),
    ("区分コード", "category", "text", 26),
    ("ルールID", "rule_id", "text", 16),
)

#: Headers of the findings sheets, in order (exported for callers and tests).
FINDINGS_HEADERS: Final[tuple[str, ...]] = tuple(h for h, _, _, _ in _LAYOUT)


# --------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------
def write_reports(
    findings: pd.DataFrame,
    summary: RunSummary,
    out_dir: Path,
    *,
    reclaims: pd.DataFrame | None = None,
) -> tuple[Path, Path]:
    """Write out_dir/corrections.xlsx and out_dir/findings.json; return both paths.

    ``findings`` has the columns FINDING_COLUMNS (extra columns are ignored), sorted as
    they should appear. Both files are written to temporary files in ``out_dir`` first and
    moved into place only when both are complete; on any error the temporary files are
    removed and the previous corrections.xlsx/findings.json (if any) are left untouched.

    ``reclaims`` (one row per return, Japanese headers, in the order to show) adds the sheet
    「返戻再請求」 after 「指摘一覧」 and a "reclaims" list to findings.json, even when it has no
    rows. Every column is text except 「請求点数」 (a number); 「再請求」 colours the rows.
    """
    missing = [c for c in FINDING_COLUMNS if c not in findings.columns]
    if missing:
        raise ValueError(f"findings lacks columns: {', '.join(missing)}")
    findings = findings.loc[:, list(FINDING_COLUMNS)].reset_index(drop=True)
    if reclaims is not None:
        reclaims = _prepare_reclaims(reclaims)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    xlsx_path = out_dir / XLSX_NAME
    json_path = out_dir / JSON_NAME

    stats = _Stats.of(findings)
    temps: list[Path] = []
    work_dir = Path(tempfile.mkdtemp(prefix=".henrei-report-", dir=out_dir))
    try:
        xlsx_tmp = _temp_path(out_dir, XLSX_NAME, temps)
        _write_xlsx(findings, summary, stats, xlsx_tmp, work_dir, reclaims)
        json_tmp = _temp_path(out_dir, JSON_NAME, temps)
        _write_json(findings, summary, stats, json_tmp, reclaims)
        mode = _new_file_mode()
        for t in (xlsx_tmp, json_tmp):
            os.chmod(t, mode)  # mkstemp makes 0600 files; give them the usual mode
        os.replace(xlsx_tmp, xlsx_path)
        temps.remove(xlsx_tmp)
        os.replace(json_tmp, json_path)
        temps.remove(json_tmp)
    finally:
        for t in temps:
            with contextlib.suppress(OSError):
                t.unlink()
        shutil.rmtree(work_dir, ignore_errors=True)
    return xlsx_path, json_path


def _new_file_mode() -> int:
    """The mode a newly created file gets (0666 minus the umask), read without changing it."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def _temp_path(out_dir: Path, name: str, temps: list[Path]) -> Path:
    fd, name_tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out_dir)
    os.close(fd)
    path = Path(name_tmp)
    temps.append(path)
    return path


# --------------------------------------------------------------------------------------
# Counts and money totals (shared by the workbook and the JSON)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Stats:
    total: int
    #: category -> severity -> count; every category of CATEGORIES, then unknown ones.
    by_category: dict[str, dict[str, int]]
    by_severity: dict[str, int]
    overpaid_yen: int
    overpaid_count: int
    underpaid_yen: int  # magnitude (positive number)
    underpaid_count: int

    @classmethod
    def of(cls, findings: pd.DataFrame) -> _Stats:
        cat = findings["category"].astype(object).where(findings["category"].notna(), "")
        sev = findings["severity"].astype(object).where(findings["severity"].notna(), "")
        pairs: dict[tuple[str, str], int] = {}
        if len(findings):
            vc = pd.DataFrame({"c": cat.astype(str), "s": sev.astype(str)}).value_counts()
            levels = (vc.index.get_level_values(0), vc.index.get_level_values(1))
            pairs = {(str(c), str(s)): int(n) for c, s, n in zip(*levels, vc.to_numpy().tolist(), strict=True)}
        seen = {c for c, _ in pairs}
        extra = sorted(seen.difference(CATEGORIES))
        by_category: dict[str, dict[str, int]] = {}
        for c in (*CATEGORIES, *extra):
            counts = {s: pairs.get((c, s), 0) for s in _SEVERITIES}
            counts["total"] = sum(n for (c2, _), n in pairs.items() if c2 == c)
            by_category[c] = counts
        by_severity = {s: int((sev == s).sum()) for s in _SEVERITIES}
        diff = pd.to_numeric(findings["copay_diff_yen"], errors="coerce")
        pos = diff[diff > 0]
        neg = diff[diff < 0]
        return cls(
            total=len(findings),
            by_category=by_category,
            by_severity=by_severity,
            overpaid_yen=int(pos.sum()) if len(pos) else 0,
            overpaid_count=len(pos),
            underpaid_yen=int(-neg.sum()) if len(neg) else 0,
            underpaid_count=len(neg),
        )


# --------------------------------------------------------------------------------------
# Text preparation
# --------------------------------------------------------------------------------------
def _clean(text: object) -> str:
    """One value as workbook text: str, without characters XML cannot carry."""
    if text is None or text is pd.NA or text is pd.NaT:
        return ""
    if isinstance(text, float) and text != text:  # NaN
        return ""
    return _XML_ILLEGAL_OR_SURROGATE_RE.sub("", str(text))


def _text_series(col: pd.Series) -> pd.Series:
    """A whole column as workbook text ("" for missing), without XML-illegal characters."""
    try:
        s = col.astype("str")
    except UnicodeEncodeError:  # lone surrogates: pyarrow cannot hold them
        return pd.Series([_clean(v) for v in col.tolist()], index=col.index, dtype=object)
    s = s.fillna("")
    bad = s.str.contains(_XML_ILLEGAL, regex=True)
    if bool(bad.any()):
        s = s.where(~bad, s.str.replace(_XML_ILLEGAL, "", regex=True))
    return s


def _number_column(col: pd.Series) -> list[Any]:
    """A whole column as Python numbers, None where missing or not a number."""
    num = pd.to_numeric(col, errors="coerce")
    out: list[Any] = num.astype(object).where(num.notna(), None).tolist()
    return out


def _is_rich_lookalike(s: str) -> bool:
    # XlsxWriter (constant_memory) copies strings shaped "<r>...</r>" into the XML
    # unescaped, taking them for its own rich-string markup.
    return s.startswith("<r>") and s.endswith("</r>")


def _prepare_reclaims(reclaims: pd.DataFrame) -> pd.DataFrame:
    """The reclaims as both outputs use them: str headers, whole numbers without ".0".

    「請求点数」 becomes an object column of int/float (finite numbers), str (a value that
    is not a number, kept as text) or None (missing).
    """
    names = [_SURROGATE_RE.sub("\ufffd", str(c)) for c in reclaims.columns]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"reclaims has duplicate columns: {', '.join(dup)}")
    df = reclaims.reset_index(drop=True)
    df = df.set_axis(names, axis="columns")
    out: dict[str, pd.Series] = {}
    for i, name in enumerate(names):
        col = df.iloc[:, i]
        if name == RECLAIM_POINTS_COLUMN:
            out[name] = _points_column(col)
        elif pd.api.types.is_float_dtype(col.dtype):
            out[name] = _whole_numbers_as_int(col)
        else:
            out[name] = col
    return pd.DataFrame(out, index=df.index, columns=names)


def _whole_numbers_as_int(col: pd.Series) -> pd.Series:
    """A float column holding only whole numbers (and NA) as Int64, so 12.0 reads "12"."""
    num = pd.to_numeric(col, errors="coerce")
    finite = num[num.notna()]
    if len(finite) and not bool(((finite % 1) == 0).all()):
        return col
    if bool(finite.abs().gt(2**53).any()):
        return col
    return num.astype("Int64")


def _points_column(col: pd.Series) -> pd.Series:
    obj = col.astype(object)
    nums = pd.to_numeric(obj, errors="coerce").astype("float64").tolist()
    values: list[Any] = []
    for v, n in zip(obj.tolist(), nums, strict=True):
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
            values.append(None)
        elif isinstance(v, bool) or not math.isfinite(n):
            values.append(str(v).strip() or None)  # not a number: keep the text (written as text)
        elif isinstance(v, int):
            values.append(v)
        elif n.is_integer() and abs(n) <= 2**53:
            values.append(int(n))
        else:
            values.append(n)
    return pd.Series(values, index=col.index, dtype=object)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _reclaim_widths(reclaims: pd.DataFrame) -> list[float]:
    """Column widths from the header and the first rows, wider for 対応/理由 columns."""
    sample = reclaims.head(_WIDTH_SAMPLE_ROWS)
    widths: list[float] = []
    for i, name in enumerate(reclaims.columns):
        values = _text_series(sample.iloc[:, i].astype(object)).tolist()
        longest = max((_display_width(v) for v in values), default=0)
        lo, hi = _RECLAIM_WIDE_WIDTH if any(w in name for w in _RECLAIM_WIDE_WORDS) else _RECLAIM_WIDTH
        widths.append(min(hi, max(lo, float(max(longest, _display_width(name)) + 2))))
    return widths


# --------------------------------------------------------------------------------------
# Workbook
# --------------------------------------------------------------------------------------
class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        add = wb.add_format
        self.title = add({"bold": True, "font_size": 16})
        self.section = add({"bold": True, "font_size": 12, "bottom": 2})
        self.label = add({"bold": True, "bg_color": "#F2F2F2", "border": 1})
        self.value = add({"border": 1})
        self.value_int = add({"border": 1, "num_format": "#,##0"})
        self.value_pct = add({"border": 1, "num_format": "0.0%"})
        self.header = add(
            {
                "bold": True,
                "bg_color": "#D9D9D9",
                "border": 1,
                "valign": "vcenter",
                "text_wrap": True,
            }
        )
        self.cell = add({"border": 1})
        self.code = add({"border": 1, "font_size": 8, "font_color": "#595959"})
        self.count = add({"border": 1, "num_format": "#,##0"})
        self.total_label = add({"bold": True, "border": 1, "top": 2})
        self.total_count = add({"bold": True, "border": 1, "top": 2, "num_format": "#,##0"})
        self.total_blank = add({"border": 1, "top": 2})
        self.status_error = add({"border": 1, "bold": True, "bg_color": "#FFC7CE"})
        self.note = add({"font_color": "#404040"})
        self.plain_run = add({})  # a run format for rich strings (default font)
        sev_fills = {s: _SEVERITY_FILL.get(s) for s in (*_SEVERITIES, "")}
        self.row_text: dict[str, Format] = {}
        self.row_yen: dict[str, Format] = {}
        self.row_int: dict[str, Format] = {}
        self.sev_count: dict[str, Format] = {}
        for s, fill in sev_fills.items():
            base: dict[str, Any] = {"bg_color": fill} if fill else {}
            self.row_text[s] = add(base)
            self.row_yen[s] = add({**base, "num_format": "#,##0"})
            self.row_int[s] = add({**base, "num_format": "0"})
            self.sev_count[s] = add({**base, "border": 1, "num_format": "#,##0"})
        # Reclaims rows, by the value of 「再請求」 ("" = no colour).
        self.reclaim_text: dict[str, Format] = {}
        self.reclaim_num: dict[str, Format] = {}
        for key, fill in (("", None), *_RECLAIM_FILL.items()):
            base = {"bg_color": fill} if fill else {}
            self.reclaim_text[key] = add(base)
            self.reclaim_num[key] = add({**base, "num_format": "#,##0"})


def _put_text(ws: Worksheet, row: int, col: int, text: str, fmt: Format, plain: Format) -> None:
    """Write cleaned text as a string cell (never a formula/URL/markup); "" as a blank."""
    if not text:
        ws.write_blank(row, col, None, fmt)
    elif _is_rich_lookalike(text):
        # Two escaped runs that read back as exactly ``text``.
        ws.write_rich_string(row, col, text[:3], plain, text[3:], fmt)
    else:
        ws.write_string(row, col, text, fmt)


def _sheet_names(base: str, n_rows: int, per_sheet: int) -> list[str]:
    n_sheets = max(1, -(-n_rows // per_sheet))
    return [base if i == 0 else f"{base}({i + 1})" for i in range(n_sheets)]


def _write_xlsx(
    findings: pd.DataFrame,
    summary: RunSummary,
    stats: _Stats,
    path: Path,
    work_dir: Path,
    reclaims: pd.DataFrame | None = None,
) -> None:
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "tmpdir": str(work_dir),
        },
    )
    closed = False
    try:
        fmts = _Formats(wb)
        per_sheet = max(1, MAX_ROWS_PER_SHEET)
        names = _sheet_names(FINDINGS_SHEET, len(findings), per_sheet)
        reclaim_names = [] if reclaims is None else _sheet_names(RECLAIMS_SHEET, len(reclaims), per_sheet)
        summary_ws = wb.add_worksheet(SUMMARY_SHEET)
        sheets = [wb.add_worksheet(n) for n in names]
        reclaim_sheets = [wb.add_worksheet(n) for n in reclaim_names]
        _write_summary_sheet(summary_ws, fmts, summary, stats, names, reclaim_names)
        _write_findings_sheets(sheets, fmts, findings, per_sheet)
        if reclaims is not None:
            _write_reclaims_sheets(reclaim_sheets, fmts, reclaims, per_sheet)
        summary_ws.activate()
        wb.close()
        closed = True
    finally:
        if not closed:
            # Release XlsxWriter's row-data temp files; work_dir is removed by the caller.
            for ws in wb.worksheets():
                fh = getattr(ws, "row_data_fh", None)
                if fh is not None:
                    with contextlib.suppress(Exception):
                        fh.close()


def _write_summary_sheet(
    ws: Worksheet,
    f: _Formats,
    summary: RunSummary,
    stats: _Stats,
    sheet_names: Sequence[str],
    reclaim_sheet_names: Sequence[str] = (),
) -> None:
    # Columns: A label / file / category, B value / status / code, C..F counts.
    ws.set_column(0, 0, 46)
    ws.set_column(1, 1, 26)
    ws.set_column(2, 5, 11)
    ws.hide_gridlines(2)
    p = f.plain_run
    r = 0

    def text(col: int, value: object, fmt: Format) -> None:
        _put_text(ws, r, col, _clean(value), fmt, p)

    text(0, "レセプト点検結果（修正リスト）", f.title)
    ws.set_row(0, 24)
    r = 2
    pairs: list[tuple[str, object]] = [
        ("対象期間", summary.period),
        ("作成日時", _format_dt(summary.finished_at)),
        ("点検したレセプト数", summary.receipts),
        ("指摘の件数", stats.total),
        ("指摘一覧のシート", "、".join(sheet_names)),
    ]
    if reclaim_sheet_names:
        pairs.append(("返戻再請求のシート", "、".join(reclaim_sheet_names)))
    for label, value in pairs:
        text(0, label, f.label)
        if isinstance(value, int):
            ws.write_number(r, 1, value, f.value_int)
        else:
            text(1, value, f.value)
        r += 1
    if stats.total == 0:
        text(0, "指摘はありませんでした。", f.note)
        r += 1

    # Input files
    r += 1
    text(0, "読み込んだファイル", f.section)
    r += 1
    for c, h in enumerate(("ファイル", "状態", "読み込んだ表・エラーの内容")):
        text(c, h, f.header)
    r += 1
    if not summary.files:
        text(0, "（なし）", f.cell)
        r += 1
    for fs in summary.files:
        is_error = fs.status == "error"
        parts = (fs.message, fs.tables) if is_error else (fs.tables, fs.message)
        detail = " ／ ".join(part for part in parts if part)
        text(0, fs.path, f.cell)
        text(1, _STATUS_LABELS_JA.get(fs.status, fs.status), f.status_error if is_error else f.cell)
        text(2, detail, f.cell)
        r += 1

    # Counts per category x severity
    r += 1
    text(0, "区分別の指摘件数", f.section)
    r += 1
    headers = ("区分", "区分コード", *(SEVERITY_LABELS_JA[s] for s in _SEVERITIES), "合計")
    for c, h in enumerate(headers):
        text(c, h, f.header)
    r += 1
    for cat, counts in stats.by_category.items():
        text(0, CATEGORY_LABELS_JA.get(cat, cat or "（区分なし）"), f.cell)
        text(1, cat, f.code)
        for i, s in enumerate(_SEVERITIES):
            ws.write_number(r, 2 + i, counts[s], f.sev_count[s] if counts[s] else f.count)
        ws.write_number(r, 2 + len(_SEVERITIES), counts["total"], f.count)
        r += 1
    text(0, "合計", f.total_label)
    ws.write_blank(r, 1, None, f.total_blank)
    for i, s in enumerate(_SEVERITIES):
        ws.write_number(r, 2 + i, stats.by_severity[s], f.total_count)
    ws.write_number(r, 2 + len(_SEVERITIES), stats.total, f.total_count)
    r += 1

    # Money impact
    r += 1
    text(0, "窓口負担の差額（計算できた指摘の合計）", f.section)
    r += 1
    for c, h in enumerate(("項目", "金額（円）", "件数")):
        text(c, h, f.header)
    r += 1
    money = (
        ("患者の払い過ぎ（返金が必要）", stats.overpaid_yen, stats.overpaid_count),
        ("患者の払い不足（追加徴収が必要）", stats.underpaid_yen, stats.underpaid_count),
    )
    for label, yen, count in money:
        text(0, label, f.cell)
        ws.write_number(r, 1, yen, f.count)
        ws.write_number(r, 2, count, f.count)
        r += 1

    # Returns (返戻)
    if summary.returns is not None:
        ret = summary.returns
        r += 1
        text(0, "返戻", f.section)
        r += 1
        for label, n in (
            ("返戻の件数", ret.total),
            ("元のレセプトと照合できた件数", ret.matched),
            ("照合できなかった件数", ret.unmatched),
        ):
            text(0, label, f.label)
            ws.write_number(r, 1, int(n), f.value_int)
            r += 1
        text(0, "事前チェックで指摘済みだった割合", f.label)
        share = ret.predicted_share
        if share is None:
            text(1, "—", f.value)
        else:
            ws.write_number(r, 1, share, f.value_pct)
            text(2, f"（照合できた{int(ret.matched):,}件中{int(ret.predicted):,}件）", f.note)
        r += 1
        r += 1
        for c, h in enumerate(("返戻の分類", "件数")):
            text(c, h, f.header)
        r += 1
        for label, n in ret.by_class.items():
            text(0, label, f.cell)
            ws.write_number(r, 1, int(n), f.count)
            r += 1

    # How to read
    r += 1
    text(0, "見方", f.section)
    r += 1
    for s in _SEVERITIES:
        text(0, SEVERITY_LABELS_JA[s], f.sev_count[s])
        text(1, _SEVERITY_NOTES_JA[s], f.note)
        r += 1
    text(0, "窓口負担の差額：プラスは患者の払い過ぎ（返金）、マイナスは払い不足です。", f.note)
    r += 1
    text(0, "「行」は元のファイルでの行番号（Excelの行番号）です。", f.note)
    if reclaim_sheet_names:
        r += 1
        text(0, "「返戻再請求」：緑は再請求できる返戻、黄色は確認待ちの返戻です。", f.note)


def _format_dt(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M")


def _write_findings_sheets(sheets: Sequence[Worksheet], f: _Formats, findings: pd.DataFrame, per_sheet: int) -> None:
    n = len(findings)
    step = max(1, PREP_CHUNK_ROWS)
    for k, ws in enumerate(sheets):
        lo = k * per_sheet
        hi = min(n, lo + per_sheet)
        _setup_findings_sheet(ws, f, hi - lo)
        # Prepare (in pandas) and write a chunk at a time: bounds the Python objects alive.
        for start in range(lo, hi, step):
            chunk = findings.iloc[start : min(hi, start + step)]
            _write_rows(ws, f, _Chunk.of(chunk), 1 + start - lo)


@dataclass(frozen=True)
class _Chunk:
    """Findings rows ready for the write loop: one Python list per sheet column."""

    columns: list[list[Any]]  # in _LAYOUT order; text as str, numbers as int/float/None
    keys: list[str]  # severity per row ("" when unknown)
    special_rows: frozenset[int]  # rows holding a value that needs _put_text's slow path

    @classmethod
    def of(cls, chunk: pd.DataFrame) -> _Chunk:
        sev = chunk["severity"].astype(object).where(chunk["severity"].notna(), "")
        cat = chunk["category"].astype(object).where(chunk["category"].notna(), "")
        labels = {
            _SEVERITY_LABEL: sev.map(dict(SEVERITY_LABELS_JA)).fillna(sev),
            _CATEGORY_LABEL: cat.map(dict(CATEGORY_LABELS_JA)).fillna(cat),
        }
        columns: list[list[Any]] = []
        special = pd.Series(False, index=chunk.index)
        for _, src, kind, _ in _LAYOUT:
            col = labels[src] if src in labels else chunk[src]
            if kind == "text":
                text = _text_series(col)
                special |= text.str.startswith("<r>") & text.str.endswith("</r>")
                columns.append(text.tolist())
            else:
                columns.append(_number_column(col))
        return cls(
            columns=columns,
            keys=sev.where(sev.isin(_SEVERITIES), "").tolist(),
            special_rows=frozenset(special.to_numpy().nonzero()[0].tolist()),
        )


def _setup_findings_sheet(ws: Worksheet, f: _Formats, n_rows: int) -> None:
    for c, (_, _, _, width) in enumerate(_LAYOUT):
        ws.set_column(c, c, width)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, n_rows, len(_LAYOUT) - 1)
    ws.set_row(0, 30)
    for c, h in enumerate(FINDINGS_HEADERS):
        ws.write_string(0, c, h, f.header)


def _write_rows(ws: Worksheet, f: _Formats, chunk: _Chunk, first_row: int) -> None:
    """The unavoidable per-cell loop: one explicitly typed write per cell."""
    kinds = [kind for _, _, kind, _ in _LAYOUT]
    text_idx = [i for i, k in enumerate(kinds) if k == "text"]
    yen_idx = kinds.index("yen")
    int_idx = kinds.index("int")
    row_text, row_yen, row_int = f.row_text, f.row_yen, f.row_int
    write_string = ws.write_string
    write_number = ws.write_number
    write_blank = ws.write_blank
    plain = f.plain_run
    special = chunk.special_rows
    texts = zip(*(chunk.columns[c] for c in text_idx), strict=True)
    rows = zip(chunk.keys, texts, chunk.columns[yen_idx], chunk.columns[int_idx], strict=True)

    for i, (key, values, yen, line) in enumerate(rows):
        r = first_row + i
        ft = row_text[key]
        if i in special:
            for c, v in zip(text_idx, values, strict=True):
                _put_text(ws, r, c, v, ft, plain)
        else:
            for c, v in zip(text_idx, values, strict=True):
                if v:
                    write_string(r, c, v, ft)
                else:
                    write_blank(r, c, None, ft)
        if yen is None:
            write_blank(r, yen_idx, None, row_yen[key])
        else:
            write_number(r, yen_idx, yen, row_yen[key])
        if line is None:
            write_blank(r, int_idx, None, row_int[key])
        else:
            write_number(r, int_idx, line, row_int[key])


def _write_reclaims_sheets(sheets: Sequence[Worksheet], f: _Formats, reclaims: pd.DataFrame, per_sheet: int) -> None:
    n = len(reclaims)
    step = max(1, PREP_CHUNK_ROWS)
    widths = _reclaim_widths(reclaims)
    headers = [_clean(h) for h in reclaims.columns]
    for k, ws in enumerate(sheets):
        lo = k * per_sheet
        hi = min(n, lo + per_sheet)
        for c, width in enumerate(widths):
            ws.set_column(c, c, width)
        ws.freeze_panes(1, 0)
        if headers:
            ws.autofilter(0, 0, hi - lo, len(headers) - 1)
        ws.set_row(0, 30)
        for c, h in enumerate(headers):
            _put_text(ws, 0, c, h, f.header, f.plain_run)
        for start in range(lo, hi, step):
            chunk = reclaims.iloc[start : min(hi, start + step)]
            _write_reclaim_rows(ws, f, chunk, 1 + start - lo)


def _write_reclaim_rows(ws: Worksheet, f: _Formats, chunk: pd.DataFrame, first_row: int) -> None:
    """Reclaims rows: text with _put_text (never a formula/URL/markup), 「請求点数」 as a number."""
    names = list(chunk.columns)
    if RECLAIM_STATUS_COLUMN in names:
        status = _text_series(chunk[RECLAIM_STATUS_COLUMN].astype(object))
        keys: list[str] = status.where(status.isin(list(_RECLAIM_FILL)), "").tolist()
    else:
        keys = [""] * len(chunk)
    columns: list[tuple[bool, list[Any]]] = []  # (is the number column, values)
    for i, name in enumerate(names):
        col = chunk.iloc[:, i]
        if name == RECLAIM_POINTS_COLUMN:
            columns.append((True, col.tolist()))
        else:
            columns.append((False, _text_series(col.astype(object)).tolist()))
    plain = f.plain_run
    for i, key in enumerate(keys):
        r = first_row + i
        ft = f.reclaim_text[key]
        for c, (is_number, values) in enumerate(columns):
            v = values[i]
            if not is_number:
                _put_text(ws, r, c, v, ft, plain)
            elif v is None:
                ws.write_blank(r, c, None, f.reclaim_num[key])
            elif isinstance(v, str):
                _put_text(ws, r, c, _clean(v), ft, plain)
            else:
                ws.write_number(r, c, v, f.reclaim_num[key])


# --------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------
def _summary_json(summary: RunSummary, stats: _Stats) -> dict[str, Any]:
    out: dict[str, Any] = {
        "period": summary.period,
        "started_at": summary.started_at.isoformat(),
        "finished_at": summary.finished_at.isoformat(),
        "receipts": summary.receipts,
        "files": [
            {"path": fs.path, "status": fs.status, "tables": fs.tables, "message": fs.message} for fs in summary.files
        ],
        "findings": stats.total,
        "counts": {
            "by_category": stats.by_category,
            "by_severity": stats.by_severity,
        },
        "copay": {
            # positive = the patient paid too much (CONTRACT §2); both totals as magnitudes
            "overpaid_yen": stats.overpaid_yen,
            "overpaid_findings": stats.overpaid_count,
            "underpaid_yen": stats.underpaid_yen,
            "underpaid_findings": stats.underpaid_count,
            "net_yen": stats.overpaid_yen - stats.underpaid_yen,
        },
    }
    if summary.returns is not None:
        ret = summary.returns
        out["returns"] = {
            "total": int(ret.total),
            "matched": int(ret.matched),
            "unmatched": int(ret.unmatched),
            "predicted": int(ret.predicted),
            "predicted_share": ret.predicted_share,  # predicted / matched (0..1); null when matched == 0
            "by_class": {str(k): int(v) for k, v in ret.by_class.items()},
        }
    return out


def _json_chunks(findings: pd.DataFrame) -> Iterator[str]:
    """The findings as JSON records, one per line, each chunk the inside of a JSON array."""
    text_cols = [c for c in FINDING_COLUMNS if c not in ("row", "copay_diff_yen")]
    for lo in range(0, len(findings), max(1, JSON_CHUNK_ROWS)):
        chunk = findings.iloc[lo : lo + JSON_CHUNK_ROWS].copy()
        chunk["row"] = pd.to_numeric(chunk["row"], errors="coerce").astype("Int64")
        chunk["copay_diff_yen"] = pd.to_numeric(chunk["copay_diff_yen"], errors="coerce").astype("Int64")
        try:
            text = chunk.to_json(orient="records", lines=True, force_ascii=False)
        except UnicodeEncodeError:  # lone surrogates cannot be encoded: replace them
            for c in text_cols:
                chunk[c] = chunk[c].map(_replace_surrogates, na_action="ignore")
            text = chunk.to_json(orient="records", lines=True, force_ascii=False)
        assert text is not None
        # JSON strings cannot hold a raw newline, so every "\n" separates two records.
        # ujson writes "/" as "\/" (and "\" as "\\"), so every "\/" is an escaped slash.
        yield "\n" + text.rstrip("\n").replace("\n", ",\n").replace("\\/", "/")


def _reclaim_json_chunks(reclaims: pd.DataFrame) -> Iterator[str]:
    """The reclaims as JSON records (Japanese keys, null for NA), chunked like the findings."""
    for lo in range(0, len(reclaims), max(1, JSON_CHUNK_ROWS)):
        chunk = reclaims.iloc[lo : lo + JSON_CHUNK_ROWS]
        try:
            text = chunk.to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
        except UnicodeEncodeError:  # lone surrogates cannot be encoded: replace them
            chunk = chunk.copy()
            for c in chunk.columns:
                if chunk[c].dtype == object:
                    chunk[c] = chunk[c].map(_replace_surrogates, na_action="ignore")
            text = chunk.to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
        assert text is not None
        yield "\n" + text.rstrip("\n").replace("\n", ",\n").replace("\\/", "/")


def _replace_surrogates(v: object) -> object:
    return _SURROGATE_RE.sub("\ufffd", v) if isinstance(v, str) else v


def _write_json(
    findings: pd.DataFrame,
    summary: RunSummary,
    stats: _Stats,
    path: Path,
    reclaims: pd.DataFrame | None = None,
) -> None:
    head = json.dumps({"summary": _summary_json(summary, stats)}, ensure_ascii=False, indent=1)
    reclaim_chunks = None if reclaims is None else _reclaim_json_chunks(reclaims)
    # errors="replace": a lone surrogate in the summary texts must not abort the run.
    with open(path, "w", encoding="utf-8", errors="replace", newline="\n") as fh:
        _write_json_body(fh, head, _json_chunks(findings), reclaim_chunks)


def _write_json_body(fh: TextIO, head: str, chunks: Iterator[str], reclaim_chunks: Iterator[str] | None = None) -> None:
    # head is '{ "summary": {...}\n}': reopen the object and append the findings array
    # (and the reclaims array when there is one).
    fh.write(head[: head.rindex("}")].rstrip())
    _write_json_array(fh, "findings", chunks)
    if reclaim_chunks is not None:
        _write_json_array(fh, "reclaims", reclaim_chunks)
    fh.write("\n}\n")


def _write_json_array(fh: TextIO, key: str, chunks: Iterator[str]) -> None:
    fh.write(f',\n "{key}": [')
    first = True
    for chunk in chunks:
        if not chunk:
            continue
        if not first:
            fh.write(",")
        fh.write(chunk)
        first = False
    fh.write("]")
