"""Test fixtures: a real PostGIS database per test run, built by the migrations.

The admin connection defaults to the machine's PostgreSQL on 127.0.0.1:5432
(trust auth); set JOTR_TEST_ADMIN_URL to point elsewhere. Each run creates a
fresh database, runs `alembic upgrade head` on it (so the migrations are what is
tested) and drops it at the end.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from alembic import command
from matcher.db import async_url, sync_url

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
ADMIN_URL = os.environ.get("JOTR_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _libpq(url: str) -> str:
    """A SQLAlchemy URL as a plain libpq URL for psycopg.connect."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return cfg


def create_database(name: str) -> str:
    with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(database=name)
    return sync_url(url.render_as_string(hide_password=False))


def drop_database(name: str) -> None:
    with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def migrated_database(prefix: str = "jotr_test") -> Iterator[str]:
    """A fresh database built by `alembic upgrade head`, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    url = create_database(name)
    try:
        command.upgrade(alembic_config(url), "head")
        yield url
    finally:
        drop_database(name)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with migrated_database() as url:
        yield url


@pytest.fixture(scope="session")
def esco_loaded(database_url: str) -> object:
    from matcher.esco_import import load_esco

    return load_esco(database_url, [SHARED_DATA / "esco_en", SHARED_DATA / "esco_da"])


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_async_engine(async_url(database_url), pool_size=5)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A plain client for the tests' own local HTTP servers."""
    async with httpx.AsyncClient(timeout=1.0) as client:
        yield client


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back after the test."""
    async with engine.connect() as conn:
        trans = await conn.begin()
        sess = AsyncSession(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield sess
        finally:
            await sess.close()
            await trans.rollback()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """A real uvicorn server process on a free loopback port."""

    def __init__(
        self,
        database_url: str,
        workers: int = 1,
        env: dict[str, str] | None = None,
        log_level: str = "warning",
        stderr: Path | None = None,
    ):
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "JOTR_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self._workers = workers
        self._log_level = log_level
        # Where the server's stderr (its log) goes, for tests that read the log.
        self._stderr = stderr
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0, wait_for: str = "/readyz") -> None:
        """Start and wait until `wait_for` answers 200 (`/healthz` for a server
        that is expected not to be ready yet)."""
        # 90 s: two workers loading ESCO on a busy 2-core machine took 39 s.
        args = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
        args += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", self._log_level]
        if self._workers > 1:
            args += ["--workers", str(self._workers)]
        err = self._stderr.open("ab") if self._stderr is not None else None
        self.proc = subprocess.Popen(args, cwd=ROOT, env=self._env, stderr=err)
        if err is not None:
            err.close()  # the child has its own copy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.base_url}{wait_for}", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not become ready")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def server(database_url: str, esco_loaded: object) -> Iterator[ServerProcess]:
    srv = ServerProcess(database_url)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
async def client(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10.0) as c:
        yield c
