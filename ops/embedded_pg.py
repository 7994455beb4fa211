"""The local PostGIS cluster used when no DATABASE_URL is given.

`jotr db up` gives a laptop a working database with no setup beyond the
PostgreSQL and PostGIS packages: a private cluster in the jotr home directory,
listening on 127.0.0.1 only (never on a public interface, since it trusts every
local connection), on a port of its own so it never fights a system cluster.

PostgreSQL refuses to run as root. When we are root (containers, CI, a fresh
VM) the cluster runs as the `postgres` OS user that the distribution packages
create, and its data directory belongs to that user. Root's home (/root) is
private, so a root without an explicit JOTR_HOME keeps the cluster under
/var/lib/jotr/pg, where `postgres` can reach it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from matcher.settings import Settings

if TYPE_CHECKING:
    import psycopg

DB_NAME = "jotr"
SUPERUSER = "jotr"
SYSTEM_USER = "postgres"
ROOT_HOME = Path("/var/lib/jotr")
START_TIMEOUT_S = 60


class ClusterError(RuntimeError):
    """Something the user can fix; the message says how."""


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    data_dir: Path
    port: int
    url: str
    initialized: bool
    running: bool
    pid: int | None
    version: str | None
    log_file: Path

    def describe(self) -> str:
        if not self.initialized:
            state = "not initialised (run `jotr db up`)"
        elif self.running:
            state = f"running (pid {self.pid})"
        else:
            state = "stopped"
        lines = [
            f"embedded cluster: {state}",
            f"  data dir: {self.data_dir}",
            f"  url:      {self.url}",
            f"  log:      {self.log_file}",
        ]
        if self.version:
            lines.insert(2, f"  version:  PostgreSQL {self.version}")
        return "\n".join(lines)


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _has_server(bindir: Path) -> bool:
    return (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file()


def _major_of(bindir: Path) -> int:
    out = subprocess.run(
        [str(bindir / "pg_ctl"), "--version"], capture_output=True, text=True, check=False
    ).stdout
    m = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(m.group(1)) if m else 0


def find_bindir(prefer_major: int | None = None) -> Path:
    """Directory holding initdb/pg_ctl/postgres.

    `pg_config` comes first because it names the installation the user chose,
    but on Debian /usr/bin/pg_config belongs to libpq-dev and may name a major
    whose server is not installed, so every candidate must actually hold the
    server binaries. An existing data directory pins its major version: a
    cluster initialised by 15 cannot be started by 16.
    """
    candidates: list[Path] = []
    if prefer_major:
        candidates.append(Path(f"/usr/lib/postgresql/{prefer_major}/bin"))
        candidates.append(Path(f"/usr/pgsql-{prefer_major}/bin"))
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))

    def version_key(p: str) -> int:
        m = re.search(r"(\d+)", p)
        return int(m.group(1)) if m else 0

    for pattern in ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"):
        candidates += [Path(p) for p in sorted(glob.glob(pattern), key=version_key, reverse=True)]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)

    usable = [c for c in candidates if _has_server(c)]
    if prefer_major:
        for c in usable:
            if _major_of(c) == prefer_major:
                return c
        if usable:
            raise ClusterError(
                f"the embedded cluster was created by PostgreSQL {prefer_major}, whose server "
                f"binaries are not installed. Install postgresql-{prefer_major} (Debian/Ubuntu: "
                f"apt-get install postgresql-{prefer_major} postgresql-{prefer_major}-postgis-3)."
            )
    if usable:
        return usable[0]
    raise ClusterError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found. Install PostgreSQL and PostGIS "
        "(Debian/Ubuntu: apt-get install postgresql postgresql-15-postgis-3, using your "
        "PostgreSQL major version), or set DATABASE_URL to an existing PostGIS database."
    )


@dataclass(frozen=True, slots=True)
class EmbeddedCluster:
    data_dir: Path
    port: int
    host: str = "127.0.0.1"

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedCluster:
        home = settings.home
        if _as_root() and "home" not in settings.model_fields_set:
            home = ROOT_HOME
        return cls(data_dir=home / "pg", port=settings.embedded_port)

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{DB_NAME}"

    @property
    def log_file(self) -> Path:
        # Inside the data directory: it is the one place the server user can
        # always write, and removing the directory removes the log with it.
        return self.data_dir / "server.log"

    # --- lifecycle -------------------------------------------------------

    def start(self) -> ClusterStatus:
        """Initialise if needed, start if stopped, ensure the database and PostGIS.

        Safe to call any number of times.
        """
        bindir = find_bindir(self._data_major())
        if not self.initialized:
            self._initdb(bindir)
        if not self._running(bindir):
            self._start(bindir)
        elif (port := self._pid_field(3)) != self.port:
            raise ClusterError(
                f"the embedded cluster is already running on port {port}, not {self.port}; "
                "stop it with `jotr db down` (same JOTR_HOME) or set JOTR_EMBEDDED_PORT to match"
            )
        self._ensure_database()
        return self.status()

    def stop(self) -> bool:
        """Stop the server; returns False if it was not running."""
        if not self.initialized:
            return False
        bindir = find_bindir(self._data_major())
        if not self._running(bindir):
            return False
        res = self._pg_ctl(bindir, "stop", "-m", "fast", "-w", "-t", str(START_TIMEOUT_S))
        if res.returncode != 0:
            raise ClusterError(f"pg_ctl stop failed: {res.stderr.strip() or res.stdout.strip()}")
        return True

    def status(self) -> ClusterStatus:
        initialized = self.initialized
        running = False
        pid: int | None = None
        version = str(self._data_major()) if initialized else None
        if initialized:
            running = self._running(find_bindir(self._data_major()))
            if running:
                pid = self._pid_field(0)
        return ClusterStatus(
            data_dir=self.data_dir,
            port=self.port,
            url=self.url,
            initialized=initialized,
            running=running,
            pid=pid,
            version=version,
            log_file=self.log_file,
        )

    # --- internals -------------------------------------------------------

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def _data_major(self) -> int | None:
        try:
            text = (self.data_dir / "PG_VERSION").read_text().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def _pid_field(self, line: int) -> int | None:
        """A number from postmaster.pid (line 0: pid, 3: port)."""
        try:
            text = (self.data_dir / "postmaster.pid").read_text().splitlines()[line].strip()
        except (OSError, IndexError):
            return None
        return int(text) if text.isdigit() else None

    def _run(self, args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        if _as_root():
            if shutil.which("runuser") is None:
                raise ClusterError("as root, PostgreSQL is started with `runuser` (util-linux)")
            args = ["runuser", "-u", SYSTEM_USER, "--", *args]
        # cwd=/ because the server user may not be allowed into our cwd (e.g. /root).
        return subprocess.run(
            args,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            cwd="/",
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
        )

    def _pg_ctl(self, bindir: Path, action: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run([str(bindir / "pg_ctl"), action, "-D", str(self.data_dir), *args])

    def _running(self, bindir: Path) -> bool:
        return self._pg_ctl(bindir, "status").returncode == 0

    def _prepare_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        if not _as_root():
            return
        try:
            import pwd

            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise ClusterError(
                f"running as root, the embedded cluster must run as the `{SYSTEM_USER}` OS user, "
                "which does not exist. Install the PostgreSQL server package (it creates the "
                "user), or run jotr as an ordinary user."
            ) from None
        os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        probe = self._run(["test", "-x", str(self.data_dir)])
        if probe.returncode != 0:
            raise ClusterError(
                f"the `{SYSTEM_USER}` OS user cannot reach {self.data_dir} (a parent directory is "
                f"private). Set JOTR_HOME to a directory it can reach, e.g. JOTR_HOME={ROOT_HOME}."
            )

    def _initdb(self, bindir: Path) -> None:
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise ClusterError(
                f"{self.data_dir} exists but is not a PostgreSQL data directory; "
                "move it away or set JOTR_HOME elsewhere"
            )
        self._prepare_dir()
        res = self._run([
            str(bindir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
            "--auth-local=trust", "--auth-host=trust", "--encoding=UTF8", "--locale=C",
        ])  # fmt: skip
        if res.returncode != 0:
            raise ClusterError(f"initdb failed:\n{res.stderr.strip() or res.stdout.strip()}")
        # Settings that must hold on every start, in the file initdb made. Unix
        # sockets are off: the default directory (/var/run/postgresql) is not
        # ours to use, and a socket path inside a deep data dir can exceed the
        # 107-byte limit. We only ever connect over TCP on loopback.
        conf = self.data_dir / "postgresql.conf"
        extra = (
            "\n# jotr embedded cluster\n"
            f"listen_addresses = '{self.host}'\n"
            "unix_socket_directories = ''\n"
            "logging_collector = off\n"
        )
        # Appended as the server user: the file must stay theirs.
        res = self._run(["sh", "-c", 'cat >> "$0"', str(conf)], stdin=extra)
        if res.returncode != 0:
            raise ClusterError(f"could not write {conf}: {res.stderr.strip()}")

    def _start(self, bindir: Path) -> None:
        # The port goes on the command line rather than in postgresql.conf, so
        # changing JOTR_EMBEDDED_PORT takes effect on the next start.
        res = self._pg_ctl(
            bindir, "start", "-l", str(self.log_file), "-w", "-t", str(START_TIMEOUT_S),
            "-o", f"-p {self.port}",
        )  # fmt: skip
        if res.returncode != 0:
            raise ClusterError(self._start_failure(res))

    def _start_failure(self, res: subprocess.CompletedProcess[str]) -> str:
        log = ""
        with contextlib.suppress(OSError):
            log = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-15:])
        hint = ""
        if "Address already in use" in log or "could not bind" in log:
            hint = (
                f"\nPort {self.port} on {self.host} is taken by another program; "
                "set JOTR_EMBEDDED_PORT to a free port."
            )
        detail = res.stderr.strip() or res.stdout.strip()
        return f"the embedded cluster did not start: {detail}\n{log}{hint}".rstrip()

    def _connect(self, dbname: str) -> psycopg.Connection[tuple[object, ...]]:
        import psycopg  # only here: keeps `jotr db status` and `--help` quick

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=SUPERUSER,
            dbname=dbname,
            autocommit=True,
            connect_timeout=10,
        )

    def _ensure_database(self) -> None:
        from psycopg import sql

        with self._connect("postgres") as conn:
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)
            ).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
            major = conn.info.server_version // 10000
        with self._connect(DB_NAME) as conn:
            if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
                return
            available = conn.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
            ).fetchone()
            if not available:
                raise ClusterError(
                    f"PostGIS is not installed for PostgreSQL {major}. Install it "
                    f"(Debian/Ubuntu: apt-get install postgresql-{major}-postgis-3; "
                    f"macOS/Homebrew: brew install postgis), then run `jotr db up` again."
                )
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def resolve_database_url(settings: Settings | None = None) -> str:
    """`DATABASE_URL`, or else the embedded cluster's URL (the demo's default).
    Entry points call this; the domain only ever sees a URL."""
    from matcher.settings import get_settings

    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    return EmbeddedCluster.from_settings(settings).url
