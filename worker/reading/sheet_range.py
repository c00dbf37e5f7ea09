"""The used-range scan of one worksheet part: the largest row and column holding a cell.

The used range is the bounding box (from A1) of the cells present in ``<sheetData>``, the
grid a reader allocates. The ``<dimension ref>`` header is read and reported (see
``worker.reading.guard.sheet_extents``), but it is not a reason to refuse a file: calamine
ignores it (measured: a sheet with two cells and ``<dimension ref="A1:XFD1048576"/>`` reads
fine) and it lies in both directions in real files. Self-closing cells (``<c r="XFD1"
s="3"/>``: formatted, no value) are ignored as calamine ignores them; every other ``<c>``
counts. More than ``max_columns`` columns, more than ``max_rows`` rows or a ``rows x cols``
grid above ``max_cells`` is refused as soon as the scan sees it.

The scan has two modes. The fast mode handles the form every mainstream writer produces
(``<c r="A1" ...>``, ``r`` first, optionally with a namespace prefix): per 1 MiB chunk it
runs a handful of C-level regex searches that look only for cells *beyond* the extent seen
so far, so an ordinary sheet costs a few passes of the regex engine and no per-cell Python
work. Any cell without ``r`` (or with ``r`` not first, odd quoting, another prefix) switches
the sheet to the exact mode, which replays calamine's position logic tag by tag (cells
without ``r`` continue from the previous cell; rows without ``r`` follow the previous row).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from typing import Final

from worker.reading.unsafe import KiB, Limits, SheetExtent, column_letters, corrupt, range_error

__all__ = ["scan_worksheet"]

#: a single ``<c>``/``<row>`` start tag longer than this is not a spreadsheet
MAX_TAG_BYTES: Final = 64 * KiB

#: references longer than this are clamped (a 9-letter column or a 13-digit row is already
#: far beyond any limit; clamping keeps the arithmetic cheap on garbage input)
_MAX_LETTERS: Final = 8
_MAX_DIGITS: Final = 12


def _ref_position(letters: bytes, digits: bytes) -> tuple[int, int]:
    """(row, column), both 1-based, of a cell reference; clamped for absurd references."""
    if len(letters) > _MAX_LETTERS:
        col = 26**_MAX_LETTERS
    else:
        col = 0
        for ch in letters.upper():
            col = col * 26 + (ch - 64)
    digits = digits.lstrip(b"0") or b"0"
    row = 10**_MAX_DIGITS if len(digits) > _MAX_DIGITS else int(digits)
    return row, col


def _alt(options: list[str]) -> str:
    return "(?:" + "|".join(options) + ")"


def _letters_greater_same_length(col: int) -> str:
    """Regex (either case) for column letters as long as ``col``'s that name a greater column."""
    ref = column_letters(col)
    k = len(ref)
    opts = []
    for i, ch in enumerate(ref):
        if ch < "Z":
            nxt = chr(ord(ch) + 1)
            prefix = "".join(f"[{c}{c.lower()}]" for c in ref[:i])
            rest = f"[A-Za-z]{{{k - i - 1}}}" if k - i - 1 else ""
            opts.append(f"{prefix}[{nxt}-Z{nxt.lower()}-z]{rest}")
    return _alt(opts) if opts else "(?!)"


def _number_greater(value: int) -> str:
    """Regex matching a prefix that proves a number (no leading zero) is > ``value`` >= 1.

    Written as a trie over ``value``'s digits so that a smaller number fails after reading
    its own digits once (this pattern runs on every cell of a sheet)."""
    ref = str(value)
    k = len(ref)

    def level(i: int) -> str:
        if i == k:
            return "\\d"  # same digits so far and one more digit: longer, so greater
        c = int(ref[i])
        opts = []
        if c < 9:
            opts.append(f"[{c + 1}-9]" + (f"\\d{{{k - i - 1}}}" if k - i - 1 else ""))
        opts.append(f"{c}{level(i + 1)}")
        low = 1 if i == 0 else 0
        if c > low:
            opts.append(f"[{low}-{c - 1}]\\d{{{k - i}}}")  # smaller digit, but longer
        return _alt(opts)

    return level(0)


class _NeedExactScan(Exception):
    """The sheet is not (only) in the standard ``<c r="A1"`` form; rescan it exactly."""


class _RangeCheck:
    """Running extent of one sheet; raises as soon as it leaves the limits."""

    def __init__(self, label: str, limits: Limits) -> None:
        self.label = label
        self.limits = limits
        self.max_row = 0
        self.max_col = 0

    def add(self, row: int, col: int) -> None:
        if row > self.max_row or col > self.max_col:
            self.max_row = max(self.max_row, row)
            self.max_col = max(self.max_col, col)
            lim = self.limits
            if (
                self.max_col > lim.max_columns
                or self.max_row > lim.max_rows
                or self.max_row * self.max_col > lim.max_cells
            ):
                raise range_error(self.label, self.max_row, self.max_col)


_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.\-]*):)?worksheet[\s>/]")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?dimension\s+ref\s*=\s*[\"']([^\"']*)[\"']")


class _FastScanner:
    """Standard-form scan. Per chunk it runs a few C-level searches:

    * is there a ``<c`` tag not spelled ``<c r="`` (no r, r not first, another prefix)?
      then the whole sheet is rescanned exactly (:class:`_NeedExactScan`);
    * the chunk's last valued cell, and the last valued cell of its last complete row,
      raise the running extent (for the usual ordered sheet: the chunk's largest row and
      its widest row);
    * is there a valued cell beyond the running extent (greater column or row)? only then
      are all cells of the chunk parsed in Python.

    "Valued" means not self-closing: ``<c r="U7" s="3"/>`` (formatting only) is not in
    calamine's range, and a sheet with a formatted area right of its data must not send
    every chunk down the slow path.
    """

    def __init__(self, check: _RangeCheck, prefix: bytes) -> None:
        self.check = check
        qualified = prefix + b":" if prefix else b""
        tag = b"<" + qualified + b"c"
        self.open = re.escape(tag + b' r="')
        self.row_end = b"</" + qualified + b"row>"
        self.overlap = 64 + len(prefix)  # longer than any match that proves something
        self.context = len(prefix) + 2  # what the look-behind needs before ":c"
        self.skip = 0
        self.nonstandard = [re.compile(re.escape(tag) + rb'(?! r=")[\s>/]')]
        if prefix:
            own = re.escape(prefix)
            self.nonstandard.append(re.compile(rb"<c[\s>/]"))
            self.nonstandard.append(re.compile(b"(?<!<" + own + b")(?<!/" + own + rb"):c[\s>/]"))
        else:
            self.nonstandard.append(re.compile(rb":c[\s>/]"))
        self.ref = re.compile(self.open + rb"([A-Za-z]+)(\d+)")
        self.valued = re.compile(self.open + rb'([A-Za-z]+)(\d+)"[^>]*(?<!/)>')
        self.carry = b""
        self._beyond_key = (-1, -1)
        self._beyond = self.ref

    def _beyond_pattern(self) -> re.Pattern[bytes]:
        key = (self.check.max_row, self.check.max_col)
        if key != self._beyond_key:
            row, col = key
            if row and col:
                # a same-length greater column | more letters | a leading zero | greater row,
                # then the rest of a tag that is not self-closing (or the end of the buffer)
                k = len(column_letters(col))
                greater = (
                    f"(?:{_letters_greater_same_length(col)}|[A-Za-z]{{1,{k}}}(?:[A-Za-z]|0|{_number_greater(row)}))"
                ).encode()
                rest = rb'[A-Za-z\d]*(?:"(?:[^>]*(?<!/)>|[^>]*\Z)|\Z)'
                self._beyond = re.compile(self.open + greater + rest)
            else:
                self._beyond = self.ref
            self._beyond_key = key
        return self._beyond

    def feed(self, data: bytes, final: bool = False) -> None:
        """Examine every match that *starts* in ``[skip, limit)`` of carry + data.

        The last ``overlap`` bytes are carried to the next call (every pattern match that
        proves something is shorter), together with ``context`` bytes already examined
        so that look-behinds see what precedes the first new byte.
        """
        buf = self.carry + data if self.carry else data
        skip = self.skip
        limit = len(buf) if final else len(buf) - self.overlap
        if limit <= skip:
            self.carry = buf
            return
        keep = max(0, limit - self.context)
        self.carry = buf[keep:]
        self.skip = limit - keep
        for rx in self.nonstandard:
            m = rx.search(buf, skip)
            if m is not None and m.start() < limit:
                raise _NeedExactScan
        self._tail(buf, skip, limit)
        m = self._beyond_pattern().search(buf, skip)
        if m is not None and m.start() < limit:
            self._all_cells(buf, m.start(), limit, final)

    def _tail(self, buf: bytes, skip: int, limit: int) -> None:
        row_end = buf.rfind(self.row_end, skip, limit)
        for end in (limit, row_end):
            if end > skip:
                m = self._last_valued(buf, skip, end)
                if m is not None:
                    self.check.add(*_ref_position(m.group(1), m.group(2)))

    def _last_valued(self, buf: bytes, skip: int, end: int) -> re.Match[bytes] | None:
        """The last valued cell starting in ``[skip, end)``, searching backwards in windows."""
        window = 4 * KiB
        while True:
            start = max(skip, end - window)
            last = None
            for m in self.valued.finditer(buf, start):
                if m.start() >= end:
                    break
                last = m
            if last is not None or start == skip:
                return last
            window *= 8

    def _all_cells(self, buf: bytes, start: int, limit: int, final: bool) -> None:
        for m in self.ref.finditer(buf, start):
            if m.start() >= limit:
                break
            if m.end() == len(buf) and not final:  # a 50+ character reference
                raise corrupt("シートのデータ構造が異常です")
            close = buf.find(b">", m.end())
            if close > 0 and buf[close - 1] == 0x2F:  # "/>": no value, not in the range
                continue
            self.check.add(*_ref_position(m.group(1), m.group(2)))


_NAME = rb"[A-Za-z_][\w.\-]*"
_ATTRS = rb"(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*"
_TAG = re.compile(rb"<(?:/(?:" + _NAME + rb":)?(row)\s*>|(?:" + _NAME + rb":)?(c|row)(" + _ATTRS + rb")\s*(/?)>)")
_TAG_START = re.compile(rb"<(?:" + _NAME + rb":)?(?:c|row)[\s/>]")
_R_ATTR = re.compile(rb"\sr\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_REF = re.compile(rb"\s*([A-Za-z]+)(\d+)\s*")
_ROW_NUMBER = re.compile(rb"\s*(\d+)\s*")


class _ExactScanner:
    """Replays calamine's cell positioning tag by tag (slow path, any spelling).

    A cell with ``r`` sits where it says and moves the "next column" after it; a cell
    without ``r`` takes the next column of the current row. ``<row r>`` sets the row,
    ``</row>`` moves to the next row and column A. A self-closing ``<c/>`` moves the column
    but holds no value (calamine leaves it out of the range); a self-closing ``<row/>`` is
    its own end tag. (All measured against python-calamine 0.9.1.)
    """

    def __init__(self, check: _RangeCheck) -> None:
        self.check = check
        self.carry = b""
        self.row = 0  # 0-based row of the next cell without r
        self.col = 0  # 0-based column of the next cell without r

    def feed(self, data: bytes, final: bool = False) -> None:
        buf = self.carry + data if self.carry else data
        limit = len(buf) if final else buf.rfind(b"<")
        if limit < 0:
            limit = len(buf)
        self.carry = buf[limit:]
        if len(self.carry) > MAX_TAG_BYTES:
            if _TAG_START.match(self.carry):
                raise corrupt("シートのデータ構造が異常です")
            self.carry = b""  # long text, comment or CDATA: no tag to complete
        row, col, check = self.row, self.col, self.check
        for end_row, name, attrs, empty in _TAG.findall(buf, 0, limit):
            if end_row:  # </row>
                row, col = row + 1, 0
                continue
            ref = None
            if b"r" in attrs:
                r = _R_ATTR.search(attrs)
                if r is not None:
                    ref = r.group(1) if r.group(1) is not None else r.group(2)
            if name == b"row":
                number = _ROW_NUMBER.fullmatch(ref) if ref is not None else None
                if number is not None:
                    row = max(_ref_position(b"A", number.group(1))[0] - 1, 0)
                if empty:  # an empty row element is its own end tag
                    row, col = row + 1, 0
                continue
            if ref is None:
                cell_row, cell_col = row + 1, col + 1
            else:
                parsed = _REF.fullmatch(ref)
                if parsed is None:
                    continue  # calamine refuses such a reference itself
                cell_row, cell_col = _ref_position(parsed.group(1), parsed.group(2))
            # a valueless <c/> moves the column but is not in the range
            if not empty and (cell_row > check.max_row or cell_col > check.max_col):
                check.add(cell_row, cell_col)
            col = cell_col
        self.row, self.col = row, col


def scan_worksheet(
    inflate: Callable[[], Generator[bytes, None, None]], part: str, name: str, label: str, limits: Limits
) -> SheetExtent:
    """The extent of the worksheet part ``part``, whose content each call of ``inflate``
    streams from the start (a second pass is needed when the exact scan takes over).

    ``name`` is the sheet name reported, ``label`` how messages call the sheet; raises
    ``UnsafeFileError("sheet_range")`` as soon as the range leaves ``limits``.
    """
    stream = inflate()
    head = b""
    for chunk in stream:
        head += chunk
        if len(head) >= 64 * KiB or b"<sheetData" in head:
            break
    root = _ROOT.search(head)
    prefix = (root.group(1) or b"") if root else b""
    dim = _DIMENSION.search(head)
    dimension = dim.group(1).decode("ascii", "replace") if dim else None

    check = _RangeCheck(label, limits)
    try:
        fast = _FastScanner(check, prefix)
        fast.feed(head)
        for chunk in stream:
            fast.feed(chunk)
        fast.feed(b"", final=True)
    except _NeedExactScan:
        stream.close()
        check = _RangeCheck(label, limits)
        exact = _ExactScanner(check)
        for chunk in inflate():
            exact.feed(chunk)
        exact.feed(b"", final=True)
    return SheetExtent(
        part=part,
        name=name,
        max_row=check.max_row,
        max_col=check.max_col,
        dimension=dimension,
    )
