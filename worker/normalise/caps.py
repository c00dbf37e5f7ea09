"""A cap on ``input_invalid`` findings per column per file.

A column that is wrong throughout (a 3-million-row export whose 生年月日 are all in a form no
reader knows) would otherwise give one finding per row — gigabytes of findings.json and a
workbook no clerk reads. The first ``limit`` findings of each (file, rule — one rule per
column) are kept; the rest become one finding saying how many more there are, on the row of
the first one left out. Whole columns at once (pandas), no row loop.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["cap_input_invalid"]


def cap_input_invalid(findings: pd.DataFrame, limit: int) -> pd.DataFrame:
    """``findings`` with at most ``limit`` of each (source_file, rule_id), plus one summary
    finding per group over the limit (same category, rule and severity; ``actual`` the count)."""
    if findings.empty or "rule_id" not in findings:
        return findings
    invalid = findings["category"].eq("input_invalid")
    if not invalid.any():
        return findings
    groups = findings.loc[invalid].groupby(["source_file", "rule_id"], sort=False)
    rank = groups.cumcount()
    over = rank[rank >= limit]
    if over.empty:
        return findings
    dropped = findings.loc[over.index]
    firsts = dropped.groupby(["source_file", "rule_id"], sort=False).head(1).copy()
    counts = dropped.groupby(["source_file", "rule_id"], sort=False).size()
    n = counts.loc[list(zip(firsts["source_file"], firsts["rule_id"], strict=True))].to_numpy()
    column = firsts["actual"].astype(str).str.partition(": ")[0]  # 「生年月日」列
    more = pd.Series([f"{int(k):,}" for k in n], index=firsts.index)
    firsts["patient_id"] = ""
    firsts["expected"] = ""
    firsts["actual"] = column + ": ほかに " + more + "件"
    firsts["message"] = (
        column + "の読み取れない値が、ほかに " + more + f"件あります（一覧には最初の{limit:,}件だけを出しています）。"
    )
    firsts["action"] = "列全体が別の形式や別の列になっていないか、元のデータを確認して出力し直してください。"
    if "copay_diff_yen" in firsts:
        firsts["copay_diff_yen"] = pd.NA
    kept = findings.drop(index=over.index)
    return pd.concat([kept, firsts], ignore_index=True)
