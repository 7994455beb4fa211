"""passkeys, their challenges, and what a person dismissed or saved

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 13:50:00

- passkeys: a person's WebAuthn credentials (id, public key, sign count,
  transports), so a profile survives a lost phone (docs/security.md).
- webauthn_challenges: a challenge handed out for a registration or a sign-in,
  single use (deleted as it is used) and short-lived.
- seeker_vacancy_marks: a vacancy a person dismissed or saved, honoured on
  every device; a dismissed one is never listed nor pushed again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "passkeys",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "jobseeker_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("jobseekers.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("credential_id", sa.LargeBinary(), nullable=False, unique=True),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column(
            "transports", postgresql.ARRAY(sa.String(16)), nullable=False, server_default="{}"
        ),
        sa.Column("name", sa.String(60), nullable=False, server_default=""),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "webauthn_challenges",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("challenge", sa.LargeBinary(), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column(
            "jobseeker_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("jobseekers.id", ondelete="CASCADE"),
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.CheckConstraint(
            "purpose IN ('register', 'sign_in')", name=op.f("ck_webauthn_challenges_purpose")
        ),
    )
    op.create_table(
        "seeker_vacancy_marks",
        sa.Column(
            "jobseeker_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("jobseekers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "vacancy_id",
            postgresql.UUID(as_uuid=True),
            sa.ForeignKey("vacancies.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("mark", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "mark IN ('dismissed', 'saved')", name=op.f("ck_seeker_vacancy_marks_mark")
        ),
    )


def downgrade() -> None:
    op.drop_table("seeker_vacancy_marks")
    op.drop_table("webauthn_challenges")
    op.drop_table("passkeys")
