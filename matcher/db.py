"""Engine and session factory.

One async engine per process. The URL comes from `DATABASE_URL`; without it we
use the embedded cluster that `jotr db up` starts (matcher/embedded_pg.py).
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from matcher.settings import Settings, get_settings


def resolve_database_url(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    from matcher.embedded_pg import EmbeddedCluster

    return EmbeddedCluster.from_settings(settings).url


def async_url(url: str) -> str:
    """Normalise any postgres URL to the asyncpg driver."""
    u = make_url(url)
    return u.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """Normalise any postgres URL to the psycopg (v3) driver, for Alembic and the CLI."""
    u = make_url(url)
    return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def make_engine(url: str | None = None, settings: Settings | None = None) -> AsyncEngine:
    settings = settings or get_settings()
    return create_async_engine(
        async_url(url or resolve_database_url(settings)),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
