"""Reading speed of the clinic systems' own files (issue 15) vs the xlsx route, per receipt.

    .venv/bin/python benchmarks/bench_native.py [--copies 100]

The bundled native sample month (tests/fixtures/native_month/, 327 October claims, 325 online results) is
repeated ``copies`` times: RECEIPTC.UKE → ``read_uke``; one bulk result XML → ``read_result_xml``.
The xlsx route: the same receipts written as one .xlsx sheet, read by ``extract_tables`` (the
reader child's work, in process). Best of 3, CPU of this process.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import xlsxwriter

from worker.reading.extract import extract_tables
from worker.reading.onshi_xml import read_result_xml
from worker.reading.uke import read_uke

ROOT = Path(__file__).resolve().parent.parent
NATIVE = ROOT / "tests" / "fixtures" / "native_month" / "2026-10"


def best(f: Callable[[], object], rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        t = time.process_time()
        f()
        times.append(time.process_time() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=100)
    n = ap.parse_args().copies
    uke = (NATIVE / "RECEIPTC.UKE").read_bytes().rstrip(b"\x1a")
    lines = uke.split(b"\r\n")
    body = [ln for ln in lines if ln and not ln.startswith((b"IR,", b"GO,"))]
    big = b"\r\n".join([lines[0], *(body * n), b"GO,0,0,99", b""]) + b"\x1a"
    [t] = read_uke(big, "bench.UKE")
    receipts = len(t.rows)
    uke_s = best(lambda: read_uke(big, "bench.UKE"))

    units: list[bytes] = []
    head = b""
    for f in sorted((NATIVE / "onshi" / "res").glob("OQSmuquc02res_*.xml")):
        text = f.read_bytes()
        head = text[: text.index(b"<MessageBody>")]
        units += re.findall(rb"<BulkConfirmUnit>.*?</BulkConfirmUnit>", text, re.S)
    xml = head + b"<MessageBody>" + b"\n".join(units * n) + b"</MessageBody></XmlMsg>\n"
    [x] = read_result_xml(xml, "bench.xml")
    checks = len(x.rows)
    xml_s = best(lambda: read_result_xml(xml, "bench.xml"))

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "receipts.xlsx"
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        ws = wb.add_worksheet("レセプト")
        names = [c for c in t.columns if not c.startswith("extra:")]
        headers = ["患者ID", "診療年月", "氏名", "カナ氏名", "性別", "生年月日", "保険者番号", "記号", "番号",
                   "枝番", "本人家族", "実日数", "合計点数", "検索番号", "給付割合", "負担割合", "一部負担金",
                   "特記事項", "摘要", "資格確認方法", "診療日", "初再診"]  # fmt: skip
        ws.write_row(0, 0, headers[: len(names)])
        cols = [t.columns[c].to_pylist() for c in names]  # type: ignore[union-attr]
        for i in range(receipts):
            ws.write_row(i + 1, 0, [c[i] or "" for c in cols])
        wb.close()
        xlsx_s = best(lambda: extract_tables(str(path), str(Path(tmp) / "out")))
    print(f"UKE  {receipts:>7,} receipts  {uke_s:6.2f} s  {uke_s / receipts * 1e6:6.1f} µs/receipt")
    print(f"XML  {checks:>7,} results   {xml_s:6.2f} s  {xml_s / checks * 1e6:6.1f} µs/result")
    print(f"xlsx {receipts:>7,} receipts  {xlsx_s:6.2f} s  {xlsx_s / receipts * 1e6:6.1f} µs/receipt")


if __name__ == "__main__":
    main()
