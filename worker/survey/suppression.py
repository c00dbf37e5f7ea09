"""Small-cell suppression: no published cell may point at a patient or a clinic.

Primary: a cell counting events (findings, cases, returns, yen of them) is 「―」 when it
rests on fewer than ``MIN_EVENTS`` events or fewer than ``MIN_CLINICS`` clinics; a cell
counting clinics is 「―」 when it counts fewer than ``MIN_CLINICS``. Zero is published
(NDB open data do the same): it says nothing about a person.

Secondary: a table declares which of its cells add up (a column's body rows to its total
row, a row's parts to its total column). A line with exactly one hidden cell would give it
back by subtraction, so the smallest non-zero published cell of that line is hidden too,
repeated until every line hides none or at least two cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import pandas as pd

__all__ = ["HIDDEN", "MIN_CLINICS", "MIN_EVENTS", "CellKind", "Grid", "suppress"]

#: what a suppressed cell shows
HIDDEN: Final = "―"
MIN_EVENTS: Final = 10
MIN_CLINICS: Final = 3

CellKind = Literal["events", "clinics", "volume"]


@dataclass
class Grid:
    """A table's true values and what each cell rests on.

    ``values``: the numbers (rows × columns, integers). ``events`` and ``clinics``: per
    cell, the events and the distinct clinics it rests on (same shape). ``kinds``: per
    column, what it counts (``volume``, e.g. receipts: only the clinic rule applies).
    ``total_row``: the label of the row that is the sum of the others in the
    ``additive`` columns; ``row_sums``: (parts, total column) of each row."""

    values: pd.DataFrame
    events: pd.DataFrame
    clinics: pd.DataFrame
    kinds: dict[str, CellKind]
    total_row: str | None = None
    additive: Sequence[str] = ()
    row_sums: Sequence[tuple[Sequence[str], str]] = field(default_factory=tuple)

    def lines(self) -> list[list[tuple[int, int]]]:
        """Every set of cells (row, column positions) bound by a sum, the total last."""
        cols = list(self.values.columns)
        rows = list(self.values.index)
        out: list[list[tuple[int, int]]] = []
        if self.total_row is not None:
            t = rows.index(self.total_row)
            body = [i for i in range(len(rows)) if i != t]
            for c in self.additive:
                j = cols.index(c)
                out.append([(i, j) for i in body] + [(t, j)])
        for parts, total in self.row_sums:
            js = [cols.index(p) for p in parts]
            jt = cols.index(total)
            out.extend([(i, j) for j in js] + [(i, jt)] for i in range(len(rows)))
        return out


def _primary(grid: Grid) -> np.ndarray:
    values = grid.values.to_numpy(dtype=np.int64)
    events = grid.events.to_numpy(dtype=np.int64)
    clinics = grid.clinics.to_numpy(dtype=np.int64)
    hidden = np.zeros(values.shape, dtype=bool)
    for j, c in enumerate(grid.values.columns):
        kind = grid.kinds[c]
        few_clinics = (clinics[:, j] > 0) & (clinics[:, j] < MIN_CLINICS)
        if kind == "events":
            few_events = (events[:, j] > 0) & (events[:, j] < MIN_EVENTS)
            hidden[:, j] = (values[:, j] != 0) & (few_events | few_clinics)
        else:
            hidden[:, j] = (values[:, j] != 0) & few_clinics
    return hidden


def _secondary(grid: Grid, hidden: np.ndarray) -> np.ndarray:
    values = grid.values.to_numpy(dtype=np.int64)
    lines = grid.lines()
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(hidden[c] for c in line) != 1:
                continue
            candidates = [c for c in line[:-1] if not hidden[c]] or [line[-1]]
            positive = [c for c in candidates if values[c] > 0]
            pick = min(positive or candidates, key=lambda c: (values[c], c))
            hidden[pick] = True
            changed = True
    return hidden


def suppress(grid: Grid) -> tuple[pd.DataFrame, np.ndarray]:
    """The published table (ints, 「―」 where hidden) and the mask of hidden cells."""
    hidden = _secondary(grid, _primary(grid))
    mask = pd.DataFrame(hidden, index=grid.values.index, columns=grid.values.columns)
    return grid.values.astype(object).mask(mask, HIDDEN), hidden
