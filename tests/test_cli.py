"""The `jotr` command line against real databases.

Commands run in-process through Typer's runner (a subprocess costs a second of
imports per call on a small machine); one test starts the real command, and
tests/test_embedded_pg.py drives `jotr db` as subprocesses.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory
from typer.testing import CliRunner, Result

from api.cli import app
from matcher.people.tokens import Principal, hash_secret, kind_of, new_secret
from matcher.settings import get_settings
from tests.conftest import _libpq, alembic_config, create_database, drop_database

ROOT = Path(__file__).resolve().parents[1]
UNREACHABLE = "postgresql://nobody@127.0.0.1:1/nothing"


def jotr(database_url: str, *args: str) -> Result:
    get_settings.cache_clear()  # settings are read once per process, and env changes here
    try:
        result = CliRunner().invoke(app, list(args), env={"DATABASE_URL": database_url})
    finally:
        get_settings.cache_clear()
    # Expected failures end in SystemExit; anything else would be a traceback for the user.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture
def fresh_db() -> Iterator[str]:
    name = f"jotr_cli_{uuid.uuid4().hex[:10]}"
    url = create_database(name)
    try:
        yield url
    finally:
        drop_database(name)


def test_the_real_command_starts() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "api.cli", "--help"],
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    for command in ("db", "migrate", "esco", "seed", "consultant", "serve", "demo"):
        assert command in out.stdout


def test_migrate_a_fresh_database(fresh_db: str) -> None:
    head = ScriptDirectory.from_config(alembic_config(fresh_db)).get_current_head()

    first = jotr(fresh_db, "migrate")
    assert first.exit_code == 0, first.stderr
    assert f"migrated from empty to {head}" in first.stdout
    with psycopg.connect(_libpq(fresh_db)) as conn:
        assert conn.execute("SELECT to_regclass('vacancies')").fetchone() == ("vacancies",)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (head,)

    second = jotr(fresh_db, "migrate")
    assert second.exit_code == 0 and "up to date" in second.stdout

    # Migrated but without ESCO: seeding explains what is missing.
    seeded = jotr(fresh_db, "seed", "--demo")
    assert seeded.exit_code == 1
    assert "jotr esco load" in seeded.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("migrate",),
        ("esco", "load"),
        ("seed", "--demo"),
        ("consultant", "create", "--name", "Ida"),
        ("serve", "--port", "8999"),
    ],
)
def test_unreachable_database_is_one_clear_line(args: tuple[str, ...]) -> None:
    out = jotr(UNREACHABLE, *args)
    assert out.exit_code == 1
    assert "cannot connect" in out.stderr and "DATABASE_URL" in out.stderr


def test_expected_mistakes_exit_non_zero(database_url: str) -> None:
    missing = jotr(database_url, "esco", "load", "/no/such/esco")
    assert missing.exit_code == 1 and "no such directory" in missing.stderr
    no_flag = jotr(database_url, "seed")
    assert no_flag.exit_code == 1 and "--demo" in no_flag.stderr


def test_consultant_create_prints_id_and_token_once(database_url: str) -> None:
    email = f"ida.{uuid.uuid4().hex[:8]}@aarhus.example"
    out = jotr(database_url, "consultant", "create", "--name", "Ida Holm", "--email", email)
    assert out.exit_code == 0, out.stderr
    values = dict(line.split(":", 1) for line in out.stdout.splitlines() if ":" in line)
    consultant_id = uuid.UUID(values["consultant id"].strip())
    token = values["token"].strip()
    assert kind_of(token) == Principal.CONSULTANT

    with psycopg.connect(_libpq(database_url)) as conn:
        row = conn.execute(
            "SELECT name, email, token_hash FROM consultants WHERE id = %s", (consultant_id,)
        ).fetchone()
    assert row is not None
    assert row[:2] == ("Ida Holm", email)
    assert bytes(row[2]) == hash_secret(token)  # only the hash is stored

    again = jotr(database_url, "consultant", "create", "--name", "Ida Holm", "--email", email)
    assert again.exit_code == 1 and "already exists" in again.stderr


def _new_consultant(conn: psycopg.Connection[tuple[object, ...]]) -> uuid.UUID:
    consultant_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO consultants (id, name, token_hash) VALUES (%s, 'Test Konsulent', %s)",
        (consultant_id, new_secret(Principal.CONSULTANT)[1]),
    )
    return consultant_id


def _new_jobseeker(conn: psycopg.Connection[tuple[object, ...]]) -> uuid.UUID:
    seeker_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO jobseekers (id, birth_date) VALUES (%s, %s)",
        (seeker_id, dt.date(2009, 5, 1)),
    )
    return seeker_id


def test_consultant_assign(database_url: str) -> None:
    with psycopg.connect(_libpq(database_url)) as conn:
        consultant_id = _new_consultant(conn)
        seeker_id = _new_jobseeker(conn)
    unknown = uuid.uuid4()

    no_consultant = jotr(database_url, "consultant", "assign", str(unknown), str(seeker_id))
    assert no_consultant.exit_code == 1
    assert f"no consultant with id {unknown}" in no_consultant.stderr
    no_seeker = jotr(database_url, "consultant", "assign", str(consultant_id), str(unknown))
    assert no_seeker.exit_code == 1
    assert f"no jobseeker with id {unknown}" in no_seeker.stderr
    not_a_uuid = jotr(database_url, "consultant", "assign", "mette", str(seeker_id))
    assert not_a_uuid.exit_code == 2  # a usage error, reported by the CLI parser

    for _ in range(2):  # assigning twice is harmless
        ok = jotr(database_url, "consultant", "assign", str(consultant_id), str(seeker_id))
        assert ok.exit_code == 0, ok.stderr
    with psycopg.connect(_libpq(database_url)) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM caseload WHERE consultant_id = %s AND jobseeker_id = %s",
            (consultant_id, seeker_id),
        ).fetchone()
    assert rows == (1,)
