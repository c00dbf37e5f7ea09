#!/usr/bin/env python
"""The reference a clinic's IT person would write instead of henrei (issue 11's floor at 1M):
pandas + openpyxl, read the three exports as text, merge on 患者ID, compare 負担割合, write the
differences with ``to_excel``. No guard, no isolation, no normalisation, no other rule.

    python benchmarks/naive_script.py FOLDER OUT.xlsx
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def read(folder: Path, stem: str) -> pd.DataFrame:
    path = next(p for p in folder.glob(f"{stem}_*") if p.suffix in (".xlsx", ".csv"))
    if path.suffix == ".csv":
        try:
            return pd.read_csv(path, dtype=str, encoding="utf-8-sig")
        except UnicodeDecodeError:
            return pd.read_csv(path, dtype=str, encoding="cp932")
    sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl")
    return pd.concat(sheets.values(), ignore_index=True)


def main() -> None:
    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    receipts = read(folder, "receipts")
    online = read(folder, "online_results")[["患者ID", "負担割合"]].drop_duplicates("患者ID")
    cards = read(folder, "card_records")[["患者ID", "負担割合"]].drop_duplicates("患者ID")
    linked = receipts.merge(online, on="患者ID", how="left", suffixes=("", "_オン資"))
    linked = linked.merge(cards, on="患者ID", how="left", suffixes=("", "_券面"))
    differs = (linked["負担割合"] != linked["負担割合_オン資"]) | (
        linked["負担割合_券面"].notna() & (linked["負担割合"] != linked["負担割合_券面"])
    )
    linked[differs].to_excel(out, index=False)


if __name__ == "__main__":
    main()
