"""Initial schema: uploads, jobs, findings and clerk statuses, correction lists, nightly runs, drop files.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model's column types (migrations must not import the live model).
#: timezone-aware timestamps (timestamptz on PostgreSQL; naive UTC text on SQLite)
_TS = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "drop_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.String(length=64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("seen_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drop_files")),
        sa.UniqueConstraint("clinic_id", "path", name=op.f("uq_drop_files_clinic_id_path")),
    )
    op.create_table(
        "finding_statuses",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("changed_by", sa.Text(), nullable=False),
        sa.Column("changed_at", _TS, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('未対応', '対応中', '対応済', '対象外')", name=op.f("ck_finding_statuses_status")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_finding_statuses")),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("clinic_id", sa.String(length=64), nullable=True),
        sa.Column("claim_month", sa.String(length=7), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("part_index", sa.Integer(), nullable=True),
        sa.Column("part_count", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lost_workers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("started_at", _TS, nullable=True),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", _JSON, nullable=True),
        sa.Column("celery_task_id", sa.String(length=255), nullable=True),
        sa.Column("heartbeat_at", _TS, nullable=True),
        sa.CheckConstraint("kind IN ('reconcile', 'nightly', 'part')", name=op.f("ck_jobs_kind")),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_jobs_status")),
        sa.ForeignKeyConstraint(["parent_id"], ["jobs.id"], name=op.f("fk_jobs_parent_id_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_celery_task_id", "jobs", ["celery_task_id"])
    op.create_index("ix_jobs_parent_id", "jobs", ["parent_id"])
    op.create_index("ix_jobs_status", "jobs", ["status"])

    op.create_table(
        "nightly_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("report", _JSON, nullable=True),
        sa.CheckConstraint("status IN ('running', 'done', 'failed')", name=op.f("ck_nightly_runs_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nightly_runs")),
        sa.UniqueConstraint("run_date", name=op.f("uq_nightly_runs_run_date")),
    )
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.Text(), nullable=False),
        sa.Column("stored_path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("claim_month", sa.String(length=7), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("received_at", _TS, nullable=False),
        sa.CheckConstraint("source IN ('upload', 'drop')", name=op.f("ck_uploads_source")),
        sa.CheckConstraint("status IN ('accepted', 'reconciled', 'failed')", name=op.f("ck_uploads_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
        sa.UniqueConstraint("clinic_id", "sha256", name=op.f("uq_uploads_clinic_id_sha256")),
    )
    op.create_table(
        "correction_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.String(length=64), nullable=False),
        sa.Column("claim_month", sa.String(length=7), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("xlsx_path", sa.Text(), nullable=False),
        sa.Column("json_path", sa.Text(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_correction_lists_job_id_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_lists")),
    )
    op.create_index("ix_correction_lists_clinic_id_claim_month", "correction_lists", ["clinic_id", "claim_month"])

    op.create_table(
        "findings",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("clinic_id", sa.String(length=64), nullable=False),
        sa.Column("claim_month", sa.String(length=7), nullable=False),
        sa.Column("run_month", sa.String(length=7), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("sheet", sa.Text(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=128), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("expected", sa.Text(), nullable=False),
        sa.Column("actual", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("copay_diff_yen", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_findings_job_id_jobs")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_findings")),
    )
    op.create_index("ix_findings_category", "findings", ["category"])
    op.create_index("ix_findings_clinic_id_claim_month", "findings", ["clinic_id", "claim_month"])
    op.create_index("ix_findings_clinic_id_run_month", "findings", ["clinic_id", "run_month"])


def downgrade() -> None:
    op.drop_index("ix_findings_clinic_id_run_month", table_name="findings")
    op.drop_index("ix_findings_clinic_id_claim_month", table_name="findings")
    op.drop_index("ix_findings_category", table_name="findings")

    op.drop_table("findings")
    op.drop_index("ix_correction_lists_clinic_id_claim_month", table_name="correction_lists")

    op.drop_table("correction_lists")
    op.drop_table("uploads")
    op.drop_table("nightly_runs")
    op.drop_index("ix_jobs_status", table_name="jobs")
    op.drop_index("ix_jobs_parent_id", table_name="jobs")
    op.drop_index("ix_jobs_celery_task_id", table_name="jobs")

    op.drop_table("jobs")
    op.drop_table("finding_statuses")
    op.drop_table("drop_files")
