"""Reader errors a clerk sees are Japanese and say what to do (issue 12, problem 7): every
hostile file of ``tests/hostile.py``, read as a run reads it, is refused (or partly read)
with a Japanese message naming an action; no library text (``CalamineError: Cfb error…``),
no path, no cell value."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import hostile
import pytest

from worker.config import Settings
from worker.reading import FileProblem, read_file
from worker.reading.isolation_outcome import _error_message

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
#: ASCII words a message may hold: formats and names of ours, and cell references (XFD1048576)
ALLOWED = re.compile(r"^(Excel|UTF|Shift_JIS|CP932|CSV|HTML|XML|xlsx|xls|DOCTYPE|[A-Z]{1,3}\d+)$")
ASKS = ("ください",)

BUILDERS: dict[str, Callable[[Path, Path], Path]] = {
    "huge_dimension": lambda d, g: hostile.huge_dimension_xlsx(d),
    "far_cell": lambda d, g: hostile.far_cell_xlsx(d, "XFD1048576"),
    "lying_dimension": lambda d, g: hostile.lying_dimension_xlsx(d),
    "zip_bomb": lambda d, g: hostile.zip_bomb_xlsx(d, inflated_mib=32),
    "ratio_bomb": lambda d, g: hostile.ratio_bomb_xlsx(d, mib=16),
    "overlapping": lambda d, g: hostile.overlapping_entries_xlsx(d),
    "rowless_wide": lambda d, g: hostile.rowless_wide_xlsx(d),
    "prefixed": lambda d, g: hostile.prefixed_xlsx(d),
    "truncated": lambda d, g: hostile.truncated_xlsx(g, d),
    "bitflipped": lambda d, g: hostile.bitflipped_xlsx(g, d),
    "not_excel": lambda d, g: hostile.not_excel_xlsx(d),
    "ole_disguised": lambda d, g: hostile.ole_disguised_xlsx(d),
    "fake_xls": lambda d, g: hostile.fake_xls(d),
    "ole_xls": lambda d, g: hostile.ole_xls(d),  # before: 「（CalamineError: calamine error: Xls error: Cfb error…）」
    "empty": lambda d, g: hostile.empty_file(d),
    "binary_csv": lambda d, g: hostile.binary_csv(d),
    "utf16_csv": lambda d, g: hostile.utf16_csv(d),
}


def _unclear(message: str, folder: Path) -> list[str]:
    """What makes a message unfit for a clerk (empty when it is fit)."""
    out = []
    if not JAPANESE.search(message):
        out.append("not Japanese")
    ours = re.sub(r"シート「[^」]*」", "", message)  # a sheet's name is the file's own
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9_]{2,}", ours) if not ALLOWED.match(w)]
    if words:
        out.append(f"library text {words}")
    if str(folder) in message:
        out.append("a path")
    if not any(a in message for a in ASKS):
        out.append("no action")
    return out


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_each_hostile_file_gets_a_japanese_message_with_an_action(kind: str, tmp_path: Path) -> None:
    good = hostile.good_xlsx(tmp_path, "good.xlsx", rows=50)
    path = BUILDERS[kind](tmp_path, good)
    result = read_file(path, Settings(reader_timeout_s=60))
    if isinstance(result, FileProblem):
        message = result.message
    else:  # read, perhaps partly: the sheets not read are what the clerk sees
        from worker.reading.unread import unread_message

        message = unread_message(result.unread)
        if not message:
            return
    assert not _unclear(message, tmp_path), f"{kind}: {message}"


def test_library_text_never_reaches_the_clerk() -> None:
    """Whatever a library raises, with cell values or paths in its text."""
    cases = [
        ("CalamineError", "calamine error: Xls error: Cfb error: Invalid sector shift /tmp/x/山田太郎.xls"),
        ("UnicodeDecodeError", "'cp932' codec can't decode byte 0x81 in position 12: 山田"),
        ("KeyError", "'山田太郎 1951-08-13 090-1234-5678'"),
        ("XMLSyntaxError", "StartTag: invalid element name, line 3"),
    ]
    for exc_type, text in cases:
        message = _error_message(exc_type, text)
        assert not _unclear(message, Path("/nowhere")), message
        assert "山田" not in message and "1951" not in message and "090" not in message, message
