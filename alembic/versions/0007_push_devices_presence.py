"""push acks per device, presence across nodes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:40:00

- `push_device_acks`: how far each device of a person has acknowledged their
  deliveries; resume replays what *that device* has not acked (push/delivery.py).
  Replaces the per-person `push_deliveries.acked_at`, which let one phone's ack
  swallow what the tablet missed.
- `push_presence`: one row per live websocket on any worker/node, refreshed while
  open (push/presence.py): caps connections per person and erases the position
  when the person's last connection anywhere closes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('push_device_acks',
    sa.Column('jobseeker_id', sa.UUID(), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('acked_seq', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['jobseeker_id'], ['jobseekers.id'], name=op.f('fk_push_device_acks_jobseeker_id_jobseekers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('jobseeker_id', 'device_id', name=op.f('pk_push_device_acks'))
    )
    op.create_index(op.f('ix_push_device_acks_seen_at'), 'push_device_acks', ['seen_at'], unique=False)
    op.create_table('push_presence',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('jobseeker_id', sa.UUID(), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('node', sa.String(length=120), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['jobseeker_id'], ['jobseekers.id'], name=op.f('fk_push_presence_jobseeker_id_jobseekers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_presence'))
    )
    op.create_index(op.f('ix_push_presence_jobseeker_id'), 'push_presence', ['jobseeker_id'], unique=False)
    op.create_index(op.f('ix_push_presence_node'), 'push_presence', ['node'], unique=False)
    op.create_index(op.f('ix_push_presence_refreshed_at'), 'push_presence', ['refreshed_at'], unique=False)
    op.drop_column('push_deliveries', 'acked_at')


def downgrade() -> None:
    op.add_column('push_deliveries', sa.Column('acked_at', sa.DateTime(timezone=True), nullable=True))
    op.drop_index(op.f('ix_push_presence_refreshed_at'), table_name='push_presence')
    op.drop_index(op.f('ix_push_presence_node'), table_name='push_presence')
    op.drop_index(op.f('ix_push_presence_jobseeker_id'), table_name='push_presence')
    op.drop_table('push_presence')
    op.drop_index(op.f('ix_push_device_acks_seen_at'), table_name='push_device_acks')
    op.drop_table('push_device_acks')
