"""Engine and session factory.

One async engine per process. The URL comes from `DATABASE_URL`; without it the
entry points (the app factory, the CLI, Alembic) put in the embedded cluster's
that `jotr db up` starts (ops/embedded_pg.py `resolve_database_url`): operator
tooling stays out of the domain.
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


def async_url(url: str) -> str:
    """Normalise any postgres URL to the asyncpg driver."""
    u = make_url(url)
    return u.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """Normalise any postgres URL to the psycopg (v3) driver, for Alembic and the CLI."""
    u = make_url(url)
    return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


# Measured in bench/nearby_match.py: PostgreSQL plans a prepared statement's
# first five runs for their own parameters, underestimates how many vacancies a
# dense circle holds (4 instead of 44k) and picks a parallel scan that sorts
# them all (220-320 ms, 2.3 s once JIT kicks in) where the generic plan, the
# nearest-first index scan, takes 27 ms. JIT never pays off for these queries.
SERVER_SETTINGS = {"jit": "off", "plan_cache_mode": "force_generic_plan"}


def make_engine(url: str | None = None, settings: Settings | None = None) -> AsyncEngine:
    settings = settings or get_settings()
    url = url or settings.database_url
    if not url:
        raise RuntimeError(
            "no database URL: set DATABASE_URL (or start from `jotr`, which "
            "falls back to the embedded cluster)"
        )
    return create_async_engine(
        async_url(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
        # Errors would otherwise quote the statement's parameters (names, birth
        # dates, token hashes) into logs and tracebacks.
        hide_parameters=True,
        connect_args={"server_settings": SERVER_SETTINGS},
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
