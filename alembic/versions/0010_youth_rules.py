"""youth rules: what a vacancy says about its workplace and week, school status

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00

- vacancies: `workplace_kind` (the kinds the youth rules tell apart),
  `schedule` (a weekly schedule, [{"days": [...], "start": "HH:MM", "end": "HH:MM"}]),
  `alcohol_served`, `may_work_alone`, `hazards` (the hazard checklist; the old
  `hazardous` flag stays, kept equal to "any hazard"). Rows marked hazardous get
  the checklist item 'other', so nothing that was kept from minors reaches them now.
- jobseekers: `finished_compulsory_school` (has the person finished 9th grade;
  NULL for adults and for rows from before this revision, judged as in school),
  `subsidy_eligibility` (the subsidised job types a consultant marked them
  eligible for).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = (
    "'shop', 'office', 'service_station', 'kiosk', 'restaurant', 'hotel', 'grill_bar', "
    "'cinema', 'theatre', 'concert_venue', 'bar', 'bakery', 'farm_stable', "
    "'newspaper_delivery', 'other'"
)


def upgrade() -> None:
    op.add_column(
        "vacancies",
        sa.Column("workplace_kind", sa.String(length=32), server_default="other", nullable=False),
    )
    op.add_column(
        "vacancies", sa.Column("schedule", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column(
        "vacancies",
        sa.Column("alcohol_served", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "vacancies",
        sa.Column("may_work_alone", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "vacancies",
        sa.Column(
            "hazards", postgresql.ARRAY(sa.String(length=32)), server_default="{}", nullable=False
        ),
    )
    op.create_check_constraint(
        op.f("ck_vacancies_workplace_kind"), "vacancies", f"workplace_kind IN ({KINDS})"
    )
    op.execute("UPDATE vacancies SET hazards = '{other}' WHERE hazardous")
    # The old flag and the checklist can never disagree, whoever writes the row.
    op.create_check_constraint(
        op.f("ck_vacancies_hazards_flag"), "vacancies", "hazardous = (cardinality(hazards) > 0)"
    )
    op.add_column(
        "jobseekers", sa.Column("finished_compulsory_school", sa.Boolean(), nullable=True)
    )
    op.add_column(
        "jobseekers",
        sa.Column(
            "subsidy_eligibility",
            postgresql.ARRAY(sa.String(length=32)),
            server_default="{}",
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("jobseekers", "subsidy_eligibility")
    op.drop_column("jobseekers", "finished_compulsory_school")
    op.drop_constraint(op.f("ck_vacancies_workplace_kind"), "vacancies", type_="check")
    op.drop_column("vacancies", "hazards")
    op.drop_column("vacancies", "may_work_alone")
    op.drop_column("vacancies", "alcohol_served")
    op.drop_column("vacancies", "schedule")
    op.drop_column("vacancies", "workplace_kind")
