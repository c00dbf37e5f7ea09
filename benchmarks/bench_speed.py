#!/usr/bin/env python
"""Issue 11's figures in one run: whole processes, medians of alternating rounds, ratios
taken in the same run (the machine is shared: absolute seconds move with the load).

    .venv/bin/python benchmarks/bench_speed.py                      # samples, 300, 1k, 3k, 100k
    .venv/bin/python benchmarks/bench_speed.py --sizes 1000000 --rounds 1 --rules 1000000

For each size, each round runs, in an order rotated every round:
- ``henrei``: ``henrei reconcile FOLDER --out TMP`` (the clerk's command, end to end);
- ``naive``: ``benchmarks/naive_script.py`` (pandas + openpyxl: read, merge on 患者ID,
  compare 負担割合, ``to_excel``; what a user would write instead) — up to ``--naive-max``
  receipts (``--naive-max 1000000`` includes 1M: ~600 s of CPU);
- ``before`` (with ``--compare DIR``): ``DIR/.venv/bin/henrei reconcile`` run in another
  checkout (e.g. /work/main), to show what changed in the same conditions;
- ``raw``: ``benchmarks/raw_read.py`` (every sheet to Arrow text by fastexcel, CSV by
  pyarrow.csv; the reader's floor).
Each command's wall time and the peak of the sampled PSS of its whole process tree are
recorded. ``--rules N`` also times ``rules.registry.run`` alone on N receipts
(``bench_core.py``'s rules stage, in memory). Results: printed, and written to
``benchmarks/results-speed.json``. Sizes are ``samples`` (sample_receipts/) or receipt counts
(``benchmarks/_data/xlsx-N-0``, made by bench_core's generator when missing).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench_core import ROOT, _descendants, _pss_kb, data_dir, ensure_data, run_child  # script folder on sys.path

VENV = ROOT / ".venv" / "bin"
PY = str(VENV / "python") if (VENV / "python").exists() else sys.executable
HENREI = str(VENV / "henrei")


def _log(msg: str) -> None:
    print(f"[bench-speed {datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def timed(cmd: list[str], interval: float = 0.05, cwd: Path = ROOT) -> dict[str, float]:
    """Wall seconds of ``cmd``, its CPU seconds (with its children's: less moved by other load
    than wall time on a shared machine) and the peak summed PSS (MB) of its process tree."""
    peak = 0
    done = threading.Event()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, sum(_pss_kb(p) for p in [proc.pid, *_descendants(proc.pid)]))
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)  # its CPU includes its reaped children (the readers)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    if proc.returncode not in (0, 2):  # henrei exits 2 when a file is unreadable: still a run
        raise RuntimeError(f"{cmd} failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    return {"s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "pss_mb": peak / 1024}


def folder_of(size: str) -> tuple[Path, int | None]:
    if size == "samples":
        return ROOT / "sample_receipts", None
    n = int(size)
    ensure_data(n, "xlsx", 0, 0)
    return data_dir("xlsx", n, 0), n


def command(kind: str, folder: Path, out: Path, compare: Path | None) -> list[str]:
    """The command line of one kind of run."""
    if kind == "henrei":
        return [HENREI, "reconcile", str(folder), "--out", str(out)]
    if kind == "naive":
        return [PY, str(ROOT / "benchmarks" / "naive_script.py"), str(folder), str(out) + ".xlsx"]
    if kind == "raw":
        return [PY, str(ROOT / "benchmarks" / "raw_read.py"), str(folder)]
    assert compare is not None
    return [str(compare / ".venv" / "bin" / "henrei"), "reconcile", str(folder), "--out", str(out)]


def bench_size(size: str, rounds: int, naive_max: int, compare: Path | None = None) -> dict[str, Any]:
    folder, n = folder_of(size)
    kinds = ["henrei", "raw"] + (["before"] if compare else [])
    if n is not None and n <= naive_max:  # the samples' title rows and aliases defeat it
        kinds.append("naive")
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        for r in range(rounds):
            order = kinds[r % len(kinds) :] + kinds[: r % len(kinds)]
            for kind in order:
                out = Path(tmp) / f"{kind}-{r}"
                cmd = command(kind, folder, out, compare)
                runs[kind].append(timed(cmd, cwd=compare if kind == "before" and compare else ROOT))
                last = runs[kind][-1]
                _log(f"{size} #{r + 1} {kind}: {last['s']:.2f} s, cpu {last['cpu_s']:.2f} s, {last['pss_mb']:.0f} MB")
    med = {k: statistics.median(x["s"] for x in v) for k, v in runs.items()}
    cpu = {k: statistics.median(x["cpu_s"] for x in v) for k, v in runs.items()}
    result: dict[str, Any] = {
        "size": size,
        "receipts": n,
        "median_s": {k: round(v, 2) for k, v in med.items()},
        "median_cpu_s": {k: round(v, 2) for k, v in cpu.items()},
        "peak_tree_pss_mb": {k: round(max(x["pss_mb"] for x in v)) for k, v in runs.items()},
        "runs_s": {k: [round(x["s"], 2) for x in v] for k, v in runs.items()},
        "henrei_over_raw": round(med["henrei"] / med["raw"], 2),
    }
    if "naive" in med:
        result["naive_over_henrei"] = round(med["naive"] / med["henrei"], 2)
    if "before" in med:
        result["before_over_henrei"] = round(med["before"] / med["henrei"], 2)
    for k in ("raw", "naive", "before"):
        if k in cpu:
            result[f"cpu_henrei_over_{k}"] = round(cpu["henrei"] / cpu[k], 2)
    return result


def compiled(checkout: Path) -> None:
    """Byte-compile a checkout's own packages first, as an install does (``scripts/setup.sh``;
    pip compiles what it installs): an editable install does not, and where
    PYTHONDONTWRITEBYTECODE is set every run would compile ~110 modules again (~0.1 s)."""
    py = checkout / ".venv" / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    folders = [d for d in ("worker", "rules", "tasks") if (checkout / d).is_dir()]
    subprocess.run([str(py), "-m", "compileall", "-q", *folders], cwd=checkout, env=env, check=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="samples,300,1000,3000,100000")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--naive-max",
        type=int,
        default=3000,
        help="run the naive script up to this size (1000000: at 1M too, ~600 s of CPU)",
    )
    p.add_argument("--rules", type=int, default=100_000, help="receipts for the rules-alone figure (0: skip)")
    p.add_argument("--compare", type=Path, help="another checkout whose henrei is timed alongside (before)")
    args = p.parse_args()
    for checkout in (ROOT, args.compare):
        if checkout is not None:
            compiled(checkout)
    load = [round(x, 2) for x in os.getloadavg()]
    sizes = [bench_size(s, args.rounds, args.naive_max, args.compare) for s in args.sizes.split(",") if s]
    rules: dict[str, Any] = {}
    if args.rules:
        r = run_child("rules", args.rules, "xlsx", 0, 0)
        rules = {"receipts": args.rules, "rules_s": round(r["rules_s"], 3), "per_s": round(args.rules / r["rules_s"])}
    report = {
        "measured_at": datetime.now().isoformat(timespec="seconds"),
        "loadavg_before": load,
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "sizes": sizes,
        "rules": rules,
    }
    print(f"load average before {load}, after {report['loadavg_after']} (2 cores)")
    print("| size | henrei s | before s | raw s | naive s | henrei/raw | naive/henrei | before/henrei | PSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in sizes:
        m = s["median_s"]
        print(
            f"| {s['size']} | {m['henrei']} | {m.get('before', '—')} | {m['raw']} | {m.get('naive', '—')} "
            f"| {s['henrei_over_raw']} | {s.get('naive_over_henrei', '—')} | {s.get('before_over_henrei', '—')} "
            f"| {s['peak_tree_pss_mb']['henrei']} |"
        )
    print("\nCPU seconds (medians, with children): henrei / before / raw / naive")
    for s in sizes:
        c = s["median_cpu_s"]
        print(f"| {s['size']} | {c['henrei']} | {c.get('before', '—')} | {c['raw']} | {c.get('naive', '—')} |")
    if rules:
        print(f"rules alone: {rules['receipts']:,} receipts in {rules['rules_s']} s = {rules['per_s']:,}/s")
    path = ROOT / "benchmarks" / "results-speed.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    previous[",".join(args.sizes.split(","))] = report
    path.write_text(json.dumps(previous, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
