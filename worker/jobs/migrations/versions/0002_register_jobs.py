"""Register jobs: reading an upload is a job of its own (kind "register", with its upload);
one queued reconcile job per clinic-month; when a job was last enqueued; an upload's first
month; the task of a nightly run.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS_OLD = "kind IN ('reconcile', 'nightly', 'part')"
_KINDS_NEW = "kind IN ('reconcile', 'nightly', 'part', 'register')"
_QUEUED_RECONCILE = "kind = 'reconcile' AND status = 'queued'"


def upgrade() -> None:
    # batch mode: SQLite rebuilds the table (it cannot alter a constraint in place)
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("upload_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(op.f("fk_jobs_upload_id_uploads"), "uploads", ["upload_id"], ["id"])
        batch.drop_constraint(op.f("ck_jobs_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_jobs_kind"), _KINDS_NEW)
        batch.create_index("ix_jobs_upload_id", ["upload_id"])
        batch.create_index("ix_jobs_clinic_id_claim_month", ["clinic_id", "claim_month"])
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("first_month", sa.String(length=7), nullable=True))
    op.execute("UPDATE uploads SET first_month = claim_month")
    with op.batch_alter_table("nightly_runs") as batch:
        batch.add_column(sa.Column("task_id", sa.String(length=255), nullable=True))
    # one queued reconcile job per clinic-month (registrations of one month's files share it)
    op.execute(
        "DELETE FROM jobs WHERE kind = 'reconcile' AND status = 'queued' AND id NOT IN"
        " (SELECT MIN(id) FROM jobs WHERE kind = 'reconcile' AND status = 'queued' GROUP BY clinic_id, claim_month)"
    )
    op.create_index(
        "uq_jobs_queued_reconcile",
        "jobs",
        ["clinic_id", "claim_month"],
        unique=True,
        sqlite_where=sa.text(_QUEUED_RECONCILE),
        postgresql_where=sa.text(_QUEUED_RECONCILE),
    )


def downgrade() -> None:
    op.drop_index("uq_jobs_queued_reconcile", table_name="jobs")
    op.execute("DELETE FROM jobs WHERE kind = 'register'")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_clinic_id_claim_month")
        batch.drop_index("ix_jobs_upload_id")
        batch.drop_constraint(op.f("ck_jobs_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_jobs_kind"), _KINDS_OLD)
        batch.drop_constraint(op.f("fk_jobs_upload_id_uploads"), type_="foreignkey")
        batch.drop_column("enqueued_at")
        batch.drop_column("upload_id")
    with op.batch_alter_table("nightly_runs") as batch:
        batch.drop_column("task_id")
    with op.batch_alter_table("uploads") as batch:
        batch.drop_column("first_month")
