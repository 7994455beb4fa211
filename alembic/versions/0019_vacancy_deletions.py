"""a log of hard-deleted vacancies, numbered like every other vacancy change

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 16:40:00

The per-worker replica of open vacancies (matcher/matching/replica.py) catches up with
`change_no > last_seen`. An insert or update bumps `vacancies.change_no`
(migration 0008); a DELETE leaves no row to read. So a trigger writes each
deleted vacancy here with the next number of the same sequence: a worker
reads both tables past its floor and the deletion is just another change.
Entries older than a week are pruned by a statement trigger: no worker is
that far behind (one that was reloads from scratch).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vacancy_deletions",
        sa.Column("change_no", sa.BigInteger(), primary_key=True),
        sa.Column("vacancy_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column(
            "deleted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.execute("""
        CREATE FUNCTION vacancies_log_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO vacancy_deletions (change_no, vacancy_id)
            VALUES (nextval('vacancy_change_no_seq'), OLD.id);
            RETURN OLD;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER vacancies_deletion_log AFTER DELETE ON vacancies
        FOR EACH ROW EXECUTE FUNCTION vacancies_log_deletion()
    """)
    op.execute("""
        CREATE FUNCTION vacancy_deletions_prune() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM vacancy_deletions WHERE deleted_at < now() - interval '7 days';
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER vacancy_deletions_prune AFTER DELETE ON vacancies
        FOR EACH STATEMENT EXECUTE FUNCTION vacancy_deletions_prune()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER vacancy_deletions_prune ON vacancies")
    op.execute("DROP FUNCTION vacancy_deletions_prune()")
    op.execute("DROP TRIGGER vacancies_deletion_log ON vacancies")
    op.execute("DROP FUNCTION vacancies_log_deletion()")
    op.drop_table("vacancy_deletions")
