"""a jobseeker's signed-in devices, each with its own token

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-03 17:00:00

- seeker_devices: one row per signed-in device (token hash, a coarse label, the
  day it was last used). Signing in on a new phone adds a row; the other phones
  keep working; a lost one is signed out alone (docs/security.md).
- jobseekers.token_hash moves there (one "device" per existing person, label
  empty, last used today) and is dropped: the device table is the one place a
  jobseeker's token lives, so authenticating is one unique-index lookup there.
  Downgrade puts back one hash per person (their most recently used device;
  someone with none gets a random hash that no token matches).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seeker_devices",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "jobseeker_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("jobseekers.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False, unique=True),
        sa.Column("label", sa.String(40), nullable=False, server_default=""),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "last_used_on", sa.Date(), server_default=sa.text("CURRENT_DATE"), nullable=False
        ),
    )
    op.execute(
        "INSERT INTO seeker_devices (id, jobseeker_id, token_hash, created_at)"
        " SELECT gen_random_uuid(), id, token_hash, created_at FROM jobseekers"
    )
    op.drop_constraint(op.f("uq_jobseekers_token_hash"), "jobseekers", type_="unique")
    op.drop_column("jobseekers", "token_hash")


def downgrade() -> None:
    op.add_column("jobseekers", sa.Column("token_hash", sa.LargeBinary()))
    op.execute(
        """
        UPDATE jobseekers j SET token_hash = coalesce(
            (SELECT d.token_hash FROM seeker_devices d WHERE d.jobseeker_id = j.id
             ORDER BY d.last_used_on DESC, d.created_at DESC LIMIT 1),
            sha256(gen_random_uuid()::text::bytea))
        """
    )
    op.alter_column("jobseekers", "token_hash", nullable=False)
    op.create_unique_constraint(op.f("uq_jobseekers_token_hash"), "jobseekers", ["token_hash"])
    op.drop_table("seeker_devices")
