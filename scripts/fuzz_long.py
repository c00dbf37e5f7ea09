"""The long fuzz run (issue 12): the mutations of ``tests/test_fuzz.py`` (random byte edits and a
cut of the sample CSV and workbook, each beside a good file), counted instead of stopped at
the first failure. Not CI: ``.venv/bin/python scripts/fuzz_long.py --cases 10000 --minutes 30``.

Each case is classed: ``read`` (the bad file read), ``refused`` (a Japanese message), and the
failures ``crash`` (an exception out of ``read_inputs``), ``hang`` (a case over
``--hang-s`` seconds), ``lost`` (the good file not fully read), ``unclear`` (a message that is
not Japanese or carries library text). Prints one JSON line of counts at the end (and every
500 cases); the first examples of each failure go to ``--examples``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worker.config import Settings  # noqa: E402
from worker.engine import read_inputs  # noqa: E402

SAMPLES = ROOT / "sample_receipts" / "2026-10"
GOOD = SAMPLES / "online_results_2026-10.csv"
GOOD_ROWS = 325
SOURCES = {".csv": GOOD.read_bytes(), ".xlsx": (SAMPLES / "card_records_2026-10.xlsx").read_bytes()}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
#: a run of ASCII letters as an exception's or a library's text leaves it (a file's suffix is not one)
LIBRARY_TEXT = re.compile(r"(?<![A-Za-z])[A-Za-z]{4,}(?![A-Za-z0-9])")
ALLOWED_WORDS = {"Excel", "UTF", "Shift", "CP932", "xlsx", "XML", "CSV"}


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Like ``tests/test_fuzz._mutate``: up to 8 byte edits, half the time after a cut."""
    cut = rng.randint(1, 1 << 20) if rng.random() < 0.5 else None
    b = bytearray(data if cut is None else data[: max(1, cut % len(data))])
    for _ in range(rng.randint(0, 8)):
        b[rng.randint(0, 1 << 20) % len(b)] = rng.randint(0, 255)
    return bytes(b)


def unclear(message: str) -> bool:
    words = set(LIBRARY_TEXT.findall(message)) - ALLOWED_WORDS
    return not JAPANESE.search(message) or bool(words) or "Traceback" in message


def one(suffix: str, bad: bytes, settings: Settings, hang_s: float) -> tuple[str, str]:
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        shutil.copy(GOOD, folder / "good.csv")
        (folder / f"bad{suffix}").write_bytes(bad)
        t0 = time.monotonic()
        try:
            inputs = read_inputs([folder], settings)
        except Exception as exc:  # counted, never raised
            return "crash", type(exc).__name__
        if time.monotonic() - t0 > hang_s:
            return "hang", f"{time.monotonic() - t0:.1f}s"
        files = {f.path: f for f in inputs.info.files}
        good = files.get("good.csv")
        if good is None or good.status != "ok" or f"{GOOD_ROWS}行" not in good.tables:
            return "lost", good.tables if good else "good.csv missing"
        b = files.get(f"bad{suffix}")
        if b is None:
            return "lost", "bad file not in the summary"
        if b.status == "ok":
            return "read", ""
        return ("unclear" if unclear(b.message) else "refused"), b.message


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--hang-s", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--examples", type=Path, default=Path("fuzz_examples.json"))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    settings = Settings(reader_timeout_s=60)
    counts: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    end = time.monotonic() + args.minutes * 60
    started = time.monotonic()
    n = 0
    while n < args.cases and time.monotonic() < end:
        suffix = ".csv" if n % 2 == 0 else ".xlsx"
        outcome, detail = one(suffix, mutate(SOURCES[suffix], rng), settings, args.hang_s)
        counts[f"{suffix[1:]}:{outcome}"] += 1
        counts[outcome] += 1
        if outcome not in ("read", "refused") and len(examples.setdefault(outcome, [])) < 20:
            examples[outcome].append(f"case {n} {suffix}: {detail[:300]}")
        n += 1
        if n % 500 == 0:
            print(json.dumps({"cases": n, "seconds": round(time.monotonic() - started), **counts}), flush=True)
    args.examples.write_text(json.dumps(examples, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({"cases": n, "seconds": round(time.monotonic() - started), **counts}), flush=True)


if __name__ == "__main__":
    main()
