"""Tables as read from a file, before and after normalisation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from worker.reading.schema import TableKind

if TYPE_CHECKING:  # the reader child imports this module (FileProblem) and must not load pandas
    import pandas as pd


@dataclass
class RawTable:
    """One table found in a sheet: text cells under canonical field names.

    ``frame`` has one column per recognised field (text or None), ``_row`` (1-based Excel
    row of each data row), and unknown columns kept as ``extra:<header>``.
    """

    kind: TableKind
    file: str
    sheet: str
    frame: pd.DataFrame
    #: field -> header text as found in the file (for messages naming the column)
    headers: dict[str, str] = field(default_factory=dict)
    #: rows that were no data, by reason (``worker.reading.skip.SKIP_REASONS``): not in ``frame``
    skipped: dict[str, int] = field(default_factory=dict)
    #: lines of a UKE/HEN/XML file that could not be read into a row (``line``, ``column``,
    #: ``value``, ``message``): ``input_invalid`` findings naming file and line
    problems: list[dict[str, object]] = field(default_factory=list)


class FileTables(list[RawTable]):
    """The tables of one file, and the sheets of it the reader did not read
    (``unread``: ``worker.reading.unread.UnreadSheet``, as the manifest lists them)."""

    def __init__(self, tables: list[RawTable], unread: list[dict[str, Any]] | None = None) -> None:
        super().__init__(tables)
        self.unread: tuple[dict[str, Any], ...] = tuple(unread or ())


@dataclass(frozen=True)
class FileRead:
    """What the summary says of a file read: its tables (``describe``) and the sheets not read."""

    description: str
    unread: tuple[dict[str, Any], ...] = ()


@dataclass
class FileProblem:
    """A file that could not be read at all: shown to the clerk, the run goes on."""

    file: str
    message: str
