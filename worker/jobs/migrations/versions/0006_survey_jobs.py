"""Survey jobs: a clinic-month's survey submission and the association's aggregate
(kinds "survey_export" and "survey_aggregate", worker.survey).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS_OLD = "kind IN ('reconcile', 'nightly', 'part', 'register')"
_KINDS_NEW = "kind IN ('reconcile', 'nightly', 'part', 'register', 'survey_export', 'survey_aggregate')"


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:  # SQLite rebuilds the table
        batch.drop_constraint(op.f("ck_jobs_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_jobs_kind"), _KINDS_NEW)


def downgrade() -> None:
    op.execute("DELETE FROM jobs WHERE kind IN ('survey_export', 'survey_aggregate')")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint(op.f("ck_jobs_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_jobs_kind"), _KINDS_OLD)
