"""Normalise: typed columns from the read text (和暦, full width, ratios, codes); a value
that cannot be read becomes an ``input_invalid`` finding naming its file, sheet, row and column."""

from worker.normalise.caps import cap_input_invalid
from worker.normalise.typed import empty_table, months_of, normalise

__all__ = ["cap_input_invalid", "empty_table", "months_of", "normalise"]
