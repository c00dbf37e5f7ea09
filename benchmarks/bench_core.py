#!/usr/bin/env python
"""Benchmark of the core engine: read, normalise + link + rules, write, end to end.

Run from the repository root:

    .venv/bin/python benchmarks/bench_core.py --receipts 100000 --form xlsx
    .venv/bin/python benchmarks/bench_core.py --receipts 1000000 --stages rules
    .venv/bin/python benchmarks/bench_core.py --receipts 1000000 --form csv --stages e2e

Every stage runs in a fresh subprocess of this script, so the peak memory of a stage is
measured on its own. See benchmarks/README.md for what each stage measures and how the
memory figures are to be read.

The orchestrating process imports only the standard library on purpose: on Linux a child
started with fork/vfork + exec inherits the parent's RSS high-water mark into its own
``ru_maxrss`` (``exec_mmap`` folds the old mm's hiwater into ``signal->maxrss``), so a fat
parent would inflate every stage's figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(os.path.abspath(__file__)).parent.parent
BENCH = ROOT / "benchmarks"
DATA = BENCH / "_data"
OUT = DATA / "_out"

STAGES = ("read", "rules", "write", "e2e")
FILE_STAGES = {"read", "e2e"}  # stages that need the generated files
MARKER = "@@BENCH_RESULT@@ "
MB = 1024 * 1024

#: (target name, N it is defined at, description)
TARGET_RULES_RPS = 1_000_000
TARGET_RULES_N = 1_000_000
TARGET_E2E_RATIO = 1.5
TARGET_E2E_RATIO_N = 100_000
TARGET_E2E_MEM_MB = 3 * 1024  # 3 GiB
TARGET_E2E_MEM_N = 1_000_000

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _log(msg: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


# ======================================================================== memory probes


#: the highest VmHWM (KiB) seen before a _reset_hwm: resetting the high-water mark also
#: lowers what getrusage(RUSAGE_SELF).ru_maxrss reports afterwards
_HWM_BEFORE_RESETS_KB = 0


def _rusage_mb() -> dict[str, float]:
    """Peak RSS (ru_maxrss, KiB on Linux) of this process and of its largest reaped child."""
    me = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, _HWM_BEFORE_RESETS_KB) / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "self_mb": round(me, 1),
        "children_mb": round(kids, 1),
        "peak_rss_mb": round(max(me, kids), 1),
        "self_plus_children_mb": round(me + kids, 1),
    }


def _status_kb(field: str, pid: str = "self") -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _reset_hwm() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux >= 4.0); False if not possible."""
    global _HWM_BEFORE_RESETS_KB
    _HWM_BEFORE_RESETS_KB = max(_HWM_BEFORE_RESETS_KB, _status_kb("VmHWM"))
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{p}/task/{tid}/children", encoding="ascii") as fh:
                    kids = [int(x) for x in fh.read().split()]
            except OSError:
                continue
            out.extend(kids)
            todo.extend(kids)
    return out


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class TreeSampler:
    """Samples the summed PSS of this process and all its descendants (a lower bound of
    the true concurrent peak: short spikes between samples are missed). PSS splits the
    copy-on-write pages a forked reader child shares with its parent, so unlike summing
    RSS it does not count them twice."""

    def __init__(self, interval_s: float) -> None:
        self.interval = interval_s
        self.peak_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> TreeSampler:
        if self.interval > 0:
            self._thread = threading.Thread(target=self._run, name="pss-sampler", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            total = sum(_pss_kb(p) for p in [me, *_descendants(me)])
            self.peak_kb = max(self.peak_kb, total)
            self.samples += 1
            self._stop.wait(self.interval)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def result(self) -> dict[str, Any]:
        if self.interval <= 0:
            return {}
        return {"tree_pss_peak_mb": round(self.peak_kb / 1024, 1), "tree_pss_samples": self.samples}


# ======================================================================== data


def data_dir(form: str, n: int, seed: int) -> Path:
    return DATA / f"{form}-{n}-{seed}"


def findings_path(n: int, seed: int) -> Path:
    return DATA / f"findings-{n}-{seed}.pkl"


def _data_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    from worker.reading import discover

    files, problems = discover([folder])
    if problems:
        raise RuntimeError(f"unreadable paths in {folder}: {problems}")
    return files


def _raw_tables(month: dict[str, Any], form: str) -> list[Any]:
    """The RawTables the reader would hand back for generate_month's tables: canonical
    field names (classify_header), ``_row`` = Excel row, missing cells as null, and the
    frame made by the same Arrow -> pandas conversion as worker.reading.read._load ("str")."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from benchmarks.synth import _FILE_STEMS
    from worker.reading import RawTable, classify_header

    claim_month = str(month["receipts"]["診療年月"].iloc[0])
    out = []
    for kind in ("receipts", "online", "cards"):
        df = month[kind]
        match = classify_header(list(df.columns))
        if match is None or match.kind != kind:
            raise RuntimeError(f"generated {kind} headers not recognised: {match}")
        names = ["_row"]
        arrays: list[Any] = [pa.array(np.arange(2, len(df) + 2, dtype=np.int64))]
        for i, header in enumerate(df.columns):
            names.append(match.fields.get(i, f"extra:{str(header).strip()}"))
            arr = pa.array(df[header]).cast(pa.string())
            arrays.append(pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr))
        frame = pa.table(arrays, names=names).to_pandas(types_mapper=None)
        headers = {f: match.headers[i] for i, f in match.fields.items()}
        out.append(
            RawTable(
                kind=kind,
                file=f"{_FILE_STEMS[kind]}_{claim_month}.{form}",
                sheet=kind if form == "xlsx" else "",
                frame=frame,
                headers=headers,
            )
        )
    return out


# ======================================================================== stages (children)


def stage_gen(args: argparse.Namespace) -> dict[str, Any]:
    from benchmarks.synth import generate_month, write_month

    n, form, seed = args.receipts[0], args.form, args.seed
    final = data_dir(form, n, seed)
    tmp = final.with_name(final.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    t0 = time.perf_counter()
    month = generate_month(n, seed=seed)
    t1 = time.perf_counter()
    rows = {k: len(v) for k, v in month.items()}
    _log(f"generated {rows} in {t1 - t0:.1f} s; writing {form} ...")
    paths = write_month(month, tmp, form=form)
    t2 = time.perf_counter()
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    return {
        "generate_s": round(t1 - t0, 2),
        "write_month_s": round(t2 - t1, 2),
        "rows": rows,
        "files": {p.name: p.stat().st_size for p in (final / q.name for q in paths)},
    }


def stage_read(args: argparse.Namespace) -> dict[str, Any]:
    from worker.config import Settings
    from worker.reading import read_all

    files = _data_files(data_dir(args.form, args.receipts[0], args.seed))
    settings = Settings.from_env()
    t0 = time.perf_counter()
    tables, problems, _ = read_all(files, settings)
    seconds = time.perf_counter() - t0
    if problems:
        raise RuntimeError(f"read problems: {problems}")
    return {
        "seconds": seconds,
        "rows": {f"{t.kind}": len(t.frame) for t in tables},
        "settings": {"reader_processes": settings.reader_processes, "reader_memory_mb": settings.reader_memory_mb},
    }


def stage_rules(args: argparse.Namespace) -> dict[str, Any]:
    import gc
    import pickle

    from benchmarks.synth import generate_month
    from rules import concat_findings, registry
    from worker.engine.link import link
    from worker.engine.reconcile import combine

    n = args.receipts[0]
    t0 = time.perf_counter()
    month = generate_month(n, seed=args.seed)
    tables = _raw_tables(month, args.form)
    del month
    gc.collect()
    build_s = time.perf_counter() - t0
    rss_before = _status_kb("VmRSS") / 1024
    sub_peaks: dict[str, float] = {"build_tables": round(_status_kb("VmHWM") / 1024, 1)}
    can_reset = _reset_hwm()

    def mark(name: str) -> None:
        if can_reset:
            sub_peaks[name] = round(_status_kb("VmHWM") / 1024, 1)
            _reset_hwm()

    t0 = time.perf_counter()
    stacked, input_findings = combine(tables)
    t1 = time.perf_counter()
    mark("normalise")
    linked = link(stacked["receipts"], stacked["online"], stacked["cards"])
    t2 = time.perf_counter()
    mark("link")
    rule_findings = registry.run(linked)
    t3 = time.perf_counter()
    mark("rules")
    findings = concat_findings([input_findings, rule_findings])
    t4 = time.perf_counter()
    mark("concat")

    receipts = stacked["receipts"]
    months = receipts["claim_month"].dropna()
    period = months.min().strftime("%Y-%m") if len(months) else ""
    with open(findings_path(n, args.seed), "wb") as fh:
        pickle.dump({"findings": findings, "period": period, "receipts": len(receipts), "form": args.form}, fh)
    return {
        "seconds": t3 - t2,  # the stage's headline figure: registry.run alone
        "build_tables_s": round(build_s, 3),
        "normalise_s": t1 - t0,
        "link_s": t2 - t1,
        "rules_s": t3 - t2,
        "concat_s": t4 - t3,
        "normalise_link_rules_s": t3 - t0,
        "findings": len(findings),
        "findings_by_category": {str(k): int(v) for k, v in findings["category"].value_counts().items()},
        "rss_before_mb": round(rss_before, 1),
        "substage_peak_rss_mb": sub_peaks,
    }


def stage_write(args: argparse.Namespace) -> dict[str, Any]:
    import pickle

    from worker.engine.results import FileStatus, RunSummary
    from worker.reports import write_reports

    n = args.receipts[0]
    path = findings_path(n, args.seed)
    if not path.exists():
        raise RuntimeError(f"{path} missing: run the rules stage first")
    with open(path, "rb") as fh:
        saved = pickle.load(fh)
    findings = saved["findings"]
    now = datetime.now()
    summary = RunSummary(
        period=saved["period"],
        files=[
            FileStatus(path=f"{stem}.{saved['form']}", status="ok", tables=f"{kind}: {kind}（{n}行）", message="")
            for stem, kind in (("receipts", "receipts"), ("online_results", "online"), ("card_records", "cards"))
        ],
        receipts=saved["receipts"],
        started_at=now,
        finished_at=now,
    )
    out = OUT / f"write-{n}-{args.seed}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    paths = write_reports(findings, summary, out)
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "findings": len(findings),
        "findings_per_s": round(len(findings) / seconds) if seconds else None,
        "outputs": {p.name: p.stat().st_size for p in paths},
    }


def stage_e2e(args: argparse.Namespace) -> dict[str, Any]:
    from worker.cli import reconcile

    n = args.receipts[0]
    files = _data_files(data_dir(args.form, n, args.seed))
    out = OUT / f"e2e-{args.form}-{n}-{args.seed}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    result = reconcile(files, out)
    seconds = time.perf_counter() - t0
    if result.problems:
        raise RuntimeError(f"file problems: {result.problems}")
    return {
        "seconds": seconds,
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        "receipts": result.summary.receipts,
        "findings": len(result.findings),
        "outputs": {p.name: p.stat().st_size for p in result.outputs},
    }


STAGE_FUNCS = {"gen": stage_gen, "read": stage_read, "rules": stage_rules, "write": stage_write, "e2e": stage_e2e}


def child_main(args: argparse.Namespace) -> int:
    import logging

    logging.basicConfig(level=logging.WARNING)
    stage = args.child
    baseline = _status_kb("VmRSS") / 1024
    with TreeSampler(args.sample_interval if stage != "gen" else 0) as sampler:
        result = STAGE_FUNCS[stage](args)
    result.update(_rusage_mb())
    result.update(sampler.result())
    result["vm_hwm_self_mb"] = round(max(_status_kb("VmHWM"), _HWM_BEFORE_RESETS_KB) / 1024, 1)
    result["baseline_rss_mb"] = round(baseline, 1)
    print(MARKER + json.dumps(result, ensure_ascii=False), flush=True)
    return 0


# ======================================================================== orchestrator


def run_child(stage: str, n: int, form: str, seed: int, sample_interval: float) -> dict[str, Any]:
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--_child", stage,
        "--receipts", str(n),
        "--form", form,
        "--seed", str(seed),
        "--sample-interval", str(sample_interval),
    ]  # fmt: skip
    result = run_marked(cmd, f"stage {stage} (N={n})")
    result["measured_at"] = datetime.now().isoformat(timespec="seconds")
    return result


def run_marked(cmd: list[str], what: str) -> dict[str, Any]:
    """Run a benchmark child process and return the JSON result it printed after MARKER,
    with its wall time and the 1-minute load average before and after (other work on the
    machine skews the times)."""
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        sys.stdout.write(proc.stdout)
        raise RuntimeError(f"{what} failed with exit code {proc.returncode}")
    result: dict[str, Any] = json.loads(lines[-1][len(MARKER) :])
    result["process_wall_s"] = round(wall, 2)
    result["loadavg_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return result


def ensure_data(n: int, form: str, seed: int, sample_interval: float) -> dict[str, Any] | None:
    folder = data_dir(form, n, seed)
    if len(_list_data(folder)) == 3:
        _log(f"reusing {folder.relative_to(ROOT)}")
        return None
    _log(f"generating {folder.relative_to(ROOT)} (xlsx: ~35 s per 100k receipts) ...")
    info = run_child("gen", n, form, seed, sample_interval)
    _log(f"generated in {info['generate_s']} s + write_month {info['write_month_s']} s")
    return info


def _list_data(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest run, with memory figures replaced by the worst over all runs."""
    best = dict(min(runs, key=lambda r: r["seconds"]))
    for key in ("peak_rss_mb", "self_mb", "children_mb", "self_plus_children_mb", "tree_pss_peak_mb"):
        vals = [r[key] for r in runs if key in r]
        if vals:
            best[key] = max(vals)
    best["all_seconds"] = [round(r["seconds"], 3) for r in runs]
    return best


def _rps(n: int, seconds: float | None) -> float | None:
    return n / seconds if seconds else None


def _fmt_num(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def print_table(n: int, form: str, res: dict[str, Any]) -> list[tuple[str, float | None, float | None, Any, Any, Any]]:
    rows: list[tuple[str, float | None, float | None, Any, Any, Any]] = []

    def mem(r: dict[str, Any]) -> tuple[Any, Any, Any]:
        return r.get("peak_rss_mb"), r.get("self_plus_children_mb"), r.get("tree_pss_peak_mb")

    if "read" in res:
        r = res["read"]
        rows.append(("read (read_all)", r["seconds"], _rps(n, r["seconds"]), *mem(r)))
    if "rules" in res:
        r = res["rules"]
        rows.append(("normalise (combine)", r["normalise_s"], _rps(n, r["normalise_s"]), None, None, None))
        rows.append(("link", r["link_s"], _rps(n, r["link_s"]), None, None, None))
        rows.append(("rules (registry.run)", r["rules_s"], _rps(n, r["rules_s"]), None, None, None))
        rows.append(
            ("normalise+link+rules", r["normalise_link_rules_s"], _rps(n, r["normalise_link_rules_s"]), *mem(r))
        )
    if "write" in res:
        r = res["write"]
        rows.append((f"write ({r['findings']:,} findings)", r["seconds"], _rps(n, r["seconds"]), *mem(r)))
    if "e2e" in res:
        r = res["e2e"]
        for k, v in r["timings"].items():
            rows.append((f"  e2e: {k}", v, _rps(n, v), None, None, None))
        rows.append(("end to end (reconcile)", r["seconds"], _rps(n, r["seconds"]), *mem(r)))

    print()
    print(f"== {n:,} receipts, {form}, seed {res['seed']} ==")
    head = ("stage", "seconds", "receipts/s", "peak RSS MB", "self+child MB", "tree PSS MB")
    print(f"{head[0]:<28}{head[1]:>10}{head[2]:>14}{head[3]:>13}{head[4]:>15}{head[5]:>13}")
    for name, s, rps, peak, spc, pss in rows:
        print(
            f"{name:<28}{_fmt_num(s, 3):>10}{_fmt_num(rps):>14}{_fmt_num(peak):>13}{_fmt_num(spc):>15}"
            f"{_fmt_num(pss):>13}"
        )
    if "read" in res and "e2e" in res:
        pairs = res["e2e"].get("paired_ratios_e2e_over_read") or []
        paired = f" (per round: {', '.join(f'{x:.2f}' for x in pairs)})" if len(pairs) > 1 else ""
        print(f"ratio end-to-end / read (best / best): {res['e2e']['seconds'] / res['read']['seconds']:.2f}{paired}")
    if "rules" in res and "e2e" in res and res["rules"]["findings"] != res["e2e"]["findings"]:
        print(
            f"note: findings differ between in-memory ({res['rules']['findings']}) and files ({res['e2e']['findings']})"
        )
    return rows


def check_targets(n: int, res: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(name: str, at_n: int, value: float, limit: float, ok: bool, unit: str, margin: str) -> None:
        out.append(
            {
                "target": name,
                "defined_at_n": at_n,
                "measured_at_n": n,
                "value": round(value, 3),
                "limit": limit,
                "unit": unit,
                "result": "PASS" if ok else "MISS",
                "margin": margin,
                "binding": n == at_n,
            }
        )

    if "rules" in res:
        rps = n / res["rules"]["rules_s"]
        add(
            "rules (registry.run) >= 1,000,000 receipts/s",
            TARGET_RULES_N,
            rps,
            TARGET_RULES_RPS,
            rps >= TARGET_RULES_RPS,
            "receipts/s",
            f"{rps / TARGET_RULES_RPS:.2f}x the target",
        )
    if "read" in res and "e2e" in res:
        ratio = res["e2e"]["seconds"] / res["read"]["seconds"]
        add(
            "end to end <= 1.5 x read",
            TARGET_E2E_RATIO_N,
            ratio,
            TARGET_E2E_RATIO,
            ratio <= TARGET_E2E_RATIO,
            "ratio",
            f"{ratio:.2f} vs {TARGET_E2E_RATIO} (e2e {res['e2e']['seconds']:.1f} s, "
            f"budget {TARGET_E2E_RATIO * res['read']['seconds']:.1f} s)",
        )
    if "e2e" in res:
        e = res["e2e"]
        worst = max(e["self_plus_children_mb"], e.get("tree_pss_peak_mb", 0.0))
        add(
            "end-to-end peak memory < 3 GiB",
            TARGET_E2E_MEM_N,
            worst,
            TARGET_E2E_MEM_MB,
            worst < TARGET_E2E_MEM_MB,
            "MiB (max of self+children and sampled tree PSS)",
            f"{worst:,.0f} MiB = {worst / TARGET_E2E_MEM_MB:.0%} of 3 GiB "
            f"(max(self, children) {e['peak_rss_mb']:,.0f} MiB)",
        )
    print()
    for t in out:
        note = "" if t["binding"] else f"   [indicative: target defined at N={t['defined_at_n']:,}]"
        print(f"{t['result']}  {t['target']}: {t['margin']}{note}")
    return out


def merge_previous(n: int, form: str, seed: int, res: dict[str, Any]) -> dict[str, Any]:
    """This run's stages plus those an earlier run with the same N, form and seed left in
    the results file (so e.g. a rules-only run and an e2e-only run at 1M end up together)."""
    path = BENCH / f"results-{form}-{n}.json"
    old: dict[str, Any] = {}
    if path.exists():
        with contextlib.suppress(ValueError, OSError):
            old = json.loads(path.read_text(encoding="utf-8"))
    merged: dict[str, Any] = dict(old.get("stages", {})) if old.get("seed") == seed else {}
    for v in merged.values():
        v.setdefault("from_earlier_run", True)
    merged.update({k: v for k, v in res.items() if k in STAGES})
    if "gen" in res:
        merged["_generation"] = res["gen"]
    elif "generation" in old and old.get("seed") == seed:
        merged["_generation"] = old["generation"]
    return merged


def code_fingerprint() -> dict[str, Any]:
    """What code was measured: git HEAD (+ dirty flag) when ROOT is a checkout, and a hash
    of every worker/ and rules/ source file (the working tree may differ from HEAD)."""
    import hashlib

    h = hashlib.sha256()
    for f in sorted([*(ROOT / "worker").glob("*.py"), *(ROOT / "rules").glob("*.py")]):
        h.update(f.relative_to(ROOT).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    out: dict[str, Any] = {"sources_sha256": h.hexdigest()[:16]}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "worker", "rules"], cwd=ROOT, capture_output=True, text=True
        )
        out["git_head"] = head.stdout.strip()
        out["worker_rules_dirty"] = bool(dirty.stdout.strip())
    if "git_head" not in out and os.environ.get("HENREI_BENCH_CODE"):
        out["label"] = os.environ["HENREI_BENCH_CODE"]
    return out


def save_json(n: int, form: str, seed: int, stages: dict[str, Any], targets: list[dict[str, Any]]) -> Path:
    path = BENCH / f"results-{form}-{n}.json"
    gen = stages.pop("_generation", None)
    doc: dict[str, Any] = {
        "receipts": n,
        "form": form,
        "seed": seed,
        "updated_at": datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": sys.platform},
        "code": code_fingerprint(),
        "stages": stages,
        "ratio_e2e_over_read": (
            round(stages["e2e"]["seconds"] / stages["read"]["seconds"], 3)
            if "e2e" in stages and "read" in stages
            else None
        ),
        "targets": targets,
    }
    if gen:
        doc["generation"] = gen
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--receipts", type=int, nargs="+", default=[100_000], metavar="N")
    p.add_argument("--form", choices=("xlsx", "csv"), default="xlsx")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {','.join(STAGES)}")
    p.add_argument("--repeat", type=int, default=1, help="runs per stage (fresh process each); best time is kept")
    p.add_argument(
        "--sample-interval", type=float, default=0.2, help="seconds between tree-PSS samples (0: no sampler)"
    )
    p.add_argument("--_child", choices=sorted(STAGE_FUNCS), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._child:
        args.child = args._child
        return child_main(args)

    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = set(stages) - set(STAGES)
    if unknown:
        p.error(f"unknown stages: {', '.join(sorted(unknown))}")
    stages = [s for s in STAGES if s in stages]  # always in pipeline order (write needs rules)
    DATA.mkdir(parents=True, exist_ok=True)
    for n in args.receipts:
        res: dict[str, Any] = {"seed": args.seed}
        if FILE_STAGES & set(stages):
            gen = ensure_data(n, args.form, args.seed, args.sample_interval)
            if gen:
                res["gen"] = gen
        if "write" in stages and "rules" not in stages and not findings_path(n, args.seed).exists():
            _log("write needs the findings of the rules stage: running rules first")
            run_child("rules", n, args.form, args.seed, args.sample_interval)
        # rounds outermost (read, rules, write, e2e, read, ...): on a shared machine the load
        # drifts, so runs of read and e2e from the same round make the fairest pair
        runs: dict[str, list[dict[str, Any]]] = {s: [] for s in stages}
        rounds = max(1, args.repeat)
        for i in range(rounds):
            for stage in stages:
                _log(f"N={n:,} {args.form}: stage {stage} run {i + 1}/{rounds} ...")
                r = run_child(stage, n, args.form, args.seed, args.sample_interval)
                _log(
                    f"  {stage}: {r['seconds']:.3f} s, peak RSS {r['peak_rss_mb']:,.0f} MB "
                    f"(self+children {r['self_plus_children_mb']:,.0f} MB), load {r['loadavg_1m']}"
                )
                runs[stage].append(r)
        for stage in stages:
            res[stage] = _best(runs[stage])
        if "read" in runs and "e2e" in runs:
            pairs = [e["seconds"] / r["seconds"] for r, e in zip(runs["read"], runs["e2e"], strict=True)]
            res["e2e"]["paired_ratios_e2e_over_read"] = [round(x, 3) for x in pairs]
        print_table(n, args.form, res)
        merged = merge_previous(n, args.form, args.seed, res)
        earlier = sorted(k for k, v in merged.items() if k in STAGES and v.get("from_earlier_run"))
        if earlier:
            print(f"(targets also use stage(s) {', '.join(earlier)} from an earlier run, see the JSON)")
        targets = check_targets(n, {**merged, "seed": args.seed})
        path = save_json(n, args.form, args.seed, merged, targets)
        print(f"results: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
