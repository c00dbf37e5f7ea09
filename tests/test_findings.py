"""Building and sorting findings (``rules.findings``): the table ``make_findings`` builds from
NumPy arrays, its ``reads`` shortcut (and the fallback when a text reads another column), and
``concat_findings``'s order, which must stay the one ``sort_values`` gave."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rules.findings import FINDING_COLUMNS, SEVERITY_ORDER, concat_findings, make_findings


def _table() -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "_file": ["b.xlsx", "a.xlsx", None, "a.xlsx"],
            "_sheet": ["s", "s", "s", "t"],
            "_row": [5, 3, 9, 2],
            "patient_id": ["1", None, "3", "4"],
            "claim_month": pd.to_datetime(["2026-10-01", None, "2026-09-01", "2026-10-01"]),
            "name": ["山田", "佐藤", None, "鈴木"],
            "other": ["x", "y", "z", "w"],
            "diff": [10.4, np.nan, 20.6, -5.5],
        },
        index=[10, 11, 12, 13],
    )
    text = ["_file", "_sheet", "patient_id", "name", "other"]
    return table.astype(dict.fromkeys(text, "str"))


def _make(table: pd.DataFrame, **kw: object) -> pd.DataFrame:
    return make_findings(
        table,
        np.array([True, False, True, True]),
        category="name_mismatch",
        rule_id="NAME_RC_ON",
        severity="warning",
        expected=lambda d: "氏名 " + d["name"].fillna("").astype("object"),
        actual=lambda d: d["other"].astype("object"),
        message="m",
        action=None,
        copay_diff_yen=lambda d: d["diff"],
        **kw,  # type: ignore[arg-type]
    )


def test_make_findings_columns_values_and_dtypes() -> None:
    out = _make(_table())
    assert list(out.columns) == list(FINDING_COLUMNS)
    assert out.index.equals(pd.RangeIndex(3))
    assert out["row"].dtype == "int64" and out["copay_diff_yen"].dtype == "Int64"
    assert out["source_file"].dtype == object and out["expected"].dtype == object
    assert out["source_file"].iloc[1] is np.nan or pd.isna(out["source_file"].iloc[1])
    assert out["claim_month"].tolist() == ["2026-10", "2026-09", "2026-10"]
    assert out["patient_id"].tolist() == ["1", "3", "4"]
    assert out["expected"].tolist() == ["氏名 山田", "氏名 ", "氏名 鈴木"]
    assert out["action"].tolist() == ["", "", ""]
    assert out["copay_diff_yen"].tolist() == [10, 21, -6]


def test_reads_gives_the_same_table_and_falls_back_when_a_text_reads_more() -> None:
    table = _table()
    full = _make(table)
    pd.testing.assert_frame_equal(_make(table, reads=("name", "other", "diff")), full)
    # "other" and "diff" are read but not declared: the call is made again with every column
    pd.testing.assert_frame_equal(_make(table, reads=("name",)), full)


def test_concat_findings_sorts_as_sort_values_did() -> None:
    table = _table()
    parts = [
        _make(table),
        make_findings(
            table,
            np.array([False, True, True, False]),
            category="identity_mismatch",
            rule_id="IDENTITY_RC_ON",
            severity="error",
            message="e",
            action="a",
        ),
    ]
    out = concat_findings(parts)
    ref = pd.concat(parts, ignore_index=True)
    ref["_sev"] = ref["severity"].map(SEVERITY_ORDER)
    ref = ref.sort_values(["_sev", "source_file", "sheet", "row", "category"], kind="stable").drop(columns="_sev")
    pd.testing.assert_frame_equal(out, ref.reset_index(drop=True))
