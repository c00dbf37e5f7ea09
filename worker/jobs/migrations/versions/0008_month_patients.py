"""The patients of a clinic-month's list (ID, name, カナ and their search keys), so the
clerk's page can find a patient by name or カナ (worker.jobs.month_patients).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "month_patients",
        sa.Column("clinic_id", sa.String(length=64), nullable=False),
        sa.Column("run_month", sa.String(length=7), nullable=False),
        sa.Column("patient_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kana", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("kana_key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("clinic_id", "run_month", "patient_id", name=op.f("pk_month_patients")),
    )
    op.create_index("ix_month_patients_clinic_id_patient_id", "month_patients", ["clinic_id", "patient_id"])


def downgrade() -> None:
    op.drop_index("ix_month_patients_clinic_id_patient_id", table_name="month_patients")
    op.drop_table("month_patients")
