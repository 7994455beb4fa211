"""vacancy change numbers (push catch-up)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:40:00

- `vacancies.change_no`: a number from the sequence `vacancy_change_no_seq`,
  set by a `BEFORE INSERT OR UPDATE` trigger on every write, so the API, the
  importer and any hand-written SQL all bump it in the writing transaction.
  A worker remembers the highest change it applied and catches up with
  `WHERE change_no > last_seen ORDER BY change_no` after a lost bus message
  (push/catchup.py); the same number can keep an in-memory replica current.
  Indexed (unique: one number per write).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE vacancy_change_no_seq AS bigint")
    # No column default: the trigger is the one place numbers come from (it
    # runs before the NOT NULL check). Existing rows are numbered once here.
    op.add_column("vacancies", sa.Column("change_no", sa.BigInteger(), nullable=True))
    op.execute("UPDATE vacancies SET change_no = nextval('vacancy_change_no_seq')")
    op.alter_column("vacancies", "change_no", nullable=False)
    op.execute("ALTER SEQUENCE vacancy_change_no_seq OWNED BY vacancies.change_no")
    op.create_index("ix_vacancies_change_no", "vacancies", ["change_no"], unique=True)
    op.execute("""
        CREATE FUNCTION vacancies_bump_change_no() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.change_no := nextval('vacancy_change_no_seq');
            RETURN NEW;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER vacancies_change_no BEFORE INSERT OR UPDATE ON vacancies
        FOR EACH ROW EXECUTE FUNCTION vacancies_bump_change_no()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER vacancies_change_no ON vacancies")
    op.execute("DROP FUNCTION vacancies_bump_change_no()")
    op.drop_index("ix_vacancies_change_no", table_name="vacancies")
    op.drop_column("vacancies", "change_no")  # drops the owned sequence too
