"""employer trust: verification of employers, reports on vacancies

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 13:30:00

- employers: `verification_status` ('unverified' | 'verified' | 'rejected'),
  who set it (`verified_by_type`: consultant | operator | cvr_register | jobnet,
  `verified_by_id`) and when (`verified_at`). Every change is also in audit_log.
- vacancies: `employer_verified`, a copy of "the employer is verified" kept by
  triggers (below), so the candidate query, the hot path, reads it from the row
  it already reads instead of joining employers for every candidate;
  `hidden_at`, set when enough different people report the vacancy, cleared
  when a consultant keeps it.
- vacancy_reports: one report per seeker per vacancy (reason, optional text);
  gone with the seeker (erasure) and with the vacancy.

Existing employers stay unverified, except those the Jobnet importer created
with a CVR number that passes the modulus-11 check (docs/security.md, "Employer
trust": Jobnet's ads come from employers identified by CVR at the state's portal).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The modulus-11 check (weights 2,7,6,5,4,3,2,1) in SQL, for the backfill only;
# the application uses matcher.posting.employer_trust.cvr_valid.
_CVR_OK = (
    "cvr ~ '^[1-9][0-9]{7}$' AND ("
    + " + ".join(
        f"substr(cvr, {i + 1}, 1)::int * {w}" for i, w in enumerate((2, 7, 6, 5, 4, 3, 2, 1))
    )
    + ") % 11 = 0"
)


def upgrade() -> None:
    op.add_column(
        "employers",
        sa.Column(
            "verification_status", sa.String(length=16), server_default="unverified",
            nullable=False,
        ),
    )  # fmt: skip
    op.add_column("employers", sa.Column("verified_by_type", sa.String(length=16), nullable=True))
    op.add_column("employers", sa.Column("verified_by_id", postgresql.UUID(), nullable=True))
    op.add_column("employers", sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        op.f("ck_employers_verification_status"),
        "employers",
        "verification_status IN ('unverified', 'verified', 'rejected')",
    )
    op.add_column(
        "vacancies",
        sa.Column(
            "employer_verified", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.add_column("vacancies", sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_vacancies_hidden", "vacancies", ["hidden_at"], unique=False,
        postgresql_where=sa.text("hidden_at IS NOT NULL"),
    )  # fmt: skip
    op.create_table(
        "vacancy_reports",
        sa.Column("vacancy_id", postgresql.UUID(), nullable=False),
        sa.Column("jobseeker_id", postgresql.UUID(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=500), server_default="", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "reason IN ('unsafe', 'fake', 'offensive', 'wrong_info', 'other')",
            name=op.f("ck_vacancy_reports_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["jobseeker_id"], ["jobseekers.id"],
            name=op.f("fk_vacancy_reports_jobseeker_id_jobseekers"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vacancy_id"], ["vacancies.id"],
            name=op.f("fk_vacancy_reports_vacancy_id_vacancies"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("vacancy_id", "jobseeker_id", name=op.f("pk_vacancy_reports")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_vacancy_reports_jobseeker_id"), "vacancy_reports", ["jobseeker_id"], unique=False
    )
    # The copy on vacancies is written by the database, whoever writes the rows
    # (the API, the importer, the demo seed, an operator by hand): a vacancy
    # takes its employer's status when written, and a change of an employer's
    # status is carried to all its vacancies (each then gets a new change_no,
    # so push workers catch up on it like any other change).
    op.execute(
        """
        CREATE FUNCTION vacancies_copy_employer_verified() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.employer_verified := coalesce(
                (SELECT e.verification_status = 'verified' FROM employers e
                 WHERE e.id = NEW.employer_id), false);
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER vacancies_employer_verified
        BEFORE INSERT OR UPDATE OF employer_id, employer_verified ON vacancies
        FOR EACH ROW EXECUTE FUNCTION vacancies_copy_employer_verified()
        """
    )
    op.execute(
        """
        CREATE FUNCTION employers_carry_verification() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE vacancies SET employer_verified = employer_verified
            WHERE employer_id = NEW.id
              AND employer_verified IS DISTINCT FROM (NEW.verification_status = 'verified');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER employers_verification
        AFTER UPDATE OF verification_status ON employers
        FOR EACH ROW EXECUTE FUNCTION employers_carry_verification()
        """
    )
    op.execute(
        "UPDATE employers SET verification_status = 'verified', verified_by_type = 'jobnet', "
        f"verified_at = now() WHERE import_key IS NOT NULL AND {_CVR_OK}"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER employers_verification ON employers")
    op.execute("DROP FUNCTION employers_carry_verification()")
    op.execute("DROP TRIGGER vacancies_employer_verified ON vacancies")
    op.execute("DROP FUNCTION vacancies_copy_employer_verified()")
    op.drop_index(op.f("ix_vacancy_reports_jobseeker_id"), table_name="vacancy_reports")
    op.drop_table("vacancy_reports")
    op.drop_index("ix_vacancies_hidden", table_name="vacancies")
    op.drop_column("vacancies", "hidden_at")
    op.drop_column("vacancies", "employer_verified")
    op.drop_constraint(op.f("ck_employers_verification_status"), "employers", type_="check")
    op.drop_column("employers", "verified_at")
    op.drop_column("employers", "verified_by_id")
    op.drop_column("employers", "verified_by_type")
    op.drop_column("employers", "verification_status")
