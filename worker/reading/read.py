"""Read clinic exports (.xlsx/.xlsm/.xls/.ods with calamine, .csv in UTF-8 or CP932).

Each file is checked by ``worker.reading.guard`` first, then parsed, both in a child process
(``worker.reading.isolation`` running ``worker.reading.checked``: the guard, then
``worker.reading.extract``) with a memory limit and a timeout, so a hostile or broken file
cannot take the run down: it becomes a ``FileProblem`` and the other files go on. The
child's tables come back as Arrow IPC files, optionally kept in a read cache per file
content.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc

from worker.config import Settings
from worker.files import atomic_dir
from worker.reading.extract import READER_VERSION
from worker.reading.isolation import IsolatedFailure
from worker.reading.parse import RefusedFile, failure_message, run_reader
from worker.reading.read_ahead import taken
from worker.reading.schema import TABLE_LABELS_JA
from worker.reading.skip import skipped_text
from worker.reading.tables import FileProblem, FileRead, FileTables, RawTable
from worker.reading.unread import unread_message
from worker.reading.warmup import ReadGate, read_order, readers_for
from worker.terminal import safe_name

__all__ = ["describe", "read_all", "read_file"]

log = logging.getLogger(__name__)


def _load(folder: Path, display: str) -> FileTables:
    """The tables ``extract_tables`` wrote into ``folder``, named as file ``display``, and
    the sheets it did not read.

    The files are mapped, not read: their text columns (large_string, ``extract.TEXT``) become
    pandas' text columns without a copy, so a table costs memory only as its pages are read
    (normalise) and until its frame is released (an older cache's string columns are converted)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    out = FileTables([], list(manifest.get("unread", [])))
    for t in manifest["tables"]:
        with pa.memory_map(str(folder / t["file"])) as source:
            table = ipc.open_file(source).read_all()
        frame = table.to_pandas(types_mapper=None)
        skipped = {str(k): int(v) for k, v in t.get("skipped", {}).items()}
        out.append(
            RawTable(
                kind=t["kind"],
                file=display,
                sheet=t["sheet"],
                frame=frame,
                headers=t["headers"],
                skipped=skipped,
                problems=list(t.get("problems", [])),
            )
        )
    return out


def _cached(folder: Path, max_rows: int) -> bool | None:
    """True when ``folder`` holds the reader's output of this version and row limit, False
    when of an older one or another limit (read again), None when it holds none."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and (manifest.get("version"), manifest.get("max_rows")) == (
        READER_VERSION,
        max_rows,
    )


def describe(tables: Sequence[RawTable]) -> str:
    """The tables of one file as the summary lists them, e.g.
    「レセプト一覧（Sheet1、320行。見出しの繰り返し 8行・空行 2行を読み飛ばしました）」."""
    parts = []
    for t in tables:
        skipped = skipped_text(t.skipped)
        rows = f"{len(t.frame):,}行" + (f"。{skipped}" if skipped else "")
        plain = "XML" if t.file.lower().endswith(".xml") else "CSV"
        plain = "レセ電" if t.file.lower().endswith((".uke", ".hen", ".sah")) else plain
        parts.append(f"{TABLE_LABELS_JA[t.kind]}（{t.sheet or plain}、{rows}）")
    return "、".join(parts)


_NO_TABLE = "表が見つかりません。見出し行（患者ID・診療年月・保険者番号など）がある表を含めてください。"


def _found(tables: FileTables, name: str) -> FileTables | FileProblem:
    """The tables, or the problem of a file without any (naming the sheets not read)."""
    if tables:
        return tables
    return FileProblem(name, unread_message(tables.unread) or _NO_TABLE)


def read_file(
    path: Path, settings: Settings, display: str | None = None, cache_dir: Path | None = None
) -> FileTables | FileProblem:
    """Every table in one file, or the problem that stopped it (never raises for bad input).

    With ``cache_dir`` (a folder per file content, e.g. named by its SHA-256) the child's
    Arrow output is kept there, and a later read of the same content loads it instead of
    parsing the file again (the worker reads each upload once to find its months, then
    again in every reconciliation of those months). Without it, a file the read-ahead
    (``worker.reading.read_ahead``) already parsed for these settings is loaded from there.
    """
    name = safe_name(display or path.name)  # a name is shown, stored and keyed only escaped
    if cache_dir is None:
        with taken(path, settings) as ahead:
            if ahead is not None:
                return FileProblem(name, ahead) if isinstance(ahead, str) else _found(_load(ahead, name), name)
    cached = _cached(cache_dir, settings.max_rows_per_table) if cache_dir is not None else None
    if cached:
        assert cache_dir is not None
        return _found(_load(cache_dir, name), name)
    try:
        tables = _parse(path, name, settings, cache_dir, replace=cached is False)
    except RefusedFile as exc:  # the guard's words (worker.reading.guard)
        return FileProblem(name, str(exc))
    except IsolatedFailure as exc:
        return FileProblem(name, failure_message(exc, path))
    return _found(tables, name)


def _parse(path: Path, name: str, settings: Settings, cache_dir: Path | None, *, replace: bool) -> FileTables:
    """Check and parse ``path`` in a child process and load its tables; raises
    ``IsolatedFailure`` or ``RefusedFile``.

    Without ``cache_dir`` the child writes to a scratch folder removed afterwards. With it,
    the child writes to a folder built aside and renamed into ``cache_dir`` (private, 0700);
    when a concurrent reader of the same content filled ``cache_dir`` first, its copy is
    kept and ours discarded (the tables are loaded before, from ours) — unless ``replace``:
    the folder holds an older reader's output, which ours replaces.
    """
    if cache_dir is None:
        with tempfile.TemporaryDirectory(prefix=".henrei-read-", ignore_cleanup_errors=True) as scratch:
            run_reader(path, Path(scratch), settings)
            return _load(Path(scratch), name)
    with atomic_dir(cache_dir, mode=0o700, keep_existing=not replace) as tmp:
        run_reader(path, tmp, settings)
        return _load(tmp, name)


def read_all(
    paths: Sequence[Path],
    settings: Settings,
    caches: Mapping[Path, Path] | None = None,
    on_file: Callable[[FileTables], None] | None = None,
) -> tuple[list[RawTable], list[FileProblem], dict[str, FileRead]]:
    """Read files concurrently (each in a reader child process; big files alone, first).

    Returns the tables, the file problems, and per file read what the summary says of it
    (its tables, the sheets not read).
    Display names are the file names, made unique with their parent folder when needed.
    ``caches`` maps a path to its cache folder (see ``read_file``). ``on_file`` is called in
    the caller's thread with each file's tables as soon as that file is read, while the
    others are still being read (e.g. to normalise them meanwhile).
    """
    caches = caches or {}
    names = [safe_name(p.name) for p in paths]
    display = [
        safe_name(f"{p.parent.name}/{p.name}") if names.count(n) > 1 else n for p, n in zip(paths, names, strict=True)
    ]
    tables: list[RawTable] = []
    problems: list[FileProblem] = []
    described: dict[str, FileRead] = {}
    gate = ReadGate()  # big files alone, biggest first (memory: see worker.reading.warmup)

    def one(i: int) -> FileTables | FileProblem:
        with gate.slot(paths[i]):
            return read_file(paths[i], settings, display[i], caches.get(paths[i]))

    done: dict[int, FileTables | FileProblem] = {}
    read: dict[int, FileRead] = {}
    with ThreadPoolExecutor(max_workers=readers_for(settings, paths)) as pool:
        futures = {pool.submit(one, i): i for i in read_order(paths)}
        for future in as_completed(futures):
            i = futures[future]
            res = done[i] = future.result()
            if not isinstance(res, FileProblem):
                read[i] = FileRead(describe(res), res.unread)  # before on_file may release the rows
                if on_file is not None:
                    on_file(res)
    for i, name in enumerate(display):
        res = done[i]
        if isinstance(res, FileProblem):
            problems.append(res)
        else:
            tables.extend(res)
            described[name] = read[i]
    return tables, problems, described


os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
