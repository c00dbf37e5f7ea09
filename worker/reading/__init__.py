"""Reading: find the input files, check each before parsing, parse it in an isolated child
process and hand back every table found (text cells under canonical field names).

The flow: ``discover`` (which files) → ``guard`` (pre-parse checks: ``zip_guard``,
``sheet_range``, ``unsafe``) → ``isolation`` (a child process, ``isolation_child``) running
``extract`` (tables as Arrow files) → ``read`` (load them, the read cache) → ``RawTable``.
Headers are recognised by ``schema``.
"""

from worker.reading.discover import SUFFIXES, discover
from worker.reading.read import read_all, read_file
from worker.reading.schema import TABLE_KINDS, TABLE_LABELS_JA, TableKind, classify_header
from worker.reading.tables import FileProblem, RawTable

__all__ = [
    "SUFFIXES",
    "TABLE_KINDS",
    "TABLE_LABELS_JA",
    "FileProblem",
    "RawTable",
    "TableKind",
    "classify_header",
    "discover",
    "read_all",
    "read_file",
]
