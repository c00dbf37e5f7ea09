"""Reading: find the input files, check each before parsing, parse it in an isolated child
process and hand back every table found (text cells under canonical field names).

The flow: ``discovery`` (which files) → ``guard`` (pre-parse checks: ``zip_guard``,
``sheet_range``, ``unsafe``) → ``isolation`` (a child process, ``isolation_child``) running
``extract`` (tables as Arrow files) → ``read`` (load them, the read cache) → ``RawTable``.
Headers are recognised by ``schema``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from worker.reading.discovery import CSV_SUFFIXES, SUFFIXES, discover
    from worker.reading.guard import UnsafeFileError, check_file
    from worker.reading.read import read_all, read_file
    from worker.reading.schema import TABLE_KINDS, TABLE_LABELS_JA, TableKind, classify_header
    from worker.reading.tables import FileProblem, RawTable

# Names are loaded on first use (PEP 562): the reader child imports ``worker.reading.*``
# modules and must not pay for pandas/pyarrow through this package's ``__init__``. No
# submodule may share a name with a name exported here (importing the submodule would
# shadow it).
_WHERE = {
    "CSV_SUFFIXES": "discovery",
    "SUFFIXES": "discovery",
    "discover": "discovery",
    "UnsafeFileError": "guard",
    "check_file": "guard",
    "read_all": "read",
    "read_file": "read",
    "TABLE_KINDS": "schema",
    "TABLE_LABELS_JA": "schema",
    "TableKind": "schema",
    "classify_header": "schema",
    "FileProblem": "tables",
    "RawTable": "tables",
}

__all__ = [
    "CSV_SUFFIXES",
    "SUFFIXES",
    "TABLE_KINDS",
    "TABLE_LABELS_JA",
    "FileProblem",
    "RawTable",
    "TableKind",
    "UnsafeFileError",
    "check_file",
    "classify_header",
    "discover",
    "read_all",
    "read_file",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'worker.reading' has no attribute {name!r}")
    module = importlib.import_module(f"worker.reading.{_WHERE[name]}")
    # every name of that module at once (one import, one lookup per module)
    for other, where in _WHERE.items():
        if where == _WHERE[name]:
            globals()[other] = getattr(module, other)
    return globals()[name]
