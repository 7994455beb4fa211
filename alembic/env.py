"""Alembic environment: migrations are the only source of the schema.

The URL comes from the Alembic config's `sqlalchemy.url` when a caller set it
(the CLI and tests do), else from `DATABASE_URL` / the embedded cluster.
GeoAlchemy2's helpers keep autogenerate from fighting PostGIS's own tables and
the spatial indexes it manages.
"""

from __future__ import annotations

from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

from alembic import context
from matcher.db import sync_url
from matcher.models import Base
from ops.embedded_pg import resolve_database_url

config = context.config
target_metadata = Base.metadata

# Tables that PostGIS (and its tiger/topology extras) own.
_FOREIGN_TABLES = {"spatial_ref_sys", "layer", "topology"}


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    if type_ == "table" and name in _FOREIGN_TABLES:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or sync_url(resolve_database_url())


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        include_object=include_object,
        render_item=alembic_helpers.render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = create_engine(sync_url(_url()), poolclass=pool.NullPool, hide_parameters=True)
    with engine.connect() as connection:
        _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
