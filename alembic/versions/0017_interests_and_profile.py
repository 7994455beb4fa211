"""interests: the occupations a jobseeker would like (issue #12)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 14:00:00

- jobseekers: `interests`, ESCO occupation URIs the person wishes for (chosen at
  sign-up from the picture tiles or the occupation search, editable). URIs, not
  ids, so a wish survives a re-import of ESCO; the scorer resolves them per
  request and passes over any that ESCO retired.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "jobseekers",
        sa.Column(
            "interests",
            postgresql.ARRAY(sa.String(length=255)),
            server_default="{}",
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("jobseekers", "interests")
