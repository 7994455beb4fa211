"""The embedded cluster, for real: `jotr db up|status|down` in a private home.

One cluster per module (initdb takes a few seconds), on a port of its own so it
never meets a developer's demo cluster or the system one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from matcher.settings import Settings
from ops.embedded_pg import EmbeddedCluster, find_bindir

ROOT = Path(__file__).resolve().parents[1]
PORT = 54391


def jotr(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def cluster_env() -> Iterator[dict[str, str]]:
    # Not pytest's tmp_path: as root the server runs as `postgres`, which cannot
    # enter root's private pytest directory; a 0755 directory in /tmp it can.
    home = Path(tempfile.mkdtemp(prefix="jotr-pg-test-"))
    home.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JOTR_DATABASE_URL")}
    env.update(JOTR_HOME=str(home), JOTR_EMBEDDED_PORT=str(PORT), NO_COLOR="1")
    try:
        yield env
    finally:
        jotr(env, "db", "down")
        shutil.rmtree(home, ignore_errors=True)


def test_from_settings_uses_home_and_port(tmp_path: Path) -> None:
    cluster = EmbeddedCluster.from_settings(Settings(home=tmp_path, embedded_port=54000))
    assert cluster.data_dir == tmp_path / "pg"
    assert cluster.url == "postgresql://jotr@127.0.0.1:54000/jotr"


def test_finds_server_binaries() -> None:
    bindir = find_bindir()
    assert (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file()


def test_up_status_down(cluster_env: dict[str, str]) -> None:
    url = f"postgresql://jotr@127.0.0.1:{PORT}/jotr"

    before = jotr(cluster_env, "db", "status")
    assert before.returncode == 3, before.stderr
    assert "not initialised" in before.stdout

    up = jotr(cluster_env, "db", "up")
    assert up.returncode == 0, up.stderr
    assert "running" in up.stdout and url in up.stdout

    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT PostGIS_Version()").fetchone()
        # Trust auth is only safe because nothing but loopback can connect.
        listen = conn.execute("SELECT current_setting('listen_addresses')").fetchone()
        assert listen == ("127.0.0.1",)
        point = conn.execute(
            "SELECT ST_Distance('POINT(10.2039 56.1535)'::geography, "
            "'POINT(10.2039 56.1635)'::geography)"
        ).fetchone()
        assert point is not None and 1100 < point[0] < 1120  # 0.01 degree of latitude

    again = jotr(cluster_env, "db", "up")  # idempotent: same server, no error
    assert again.returncode == 0, again.stderr
    assert _pid(up.stdout) == _pid(again.stdout)

    other_port = jotr({**cluster_env, "JOTR_EMBEDDED_PORT": str(PORT + 1)}, "db", "up")
    assert other_port.returncode == 1
    assert f"already running on port {PORT}" in other_port.stderr

    status = jotr(cluster_env, "db", "status")
    assert status.returncode == 0 and "running" in status.stdout

    down = jotr(cluster_env, "db", "down")
    assert down.returncode == 0 and "stopped" in down.stdout
    stopped = jotr(cluster_env, "db", "status")
    assert stopped.returncode == 3 and "stopped" in stopped.stdout
    assert "was not running" in jotr(cluster_env, "db", "down").stdout

    # Without the cluster, database commands say what to do instead of a traceback.
    migrate = jotr(cluster_env, "migrate")
    assert migrate.returncode == 1
    assert "jotr db up" in migrate.stderr and "Traceback" not in migrate.stderr

    # The data survives a restart.
    assert jotr(cluster_env, "db", "up").returncode == 0
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT extname FROM pg_extension WHERE extname = 'postgis'").fetchone()


def _pid(text: str) -> str:
    return text.split("(pid ", 1)[1].split(")", 1)[0]
