"""Write the findings of a run for clerks (corrections.xlsx) and for machines (findings.json).

CONTRACT §2: the correction list holds the findings with Japanese headers, severity colours,
filters, a frozen header and the money impact; the same findings are written as JSON.
When the caller passes the returns (返戻) to reclaim, they get their own sheet 「返戻再請求」
(and a "reclaims" list in the JSON); ``RunSummary.returns`` adds a 「返戻」 block to the summary.

Both files are first written to temporary names in ``out_dir`` and moved into place
together (``worker.files.atomic_files``), so a failed run never leaves a half-written file
behind. What keeps the workbook safe is in ``worker.reports.excel_safe``. The documents
(保険者照会票.xlsx, 窓口精算リスト.xlsx: ``worker.reports.documents``) are published with them
when there is something to list; an earlier run's that this run has nothing for is removed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Final

import pandas as pd

from rules import FINDING_COLUMNS
from worker.engine.keys import finding_keys
from worker.engine.results import RunSummary
from worker.files import atomic_files
from worker.reports.carry import Carried, Statuses, carry, key_month
from worker.reports.documents import DOCUMENT_NAMES, plan_documents
from worker.reports.findings_json import write_json
from worker.reports.marked import MarkedList
from worker.reports.reclaims import prepare_reclaims
from worker.reports.stats import Stats
from worker.reports.survey_counts import survey_counts
from worker.reports.workbook import write_xlsx

__all__ = ["JSON_NAME", "XLSX_NAME", "write_reports"]

XLSX_NAME: Final = "corrections.xlsx"
JSON_NAME: Final = "findings.json"


def write_reports(
    findings: pd.DataFrame,
    summary: RunSummary,
    out_dir: Path,
    *,
    reclaims: pd.DataFrame | None = None,
    context: pd.DataFrame | None = None,
    clinic: str = "",
    claim_month: str = "",
    statuses: Statuses | None = None,
    previous: MarkedList | None = None,
    settled: Statuses | None = None,
) -> tuple[Path, Path]:
    """Write out_dir/corrections.xlsx and out_dir/findings.json; return both paths.

    ``findings`` has the columns FINDING_COLUMNS (extra columns are ignored), in the order
    findings.json keeps (the workbook sorts its lines for the clerk). Both files are
    written to temporary files in ``out_dir`` first and moved into place only when both are
    complete; on any error the temporary files are removed and the previous
    corrections.xlsx/findings.json (if any) are left untouched.

    ``reclaims`` (one row per return, Japanese headers, in the order to show) adds the sheet
    「返戻再請求」 after 「指摘一覧」 and a "reclaims" list to findings.json, even when it has no
    rows. Every column is text except 「請求点数」 (a number); 「再請求」 colours the rows.

    「指摘一覧」 is the clerk's list (``clerk_list``): ``context`` (the engine's
    ``EngineResult.context``) adds the patients' names and service dates, ``clinic`` and
    ``claim_month`` (a job's) head the printed pages and key the findings as the findings
    store does (a CLI run: no clinic, the run's month). findings.json keeps every finding
    as given, unmerged.

    The clerk's marks carry over (``worker.reports.carry``): ``statuses`` ({finding key:
    (状態, メモ)}, a job's from the database) or else those of ``previous`` (the marked list
    handed back, ``worker.reports.marked``) are shown on the same findings; ``previous``'s
    lines whose findings are all gone are listed as 解消 on 「概要」 and under "resolved" in
    findings.json, which also lists this run's marked findings under "statuses".
    ``settled`` ({finding key: (状態, メモ)} of 窓口精算リスト.xlsx, a job's from the database
    or a marked settlement list handed back) is shown on the settlement list's lines.
    """
    missing = [c for c in FINDING_COLUMNS if c not in findings.columns]
    if missing:
        raise ValueError(f"findings lacks columns: {', '.join(missing)}")
    findings = findings.loc[:, list(FINDING_COLUMNS)].reset_index(drop=True)
    if reclaims is not None:
        reclaims = prepare_reclaims(reclaims)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    xlsx_path = out_dir / XLSX_NAME
    json_path = out_dir / JSON_NAME

    stats = Stats.of(findings)
    documents = plan_documents(findings, context, summary, clinic, claim_month, settled)
    doc_paths = [out_dir / name for name in documents]
    carried = _carried(findings, summary, clinic, claim_month, statuses, previous)
    # XlsxWriter's row files go to a scratch folder next to the outputs, removed at the end.
    with (
        tempfile.TemporaryDirectory(prefix=".henrei-report-", dir=out_dir, ignore_cleanup_errors=True) as work_dir,
        atomic_files(xlsx_path, json_path, *doc_paths) as (xlsx_tmp, json_tmp, *doc_tmps),
    ):
        write_xlsx(
            findings, summary, stats, xlsx_tmp, Path(work_dir), reclaims,
            context=context, clinic=clinic, claim_month=claim_month, carried=carried,
        )  # fmt: skip
        survey = survey_counts(findings, context, claim_month)
        write_json(findings, summary, stats, json_tmp, reclaims, carried, survey=survey)
        for write_doc, doc_tmp in zip(documents.values(), doc_tmps, strict=True):
            write_doc(doc_tmp)
    for name in set(DOCUMENT_NAMES) - set(documents):
        (out_dir / name).unlink(missing_ok=True)
    return xlsx_path, json_path


def _carried(
    findings: pd.DataFrame,
    summary: RunSummary,
    clinic: str,
    claim_month: str,
    statuses: Statuses | None,
    previous: MarkedList | None,
) -> Carried | None:
    if statuses is None and previous is None:
        return None
    keys = finding_keys(clinic, key_month(summary, claim_month), findings)
    return carry(statuses, previous, keys, summary.period)
