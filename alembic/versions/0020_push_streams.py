"""push streams: a person's delivery sequence and live position apart from the profile row

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-03 17:00:00

- push_streams: `push_seq`, `last_position` and `last_position_at` move here from
  `jobseekers`, with the position's GiST index. Every push takes the row lock on
  the sequence and a connected phone rewrites its position every minute; on the
  profile row both serialised with profile edits and rewrote a wide row (whose
  GiST index also kept the updates from being HOT). Rows are copied for people
  with deliveries or a position; a person without a row is at sequence 0 with
  no position.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
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
        sa.Column(
            "last_position",
            Geography(geometry_type="POINT", srid=4326, spatial_index=False),
            nullable=True,
        ),
        sa.Column("last_position_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_geospatial_index(
        "ix_push_streams_last_position",
        "push_streams",
        ["last_position"],
        unique=False,
        postgresql_using="gist",
        postgresql_where=sa.text("last_position IS NOT NULL"),
        postgresql_ops={},
    )
    op.execute(
        "INSERT INTO push_streams (jobseeker_id, push_seq, last_position, last_position_at)"
        " SELECT id, push_seq, last_position, last_position_at FROM jobseekers"
        " WHERE push_seq > 0 OR last_position IS NOT NULL"
    )
    op.drop_geospatial_index(
        "ix_jobseekers_last_position",
        table_name="jobseekers",
        postgresql_using="gist",
        postgresql_where=sa.text("last_position IS NOT NULL"),
        column_name="last_position",
    )
    op.drop_column("jobseekers", "push_seq")
    op.drop_column("jobseekers", "last_position")
    op.drop_column("jobseekers", "last_position_at")


def downgrade() -> None:
    op.add_column(
        "jobseekers",
        sa.Column("push_seq", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.add_column(
        "jobseekers",
        sa.Column(
            "last_position",
            Geography(geometry_type="POINT", srid=4326, spatial_index=False),
            nullable=True,
        ),
    )
    op.add_column("jobseekers", sa.Column("last_position_at", sa.DateTime(timezone=True)))
    op.create_geospatial_index(
        "ix_jobseekers_last_position",
        "jobseekers",
        ["last_position"],
        unique=False,
        postgresql_using="gist",
        postgresql_where=sa.text("last_position IS NOT NULL"),
        postgresql_ops={},
    )
    op.execute(
        "UPDATE jobseekers j SET push_seq = s.push_seq, last_position = s.last_position,"
        " last_position_at = s.last_position_at FROM push_streams s WHERE s.jobseeker_id = j.id"
    )
    op.drop_geospatial_index(
        "ix_push_streams_last_position",
        table_name="push_streams",
        postgresql_using="gist",
        postgresql_where=sa.text("last_position IS NOT NULL"),
        column_name="last_position",
    )
    op.drop_table("push_streams")
