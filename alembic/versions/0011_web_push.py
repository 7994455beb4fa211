"""web push: home areas by consent, browser push subscriptions

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 13:30:00

- `jobseeker_home_areas`: a coarse home area a person set by consent (a postcode's
  centroid, or a point snapped to a 500 m grid: matcher/people/home_area.py), with who
  consented and when. Only the snapped point is stored, never what the phone
  said. Alerts while the app is closed are matched against it (push/offline.py).
- `webpush_subscriptions`: a browser's Web Push subscription (RFC 8030 endpoint,
  RFC 8291 keys), one per browser install; removed when the push service says
  it is gone (404/410), when the person unsubscribes, or with the person.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('jobseeker_home_areas',
    sa.Column('jobseeker_id', sa.UUID(), nullable=False),
    sa.Column('point', Geography(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeogFromText', name='geography', nullable=False), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('postcode', sa.String(length=4), nullable=True),
    sa.Column('consent_by', sa.String(length=16), nullable=False),
    sa.Column('consented_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("source IN ('postcode', 'position')", name=op.f('ck_jobseeker_home_areas_source')),
    sa.ForeignKeyConstraint(['jobseeker_id'], ['jobseekers.id'], name=op.f('fk_jobseeker_home_areas_jobseeker_id_jobseekers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('jobseeker_id', name=op.f('pk_jobseeker_home_areas'))
    )
    op.create_geospatial_index('ix_jobseeker_home_areas_point', 'jobseeker_home_areas', ['point'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('webpush_subscriptions',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('jobseeker_id', sa.UUID(), nullable=False),
    sa.Column('endpoint', sa.Text(), nullable=False),
    sa.Column('p256dh', sa.String(length=100), nullable=False),
    sa.Column('auth', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['jobseeker_id'], ['jobseekers.id'], name=op.f('fk_webpush_subscriptions_jobseeker_id_jobseekers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webpush_subscriptions')),
    sa.UniqueConstraint('endpoint', name=op.f('uq_webpush_subscriptions_endpoint'))
    )
    op.create_index(op.f('ix_webpush_subscriptions_jobseeker_id'), 'webpush_subscriptions', ['jobseeker_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_webpush_subscriptions_jobseeker_id'), table_name='webpush_subscriptions')
    op.drop_table('webpush_subscriptions')
    op.drop_geospatial_index('ix_jobseeker_home_areas_point', table_name='jobseeker_home_areas', postgresql_using='gist', column_name='point')
    op.drop_table('jobseeker_home_areas')
