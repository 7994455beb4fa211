"""offer kinds: leisure and volunteering offers beside jobs (issue #15, part 3)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 13:30:00

- vacancies: `kind` ('job' | 'leisure' | 'volunteering', default 'job'; a CHECK on
  text, not a PG enum, so a new kind is one line here), `max_age` (an upper age,
  e.g. a youth club for 13-17), `cost_dkk` and `cost_note` (what a leisure offer
  costs, 0 = free, and per what), `volunteering_is_work` (the youth work rules
  apply to this volunteering offer). `job_type` and `hours_per_week` become
  nullable, but a job still has both (CHECK `job_fields`), and only a job has a
  job type.
- employers: `org_kind` ('business' | 'association' | 'volunteer_centre' | 'club').
- jobseekers: `offer_kinds`, the kinds of offer the person wants to hear about
  (default {job}; never empty).
Existing rows are all jobs posted by businesses to seekers who want jobs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "vacancies", sa.Column("kind", sa.String(length=16), server_default="job", nullable=False)
    )
    op.add_column("vacancies", sa.Column("max_age", sa.SmallInteger(), nullable=True))
    op.add_column("vacancies", sa.Column("cost_dkk", sa.Integer(), nullable=True))
    op.add_column("vacancies", sa.Column("cost_note", sa.String(length=100), nullable=True))
    op.add_column(
        "vacancies",
        sa.Column(
            "volunteering_is_work", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.alter_column("vacancies", "job_type", nullable=True)
    op.alter_column("vacancies", "hours_per_week", nullable=True)
    op.create_check_constraint(
        op.f("ck_vacancies_kind"), "vacancies", "kind IN ('job', 'leisure', 'volunteering')"
    )
    op.create_check_constraint(
        op.f("ck_vacancies_job_fields"),
        "vacancies",
        "(kind = 'job') = (job_type IS NOT NULL) AND (kind <> 'job' OR hours_per_week IS NOT NULL)",
    )
    op.create_check_constraint(
        op.f("ck_vacancies_max_age"),
        "vacancies",
        "max_age IS NULL OR (max_age BETWEEN 13 AND 99 AND max_age >= min_age)",
    )
    op.create_check_constraint(
        op.f("ck_vacancies_cost"), "vacancies", "cost_dkk IS NULL OR cost_dkk BETWEEN 0 AND 100000"
    )
    op.create_check_constraint(
        op.f("ck_vacancies_volunteering_is_work"),
        "vacancies",
        "NOT volunteering_is_work OR kind = 'volunteering'",
    )

    op.add_column(
        "employers",
        sa.Column("org_kind", sa.String(length=20), server_default="business", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_employers_org_kind"),
        "employers",
        "org_kind IN ('business', 'association', 'volunteer_centre', 'club')",
    )

    op.add_column(
        "jobseekers",
        sa.Column(
            "offer_kinds",
            postgresql.ARRAY(sa.String(length=16)),
            server_default="{job}",
            nullable=False,
        ),
    )
    op.create_check_constraint(
        op.f("ck_jobseekers_offer_kinds"),
        "jobseekers",
        "cardinality(offer_kinds) > 0 AND "
        "offer_kinds <@ ARRAY['job', 'leisure', 'volunteering']::varchar[]",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_jobseekers_offer_kinds"), "jobseekers", type_="check")
    op.drop_column("jobseekers", "offer_kinds")
    op.drop_constraint(op.f("ck_employers_org_kind"), "employers", type_="check")
    op.drop_column("employers", "org_kind")
    # Offers that are not jobs cannot be kept where every row must be a job.
    op.execute("DELETE FROM vacancies WHERE kind <> 'job'")
    for name in ("volunteering_is_work", "cost", "max_age", "job_fields", "kind"):
        op.drop_constraint(op.f(f"ck_vacancies_{name}"), "vacancies", type_="check")
    op.alter_column("vacancies", "hours_per_week", nullable=False)
    op.alter_column("vacancies", "job_type", nullable=False)
    for column in ("volunteering_is_work", "cost_note", "cost_dkk", "max_age", "kind"):
        op.drop_column("vacancies", column)
