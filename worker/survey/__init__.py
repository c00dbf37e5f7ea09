"""Association surveys: the clinic's monthly submission (counts only, no patient field) and
the association's aggregate of many submissions into the survey's tables, with small cells
suppressed.

- ``schema``: the submission file, versioned and strict (unknown fields refused), hashed;
- ``clinics``: which clinics opted in (``HENREI_SURVEY_CLINICS``) and their survey identity;
- ``submission``: a clinic-month's submission from a run's findings.json (CLI or worker);
- ``aggregate``: import (latest per clinic+month, bad files reported) and the survey tables;
- ``suppression``: 「―」 for small cells, and the cells that would reveal them;
- ``report``: the association's workbook (native charts, print-ready) and summary.json;
- ``cli``: ``henrei survey export`` / ``henrei survey aggregate``.
"""
