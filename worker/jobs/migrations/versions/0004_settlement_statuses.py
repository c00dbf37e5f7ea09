"""The clerk's settlement statuses (窓口精算リスト.xlsx: 未精算/返金済/徴収済, by finding key)
and the upload status ``marked`` (a list handed back for its marks, not an input; such
uploads were closed as ``failed`` before).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UPLOAD_OLD = "status IN ('accepted', 'reconciled', 'failed')"
_UPLOAD_NEW = "status IN ('accepted', 'reconciled', 'failed', 'marked')"
_READ_MARKS = "%の状態・メモを読み込みました%"
_SETTLEMENT = "status IN ('未精算', '返金済', '徴収済')"


def upgrade() -> None:
    op.create_table(
        "settlement_statuses",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("changed_by", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(_SETTLEMENT, name=op.f("ck_settlement_statuses_status")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settlement_statuses")),
    )
    with op.batch_alter_table("uploads") as batch:
        batch.drop_constraint(op.f("ck_uploads_status"), type_="check")
        batch.create_check_constraint(op.f("ck_uploads_status"), _UPLOAD_NEW)
    # marked lists handed back before this revision were closed as failed with this message
    op.execute(
        "UPDATE uploads SET status = 'marked' WHERE status = 'failed' AND error LIKE '%の状態・メモを読み込みました%'"
    )


def downgrade() -> None:
    op.execute("UPDATE uploads SET status = 'failed' WHERE status = 'marked'")
    with op.batch_alter_table("uploads") as batch:
        batch.drop_constraint(op.f("ck_uploads_status"), type_="check")
        batch.create_check_constraint(op.f("ck_uploads_status"), _UPLOAD_OLD)
    op.drop_table("settlement_statuses")
