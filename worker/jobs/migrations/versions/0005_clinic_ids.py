"""Clinic IDs canonical (issue 12): stop when stored clinic IDs are not canonical or name
one clinic in several ways (``worker.jobs.clinic_audit``) — never merge them in silence.
No schema change.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from worker.jobs.clinic_audit import CLINIC_TABLES, ClinicIdConflict, clinic_id_report

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    lines = clinic_id_report(op.get_bind())
    if lines:
        raise ClinicIdConflict(
            "stored clinic IDs need a decision before upgrading (nothing was changed):\n  "
            + "\n  ".join(lines)
            + f"\nRename each to the clinic it is (UPDATE ... SET clinic_id = ... in {', '.join(CLINIC_TABLES)};"
            " finding keys include the clinic ID, so re-run the clinic's months afterwards), then upgrade again."
        )


def downgrade() -> None:
    pass
