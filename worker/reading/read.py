"""Read clinic exports (.xlsx/.xlsm/.xls/.ods with calamine, .csv in UTF-8 or CP932).

Each file is checked by ``worker.reading.guard`` first, then parsed in a child process
(``worker.reading.isolation``) with a memory limit and a timeout, so a hostile or broken file
cannot take the run down: it becomes a ``FileProblem`` and the other files go on.

The child finds every table (one per sheet, header row anywhere in the first rows, kind
recognised from the headers), keeps every cell as TEXT (an insurer number never loses a
zero because we never let a library guess types; numbers Excel stored as numbers come
back as their integer text), and hands the tables back as Arrow IPC files.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

from worker.config import Settings
from worker.reading.guard import Limits, UnsafeFileError, check_file
from worker.reading.isolation import IsolatedFailure, run_isolated
from worker.reading.schema import HeaderMatch, classify_header
from worker.reading.tables import FileProblem, RawTable

log = logging.getLogger(__name__)

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
CSV_SUFFIXES = {".csv", ".txt"}
SUFFIXES = EXCEL_SUFFIXES | CSV_SUFFIXES
HEADER_SEARCH_ROWS = 30
BATCH_ROWS = 50_000


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[FileProblem]]:
    """Expand folders (recursively) into readable files; report paths that are not."""
    files: list[Path] = []
    problems: list[FileProblem] = []
    for p in paths:
        if p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.is_file() and f.suffix.lower() in SUFFIXES and not f.name.startswith(("~$", "."))
            )
            files.extend(found)
        elif p.is_file():
            if p.suffix.lower() in SUFFIXES:
                files.append(p)
            else:
                problems.append(
                    FileProblem(
                        str(p),
                        f"対応していない形式です（{p.suffix or '拡張子なし'}）。"
                        "Excel（.xlsx/.xls）またはCSVで出力してください。",
                    )
                )
        else:
            problems.append(FileProblem(str(p), "ファイルまたはフォルダが見つかりません。"))
    return files, problems


# ------------------------------------------------------------------ child side


def _cell_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if value.time() != time(0) else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _find_header(rows: Sequence[Sequence[Any]]) -> tuple[int, HeaderMatch] | None:
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        match = classify_header([_cell_text(c) for c in row])
        if match is not None:
            return i, match
    return None


class _TableWriter:
    """Collects text rows of one table into Arrow record batches written to an IPC file."""

    def __init__(self, path: Path, match: HeaderMatch, width: int) -> None:
        self.match = match
        self.columns: list[tuple[int, str]] = []
        used: set[str] = set()
        for i in range(width):
            if i in match.fields:
                name = match.fields[i]
            else:
                continue
            used.add(name)
            self.columns.append((i, name))
        self.extras: list[tuple[int, str]] = []
        self.path = path
        self.schema_fields = [pa.field("_row", pa.int64())] + [pa.field(n, pa.string()) for _, n in self.columns]
        self.writer: ipc.RecordBatchFileWriter | None = None
        self.rows = 0

    def add_extras(self, header: Sequence[Any]) -> None:
        taken = {n for _, n in self.columns}
        for i, h in enumerate(header):
            text = _cell_text(h)
            if i in self.match.fields or text is None:
                continue
            name = f"extra:{text.strip()}"
            if name in taken:
                continue
            taken.add(name)
            self.extras.append((i, name))
            self.schema_fields.append(pa.field(name, pa.string()))

    def write(self, row_numbers: list[int], rows: list[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.writer is None:
            self.writer = ipc.new_file(str(self.path), pa.schema(self.schema_fields))
        arrays = [pa.array(row_numbers, type=pa.int64())]
        for i, _ in self.columns + self.extras:
            arrays.append(pa.array([_cell_text(r[i]) if i < len(r) else None for r in rows], type=pa.string()))
        self.writer.write_batch(pa.record_batch(arrays, schema=pa.schema(self.schema_fields)))
        self.rows += len(rows)

    def close(self) -> None:
        if self.writer is None:
            self.writer = ipc.new_file(str(self.path), pa.schema(self.schema_fields))
        self.writer.close()


def _extract_rows(rows: Iterator[Sequence[Any]], sheet: str, out: Path, n: int) -> dict[str, Any] | None:
    """Find the header in ``rows`` and write the table below it; None if no table."""
    head: list[Sequence[Any]] = []
    for r in rows:
        head.append(r)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    found = _find_header(head)
    if found is None:
        return None
    at, match = found
    width = max((len(r) for r in head), default=0)
    writer = _TableWriter(out / f"table{n}.arrow", match, width)
    writer.add_extras(head[at])
    batch: list[Sequence[Any]] = []
    numbers: list[int] = []

    def data_rows() -> Iterator[tuple[int, Sequence[Any]]]:
        for i, r in enumerate(head[at + 1 :], start=at + 2):
            yield i, r
        for i, r in enumerate(rows, start=len(head) + 1):
            yield i, r

    for excel_row, r in data_rows():
        if all(c is None or c == "" or (isinstance(c, str) and not c.strip()) for c in r):
            continue
        batch.append(r)
        numbers.append(excel_row)
        if len(batch) >= BATCH_ROWS:
            writer.write(numbers, batch)
            batch, numbers = [], []
    writer.write(numbers, batch)
    writer.close()
    return {
        "file": f"table{n}.arrow",
        "kind": match.kind,
        "sheet": sheet,
        "rows": writer.rows,
        "headers": {f: match.headers[i] for i, f in match.fields.items()},
    }


def _decode_csv(data: bytes) -> str:
    for enc in ("utf-8-sig", "cp932"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ValueError("文字コードを判別できません（UTF-8 または Shift_JIS/CP932 で保存してください）")


def extract_tables(src: str, out: str) -> None:
    """Child-process entry: write every table of ``src`` into the folder ``out``."""
    path, dest = Path(src), Path(out)
    dest.mkdir(parents=True, exist_ok=True)
    tables: list[dict[str, Any]] = []
    sheets_seen: list[str] = []
    if path.suffix.lower() in CSV_SUFFIXES:
        text = _decode_csv(path.read_bytes())
        rows = csv.reader(io.StringIO(text, newline=""))
        info = _extract_rows(iter(rows), path.stem, dest, 0)
        sheets_seen.append("")
        if info:
            info["sheet"] = ""
            tables.append(info)
    else:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        for n, name in enumerate(wb.sheet_names):
            sheets_seen.append(name)
            sheet = wb.get_sheet_by_name(name)
            info = _extract_rows(iter(sheet.iter_rows()), name, dest, n)
            if info:
                tables.append(info)
    (dest / "manifest.json").write_text(json.dumps({"tables": tables, "sheets": sheets_seen}, ensure_ascii=False))


# ------------------------------------------------------------------ parent side


def _load(folder: Path, display: str) -> list[RawTable]:
    manifest = json.loads((folder / "manifest.json").read_text())
    out: list[RawTable] = []
    for t in manifest["tables"]:
        with pa.memory_map(str(folder / t["file"])) as source:
            table = ipc.open_file(source).read_all()
        frame = table.to_pandas(types_mapper=None)
        out.append(RawTable(kind=t["kind"], file=display, sheet=t["sheet"], frame=frame, headers=t["headers"]))
    return out


_NO_TABLE = "表が見つかりません。見出し行（患者ID・診療年月・保険者番号など）がある表を含めてください。"


def read_file(
    path: Path, settings: Settings, display: str | None = None, cache_dir: Path | None = None
) -> list[RawTable] | FileProblem:
    """Every table in one file, or the problem that stopped it (never raises for bad input).

    With ``cache_dir`` (a folder per file content, e.g. named by its SHA-256) the child's
    Arrow output is kept there, and a later read of the same content loads it instead of
    parsing the file again (the worker reads each upload once to find its months, then
    again in every reconciliation of those months).
    """
    name = display or path.name
    if cache_dir is not None and (cache_dir / "manifest.json").exists():
        cached = _load(cache_dir, name)
        return cached or FileProblem(name, _NO_TABLE)
    try:
        check_file(path, Limits(max_file_bytes=settings.max_file_mb * 1024 * 1024))
    except UnsafeFileError as exc:
        return FileProblem(name, str(exc))
    except OSError as exc:
        return FileProblem(name, f"ファイルを開けません（{exc.strerror or exc}）。")
    if cache_dir is not None:
        cache_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".henrei-read-", dir=cache_dir.parent if cache_dir else None))
    try:
        try:
            run_isolated(
                extract_tables,
                str(path),
                str(tmp),
                memory_bytes=settings.reader_memory_mb * 1024 * 1024,
                timeout_s=settings.reader_timeout_s,
            )
        except IsolatedFailure as exc:
            log.warning("reader failed on a file (%s)", exc.reason)
            return FileProblem(name, str(exc))
        if cache_dir is not None:
            try:
                tmp.rename(cache_dir)  # atomic; a concurrent reader of the same content may win
                tmp = cache_dir
            except OSError:
                pass
        tables = _load(tmp, name)
    finally:
        if tmp != cache_dir:
            shutil.rmtree(tmp, ignore_errors=True)
    return tables or FileProblem(name, _NO_TABLE)


def read_all(
    paths: Sequence[Path], settings: Settings, caches: Mapping[Path, Path] | None = None
) -> tuple[list[RawTable], list[FileProblem], dict[str, str]]:
    """Read files concurrently (each in its own child process).

    Returns the tables, the file problems, and a per-file description for the summary.
    Display names are the file names, made unique with their parent folder when needed.
    ``caches`` maps a path to its cache folder (see ``read_file``).
    """
    caches = caches or {}
    names = [p.name for p in paths]
    display = [f"{p.parent.name}/{p.name}" if names.count(p.name) > 1 else p.name for p in paths]
    tables: list[RawTable] = []
    problems: list[FileProblem] = []
    described: dict[str, str] = {}
    workers = max(1, min(settings.reader_processes, len(paths)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(
            pool.map(lambda a: read_file(a[0], settings, a[1], caches.get(a[0])), zip(paths, display, strict=True))
        )
    for name, res in zip(display, results, strict=True):
        if isinstance(res, FileProblem):
            problems.append(res)
        else:
            tables.extend(res)
            described[name] = "、".join(f"{t.sheet or 'CSV'}: {t.kind}（{len(t.frame)}行）" for t in res)
    return tables, problems, described


os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
