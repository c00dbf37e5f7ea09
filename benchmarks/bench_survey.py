"""Benchmark: aggregate N clinics × M months of survey submissions (files on disk).

    python benchmarks/bench_survey.py --clinics 10000 --months 12

Writes the submission files to a temporary folder first (not timed), then times what
``henrei survey aggregate`` does: import (read, validate, hash, latest per clinic+month),
the tables, suppression and the report (survey.xlsx + summary.json).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.survey_synth import random_submissions
from worker.survey.aggregate import import_submissions, survey_data, survey_tables
from worker.survey.report import write_survey_report
from worker.survey.schema import encode_envelope
from worker.survey.suppression import suppress


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clinics", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    months = [f"2026-{m:02d}" for m in range(1, args.months + 1)]
    subs = random_submissions(args.clinics, months)
    with tempfile.TemporaryDirectory(prefix="henrei-bench-survey-") as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        for s in subs:
            (inbox / f"{s.clinic}-{s.month}.json").write_bytes(encode_envelope(s))
        t0 = time.perf_counter()
        imported = import_submissions([inbox])
        t1 = time.perf_counter()
        data = survey_data(imported.submissions)
        grids = survey_tables(data)
        for g in grids.values():
            suppress(g)
        t2 = time.perf_counter()
        write_survey_report(data, imported, Path(tmp) / "out")
        t3 = time.perf_counter()
    result = {
        "submissions": len(imported.submissions),
        "counts": len(data.events),
        "import_s": round(t1 - t0, 2),
        "tables_and_suppression_s": round(t2 - t1, 2),
        "report_s (tables again + xlsx + json)": round(t3 - t2, 2),
        "total_s": round(t3 - t0, 2),
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
