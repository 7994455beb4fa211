"""Jobnet search import: apply details, seen ads, STAR -> ESCO crosswalk

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:00:00

- `vacancies.apply`: how to apply (url, email, phone, how, walk_in, contacts),
  kept from the imported ad or set by the employer (matcher/posting/apply_info.py).
- `import_ads`: per source and ad, the hash of its last search row and when a
  listing pass last saw it (matcher/ingest/search_source.py): unchanged ads cost
  no detail request, and a full sweep closes ads that left the listing.
- `esco_crosswalk`: STAR occupation URIs (Jobnet's `conceptUriDa`) to ESCO
  occupation URIs, loaded by an operator (`jotr esco crosswalk load`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('vacancies', sa.Column('apply', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.create_table('import_ads',
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('ref', sa.String(length=100), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('last_seen', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('source', 'ref', name=op.f('pk_import_ads'))
    )
    op.create_table('esco_crosswalk',
    sa.Column('star_uri', sa.String(length=200), nullable=False),
    sa.Column('esco_uri', sa.String(length=200), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('star_uri', name=op.f('pk_esco_crosswalk'))
    )


def downgrade() -> None:
    op.drop_table('esco_crosswalk')
    op.drop_table('import_ads')
    op.drop_column('vacancies', 'apply')
