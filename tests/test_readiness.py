"""Readiness tells the truth: not ready without ESCO or off the migrations' head,
and a `jotr esco load` into a running server's database is picked up without a
restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from api.readiness import migrations_head
from matcher.esco.esco_import import load_esco
from tests.conftest import ServerProcess, _libpq, migrated_database


def _wait_for(url: str, want: int, deadline_s: float) -> httpx.Response:
    deadline = time.monotonic() + deadline_s
    while True:
        r = httpx.get(url, timeout=5.0)
        if r.status_code == want or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


@pytest.fixture(scope="module")
def bare() -> Iterator[tuple[str, ServerProcess]]:
    """A migrated database without ESCO, and a server on it (checking every 60 s
    on its own, so only /readyz's own check can make it ready within the test)."""
    with migrated_database("jotr_ready") as url:
        srv = ServerProcess(url, env={"JOTR_ESCO_CHECK_S": "60"})
        srv.start(wait_for="/healthz")
        try:
            yield url, srv
        finally:
            srv.stop()


def _checks(r: httpx.Response) -> dict[str, Any]:
    return {d["check"]: d for d in r.json()["error"]["details"]}


def test_not_ready_without_esco_then_ready_after_loading_it(
    bare: tuple[str, ServerProcess],
) -> None:
    url, srv = bare
    r = httpx.get(f"{srv.base_url}/readyz")
    assert r.status_code == 503 and r.headers["retry-after"]
    assert r.json()["error"]["code"] == "not_ready"
    checks = _checks(r)
    assert checks["database"]["ok"] and checks["schema"]["ok"]
    assert not checks["esco"]["ok"] and "jotr esco load" in checks["esco"]["detail"]
    assert httpx.get(f"{srv.base_url}/v1/skills", params={"q": "kaffe"}).json()["items"] == []

    load_esco(url)  # the bundled subset, as `jotr esco load` does
    # Measured: 6 s on 2 shared cores at load average 11 (the vocabulary is
    # built on a thread while the worker keeps answering).
    r = _wait_for(f"{srv.base_url}/readyz", 200, 30.0)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready" and body["esco_skills_loaded"] is True
    assert body["schema_revision"] == migrations_head()
    found = httpx.get(f"{srv.base_url}/v1/occupations", params={"q": "barista", "lang": "en"})
    assert found.status_code == 200
    assert found.json()["items"][0]["label"] == "barista"


def test_not_ready_when_the_schema_is_not_at_head(bare: tuple[str, ServerProcess]) -> None:
    url, srv = bare
    head = migrations_head()
    assert head is not None
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
        try:
            r = httpx.get(f"{srv.base_url}/readyz")
            assert r.status_code == 503
            schema = _checks(r)["schema"]
            assert not schema["ok"] and head in schema["detail"] and "0001" in schema["detail"]
        finally:
            conn.execute("UPDATE alembic_version SET version_num = %s", (head,))
    # Back at head: the schema check passes again (ESCO may or may not be loaded here).
    r = httpx.get(f"{srv.base_url}/readyz")
    assert r.status_code == 200 or _checks(r)["schema"]["ok"]
