"""pay on vacancies; "Jeg er interesseret" as applications, answered by push

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 13:40:00

- vacancies: `pay` JSONB, {"kind": "hourly", "dkk": n} | {"kind": "range", "min_dkk",
  "max_dkk"} | {"kind": "agreement"} (checked by matcher/posting/pay.py where it enters).
- applications: what a young person chose to share with an employer about one
  vacancy (first name, age, phone/e-mail, skills, a message), and the employer's
  one answer. Personal data: deleted with the person (ON DELETE CASCADE).
- push_deliveries: a third kind, `interest_reply`, in the same per-person seq
  stream as matches, so an answer is replayed to a device that was offline.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "vacancies", sa.Column("pay", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("vacancy_id", sa.UUID(), nullable=False),
        sa.Column("jobseeker_id", sa.UUID(), nullable=False),
        sa.Column("shared", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("reply", sa.String(length=16), nullable=True),
        sa.Column("reply_message", sa.Text(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),  # fmt: skip
        sa.CheckConstraint(
            "reply IN ('come_by', 'call_me', 'no_thanks')", name=op.f("ck_applications_reply")
        ),
        sa.ForeignKeyConstraint(
            ["jobseeker_id"],
            ["jobseekers.id"],
            name=op.f("fk_applications_jobseeker_id_jobseekers"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["vacancy_id"],
            ["vacancies.id"],
            name=op.f("fk_applications_vacancy_id_vacancies"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("vacancy_id", "jobseeker_id", name="uq_applications_once"),
    )
    op.create_index(
        op.f("ix_applications_jobseeker_id"), "applications", ["jobseeker_id"], unique=False
    )
    op.drop_constraint(op.f("ck_push_deliveries_kind"), "push_deliveries", type_="check")
    op.create_check_constraint(
        op.f("ck_push_deliveries_kind"),
        "push_deliveries",
        "kind IN ('match', 'withdrawn', 'interest_reply')",
    )


def downgrade() -> None:
    op.execute("DELETE FROM push_deliveries WHERE kind = 'interest_reply'")
    op.drop_constraint(op.f("ck_push_deliveries_kind"), "push_deliveries", type_="check")
    op.create_check_constraint(
        op.f("ck_push_deliveries_kind"), "push_deliveries", "kind IN ('match', 'withdrawn')"
    )
    op.drop_index(op.f("ix_applications_jobseeker_id"), table_name="applications")
    op.drop_table("applications")
    op.drop_column("vacancies", "pay")
