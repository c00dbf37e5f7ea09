"""``rules.domain.columns``: the whole-column primitives agree with pandas on Arrow text
columns (missing values, a needle across two values, a sliced column, a frequent needle)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rules.domain.columns import contains, differs_from, distinct, ends_equal, index_of, isin, ne_text, pair_state


def _col(values: list[str | None]) -> pd.Series:
    return pd.Series(values, dtype="str")


def test_contains_matches_pandas() -> None:
    col = _col(["山田●", "ab", "cd", None, "●●", "", "x" * 50 + "●", "a", "b"])
    for needle in ("●", "bc", "b", "山田"):
        for c in (col, col.iloc[1:7]):
            expected = c.str.contains(needle, regex=False).fillna(False).to_numpy(dtype=bool)
            assert contains(c, needle).tolist() == expected.tolist(), (needle, c.tolist())
    frequent = _col(["a"] * 200)
    assert contains(frequent, "a").all()
    assert contains(col.astype(object), "●").tolist() == contains(col, "●").tolist()


def test_comparisons_match_pandas() -> None:
    x = _col(["1", "2", None, "", "5", "6"])
    y = _col(["1", "3", "3", "", None, "66"])
    assert ne_text(x, "").tolist() == x.ne("").tolist()
    present, same = pair_state(x, y)
    assert present.tolist() == (x.notna() & y.notna() & x.ne("") & y.ne("")).tolist()
    assert same.tolist() == (present & x.eq(y).to_numpy(dtype=bool, na_value=False)).tolist()
    assert differs_from(x, y).tolist() == [False, True, False, False, True, True]
    assert isin(x, ["2", "5"]).tolist() == [False, True, False, False, True, False]
    assert ends_equal(_col(["12345", "1", None, "0099"]), 2, _col(["45", "1", "1", "98"])).tolist() == [
        True,
        True,
        False,
        False,
    ]
    codes, uniques = distinct(x)
    assert [None if c < 0 else uniques[c] for c in codes] == [None if pd.isna(v) else v for v in x]
    assert index_of(x, ["6", "2"]).tolist() == [-1, 1, -1, -1, -1, 0]
    assert np.array_equal(index_of(x.astype(object), ["6", "2"]), index_of(x, ["6", "2"]))
