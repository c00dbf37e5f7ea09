#!/usr/bin/env python
"""The reader's floor (issue 11): every sheet of every file of a folder read to Arrow as text
by fastexcel (Rust calamine, what ``polars.read_excel(engine="calamine")`` runs), CSV by
pyarrow.csv with every column as a string. No guard, no isolation, no header search.

    python benchmarks/raw_read.py FOLDER
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    import fastexcel
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rows = 0
    for path in sorted(p for p in Path(sys.argv[1]).rglob("*") if p.is_file()):
        suffix = path.suffix.lower()
        if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
            reader = fastexcel.read_excel(str(path))
            for name in reader.sheet_names:
                sheet = reader.load_sheet(name, header_row=None, dtypes="string")
                rows += pa.table(sheet).num_rows
        elif suffix == ".csv":
            data = path.read_bytes()
            try:
                data.decode("utf-8-sig")
                encoding = "utf-8"
            except UnicodeDecodeError:
                encoding = "cp932"
            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(encoding=encoding, autogenerate_column_names=True),
                convert_options=pacsv.ConvertOptions(column_types={}, strings_can_be_null=True),
            )
            rows += table.num_rows
    print(rows)


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # pyarrow's thread pool has aborted at interpreter teardown here under load
