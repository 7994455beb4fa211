"""push streams: a person's delivery sequence apart from the profile row

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-03 17:00:00

- push_streams: `push_seq` moves here from `jobseekers`. Every push takes the
  row lock on it; on the profile row that lock serialised pushes with profile
  edits and rewrote a wide row per push. Rows are copied for people who had
  deliveries; a person without a row is at sequence 0.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "push_streams",
        sa.Column(
            "jobseeker_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("jobseekers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("push_seq", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.execute(
        "INSERT INTO push_streams (jobseeker_id, push_seq)"
        " SELECT id, push_seq FROM jobseekers WHERE push_seq > 0"
    )
    op.drop_column("jobseekers", "push_seq")


def downgrade() -> None:
    op.add_column(
        "jobseekers",
        sa.Column("push_seq", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.execute(
        "UPDATE jobseekers j SET push_seq = s.push_seq FROM push_streams s"
        " WHERE s.jobseeker_id = j.id"
    )
    op.drop_table("push_streams")
