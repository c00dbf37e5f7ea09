"""Reading: find the input files, check each before parsing, parse it in an isolated child
process and hand back every table found (text cells under canonical field names)."""

from worker.reading.read import SUFFIXES, discover, read_all, read_file
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
