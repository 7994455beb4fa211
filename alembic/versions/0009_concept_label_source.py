"""concept_labels.source: whose label it is (ESCO's, or our easy-Danish vocabulary)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:40:00

Labels so far all came from ESCO files. The easy-Danish youth vocabulary
(matcher/data/youth_skills_da.csv, matcher/esco/youth_vocab.py) adds Danish labels
that the Job On the Run team wrote; they must never pass for official ESCO
translations and an ESCO re-import must not delete them (nor they ESCO's). So
every label says where it came from: `esco` (default, every existing row) or
`youth_da`. The same text may exist once per source, hence the wider unique key.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "concept_labels",
        sa.Column("source", sa.String(length=16), server_default="esco", nullable=False),
    )
    op.drop_constraint("uq_concept_labels", "concept_labels", type_="unique")
    op.create_unique_constraint(
        "uq_concept_labels",
        "concept_labels",
        ["concept_uri", "lang", "label_type", "label", "source"],
    )


def downgrade() -> None:
    op.execute("DELETE FROM concept_labels WHERE source <> 'esco'")
    op.drop_constraint("uq_concept_labels", "concept_labels", type_="unique")
    op.create_unique_constraint(
        "uq_concept_labels", "concept_labels", ["concept_uri", "lang", "label_type", "label"]
    )
    op.drop_column("concept_labels", "source")
