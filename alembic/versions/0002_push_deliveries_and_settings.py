"""push deliveries and settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:45:44.519144
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('push_deliveries',
    sa.Column('jobseeker_id', sa.UUID(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('vacancy_id', sa.UUID(), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('acked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('match', 'withdrawn')", name=op.f('ck_push_deliveries_kind')),
    sa.ForeignKeyConstraint(['jobseeker_id'], ['jobseekers.id'], name=op.f('fk_push_deliveries_jobseeker_id_jobseekers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vacancy_id'], ['vacancies.id'], name=op.f('fk_push_deliveries_vacancy_id_vacancies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('jobseeker_id', 'seq', name=op.f('pk_push_deliveries')),
    sa.UniqueConstraint('jobseeker_id', 'vacancy_id', 'kind', name='uq_push_deliveries_once')
    )
    op.create_index(op.f('ix_push_deliveries_vacancy_id'), 'push_deliveries', ['vacancy_id'], unique=False)
    op.add_column('jobseekers', sa.Column('push_seq', sa.BigInteger(), server_default='0', nullable=False))
    op.add_column('jobseekers', sa.Column('push_paused', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('jobseekers', sa.Column('push_min_score', sa.Float(), server_default='0.5', nullable=False))
    op.add_column('jobseekers', sa.Column('quiet_from', sa.Time(), nullable=True))
    op.add_column('jobseekers', sa.Column('quiet_until', sa.Time(), nullable=True))


def downgrade() -> None:
    op.drop_column('jobseekers', 'quiet_until')
    op.drop_column('jobseekers', 'quiet_from')
    op.drop_column('jobseekers', 'push_min_score')
    op.drop_column('jobseekers', 'push_paused')
    op.drop_column('jobseekers', 'push_seq')
    op.drop_index(op.f('ix_push_deliveries_vacancy_id'), table_name='push_deliveries')
    op.drop_table('push_deliveries')
