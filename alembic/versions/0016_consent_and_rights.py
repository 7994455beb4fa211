"""consent and a person's data rights: consents, parent contact, last activity

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 13:30:00

- consents: one row per consent given (`service`: the privacy notice at sign-up,
  `location`: positions for push), with the notice version and when it was
  granted and withdrawn. At most one live (not withdrawn) row per person and kind.
- jobseekers.parent_contact: a parent's name and phone/e-mail, optional
  (for 13-14-year-olds and others in compulsory school; docs/privacy.md).
- jobseekers.last_active_at: when the person last used the service (touched at
  most once a day); the inactive sweeper deletes accounts unused for
  `JOTR_INACTIVE_DELETE_AFTER_DAYS`. Backfilled from created_at/updated_at.
- Existing people signed up before the notice existed: they get a `service`
  consent row with notice_version 'pre-notice' (the app asks them again), no
  location consent (the app asks before the next position is sent).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("jobseeker_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("notice_version", sa.String(length=32), nullable=False),
        sa.Column(
            "granted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('service', 'location')", name=op.f("ck_consents_kind")),
        sa.ForeignKeyConstraint(
            ["jobseeker_id"],
            ["jobseekers.id"],
            name=op.f("fk_consents_jobseeker_id_jobseekers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(
        "ix_consents_live",
        "consents",
        ["jobseeker_id", "kind"],
        unique=True,
        postgresql_where=sa.text("withdrawn_at IS NULL"),
    )
    op.add_column(
        "jobseekers",
        sa.Column("parent_contact", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column(
        "jobseekers",
        sa.Column("last_active_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.execute("UPDATE jobseekers SET last_active_at = greatest(created_at, updated_at)")
    op.alter_column("jobseekers", "last_active_at", nullable=False, server_default=sa.func.now())
    op.create_index("ix_jobseekers_last_active_at", "jobseekers", ["last_active_at"])
    op.execute(
        "INSERT INTO consents (jobseeker_id, kind, notice_version, granted_at)"
        " SELECT id, 'service', 'pre-notice', created_at FROM jobseekers"
    )


def downgrade() -> None:
    op.drop_index("ix_jobseekers_last_active_at", table_name="jobseekers")
    op.drop_column("jobseekers", "last_active_at")
    op.drop_column("jobseekers", "parent_contact")
    op.drop_index("ix_consents_live", table_name="consents")
    op.drop_table("consents")
