"""The schema comes from the migrations only; prove the models agree with it."""

from __future__ import annotations

import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool

from alembic import command
from matcher.models import Base
from tests.conftest import alembic_config, create_database, drop_database


def _include(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # Reuse the exact filter the migration environment uses.
    from geoalchemy2 import alembic_helpers

    if type_ == "table" and name in {"spatial_ref_sys", "layer", "topology", "alembic_version"}:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "include_object": _include,
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_downgrade_to_base_and_up_again() -> None:
    name = f"jotr_mig_{uuid.uuid4().hex[:8]}"
    url = create_database(name)
    try:
        cfg = alembic_config(url)
        command.upgrade(cfg, "head")
        command.downgrade(cfg, "base")
        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as conn:
            left = set(inspect(conn).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
        engine.dispose()
        assert left == set()
        command.upgrade(cfg, "head")
    finally:
        drop_database(name)
