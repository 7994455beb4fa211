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
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from alembic.config import Config
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.async_api import Browser, BrowserContext, async_playwright
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from alembic import command
from matcher.db import async_url, sync_url
from tests.browser import launch
from tests.run_logs import SERVER_DATABASES, SERVER_LOG_DIR, server_log_leaks

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
    from matcher.esco.esco_import import load_esco

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


# --- server logs of the whole run, checked for leaks at the end -----------------
# (The state lives in tests/run_logs.py: this file is imported twice, as `conftest`
# by pytest and as `tests.conftest` by the tests, and both must share one registry.)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = server_log_leaks()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if leaks:
        if reporter is not None:
            reporter.write_line(f"SERVER LOGS LEAK SECRETS OR PERSONAL DATA ({SERVER_LOG_DIR}):")
            for name, hits in leaks.items():
                reporter.write_line(f"  {name}: {len(hits)} kinds, e.g. {hits[0][:12]}...")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif reporter is not None and any(SERVER_LOG_DIR.glob("*.log")):
        reporter.write_line(f"server logs (checked, no secrets or test data): {SERVER_LOG_DIR}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The suite signs up hundreds of people and tries many wrong tokens from one
# address (127.0.0.1) against one long-lived server, which the real limits would
# rightly stop. Servers of the suite therefore get these (limits stay on, in
# Redis); tests/test_limits_and_logs.py proves every limit with the defaults.
SUITE_LIMITS = {
    "JOTR_RATE_LIMIT_SIGNUP": "100000/minute",
    "JOTR_RATE_LIMIT_EMPLOYER_SIGNUP": "100000/minute",
    "JOTR_RATE_LIMIT_EXTRACT": "100000/minute",
    "JOTR_RATE_LIMIT_VACANCY_WRITES": "100000/minute",
    "JOTR_RATE_LIMIT_AUTH_FAILURES": "100000/minute",
}


# Webhook delivery, the same for every server of the suite, as production nodes share
# one configuration: every server on the test database runs a dispatcher, and whichever
# claims a delivery applies its own schedule (tests/test_integrations.py counts on this
# one: six quick retries, about 5.5 s, then the dead letter).
SUITE_WEBHOOKS = {
    "JOTR_WEBHOOK_BACKOFF_S": "0.5,1,1,1,1,1",
    "JOTR_WEBHOOK_POLL_S": "0.1",
    "JOTR_WEBHOOK_TIMEOUT_S": "2",
    "JOTR_WEBHOOK_HTTP_ALLOW": "http://127.0.0.1:",
}

# One VAPID key for every server of the suite, as production has one for every node:
# servers on one database all hear a vacancy, and whichever records the match first
# sends its Web Push, so they must sign with the same key (tests/test_webpush.py).
# Derived from a fixed number, not generated: pytest may import this file twice (as
# `conftest` and as `tests.conftest`), and both copies must hold the same key.
SUITE_VAPID_KEY = ec.derive_private_key(0x6A6F74725F74657374735F7661706964, ec.SECP256R1())
SUITE_VAPID_PEM = SUITE_VAPID_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()


class ServerProcess:
    """A real uvicorn server process on a free loopback port."""

    def __init__(
        self,
        database_url: str,
        workers: int = 1,
        env: dict[str, str] | None = None,
        log_level: str = "warning",
        stderr: Path | None = None,
        cli: bool = False,
    ):
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        SERVER_DATABASES[self.base_url] = database_url
        self._env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "JOTR_LOG_LEVEL": "WARNING",
            # Rate-limit counters of this server alone: runs share one Redis.
            "JOTR_RATE_LIMIT_KEY_PREFIX": f"jotr-test-{uuid.uuid4().hex[:12]}",
            **SUITE_LIMITS,
            "JOTR_VAPID_PRIVATE_KEY": SUITE_VAPID_PEM,
            **SUITE_WEBHOOKS,
            **(env or {}),
        }
        self._workers = workers
        self._log_level = log_level
        # Where the server's stderr (its log) also goes, for tests that read the log.
        self._stderr = stderr
        self._cli = cli  # through `jotr serve` (its uvicorn options) instead of bare uvicorn
        self.log_path = SERVER_LOG_DIR / f"server-{self.port}-{uuid.uuid4().hex[:6]}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._pump: threading.Thread | None = None

    def start(self, timeout: float = 180.0, wait_for: str = "/readyz") -> None:
        """Start and wait until `wait_for` answers 200 (`/healthz` for a server
        that is expected not to be ready yet)."""
        # 90 s: two workers loading ESCO on a busy 2-core machine took 39 s.
        if self._cli:
            args = [sys.executable, "-c", "from api.cli import app; app()", "serve"]
            args += ["--host", "127.0.0.1", "--port", str(self.port)]
        else:
            args = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
            args += ["--host", "127.0.0.1", "--port", str(self.port)]
            args += ["--log-level", self._log_level]
        if self._workers > 1:
            args += ["--workers", str(self._workers)]
        self.proc = subprocess.Popen(args, cwd=ROOT, env=self._env, stderr=subprocess.PIPE)
        self._pump = threading.Thread(target=self._tee, args=(self.proc,), daemon=True)
        self._pump.start()
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

    def _tee(self, proc: subprocess.Popen[bytes]) -> None:
        """Copy the server's stderr, as it comes, to the run's log file and to the
        test's `stderr` file if it asked for one, else to our stderr."""
        assert proc.stderr is not None
        with contextlib.ExitStack() as files:
            log = files.enter_context(self.log_path.open("ab"))
            own = files.enter_context(self._stderr.open("ab")) if self._stderr else None
            for line in iter(proc.stderr.readline, b""):
                log.write(line)
                log.flush()
                if own is not None:
                    own.write(line)
                    own.flush()
                else:
                    with contextlib.suppress(OSError):
                        os.write(2, line)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._pump is not None:
            self._pump.join(timeout=5)


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


# --- browsers (Debian's Chromium; tests/browser.py) ----------------------------------


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium per test module."""
    async with async_playwright() as pw:
        b = await launch(pw)
        yield b
        await b.close()


@pytest.fixture
async def contexts(browser: Browser) -> AsyncIterator[list[BrowserContext]]:
    """Contexts a test opens; all closed after it (their websockets with them)."""
    opened: list[BrowserContext] = []
    yield opened
    for c in opened:
        await c.close()
