"""autocomplete: no schema change

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:00:00

Autocomplete (matcher/esco/autocomplete.py) searches an in-memory index built from
`concept_labels` at startup, so it needs no column, index or extension. A
trigram design in PostgreSQL (pg_trgm GIN on a folded label column) was built
and measured first: common words ("manage", "operate") make thousands of
labels candidates and its p99 was 40-55 ms, above the 20 ms budget (numbers in
docs/benchmarks.md, where the benchmark re-measures it on a scratch table).
The revision is kept so the chain stays 0002 -> 0003 -> 0004.
"""

from collections.abc import Sequence

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
