"""import state, geocode cache, location precision, imported employers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00

- `import_state`: an importer's cursor in its source's change feed, written in
  the same transaction as the page it follows (matcher/ingest/importer.py).
- `geocode_cache`: geocoder answers by normalised address (matcher/location/geocode.py).
- `vacancies.location_precision`: how exact the point is; every existing
  vacancy was posted with coordinates, hence the default 'given'.
- `employers.import_key`: identifies employers an importer created for a feed's
  hiring organisation (NULL for employers that registered themselves).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('import_state',
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('cursor', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_import_state'))
    )
    op.create_table('geocode_cache',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('precision', sa.String(length=16), nullable=False),
    sa.Column('label', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_geocode_cache'))
    )
    op.add_column('vacancies', sa.Column('location_precision', sa.String(length=16), server_default='given', nullable=False))
    op.create_check_constraint(
        op.f('ck_vacancies_location_precision'),
        'vacancies',
        "location_precision IN ('given', 'address', 'street', 'postcode')",
    )
    op.add_column('employers', sa.Column('import_key', sa.String(length=240), nullable=True))
    op.create_unique_constraint(op.f('uq_employers_import_key'), 'employers', ['import_key'])


def downgrade() -> None:
    op.drop_constraint(op.f('uq_employers_import_key'), 'employers', type_='unique')
    op.drop_column('employers', 'import_key')
    op.drop_constraint(op.f('ck_vacancies_location_precision'), 'vacancies', type_='check')
    op.drop_column('vacancies', 'location_precision')
    op.drop_table('geocode_cache')
    op.drop_table('import_state')
