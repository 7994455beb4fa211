"""Readiness (`/readyz`) as a list of checks, and picking up a new ESCO import
without a restart.

A worker is ready when the database answers with PostGIS, its schema is at the
migrations' head (the code and the tables agree), and the ESCO vocabulary is in
memory. Each check is a small async function returning a `Check`; add one to
`CHECKS` to make readiness depend on something more.

ESCO is loaded into the database by `jotr esco load`, possibly while servers
run (a fresh install starts them before the import finishes). Each worker
compares a fingerprint of the ESCO tables with the one it loaded, every
`JOTR_ESCO_CHECK_S` seconds and on every `/readyz` (in the background); when it differs, it loads
the taxonomy and the autocomplete index again and swaps them in together.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matcher.db import make_engine, make_sessionmaker
from matcher.esco.autocomplete import Autocomplete
from matcher.esco.taxonomy import Taxonomy
from matcher.settings import Settings
from push.bus import readiness_problem

log = logging.getLogger("jotr.readiness")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


CheckFn = Callable[[Any], Awaitable[Check]]  # takes app.state


# --- the schema's head -----------------------------------------------------------


@lru_cache(maxsize=1)
def migrations_head() -> str | None:
    """The head revision of the migration scripts shipped with this code, or
    None when they are not next to the package (then only "a revision" is checked).
    Looked up like `jotr migrate` does: next to the `api` package, then ./alembic."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    for candidate in (Path(__file__).resolve().parents[1] / "alembic", Path.cwd() / "alembic"):
        if (candidate / "env.py").is_file():
            cfg = Config()
            cfg.set_main_option("script_location", str(candidate))
            return ScriptDirectory.from_config(cfg).get_current_head()
    log.warning("migration scripts not found; readiness checks only that a schema exists")
    return None


# --- ESCO in memory ----------------------------------------------------------------

# What changes when ESCO is (re)imported: the concept tables' row counts and the
# newest transaction that wrote a concept (an import that adds, retires or
# relabels one), plus PostgreSQL's count of rows written to any ESCO table (links
# and labels too; it is not transactional and a stats reset changes it, which
# only costs one needless reload). ~5 ms on the full ESCO (14.5k skills, 3.7k
# occupations), where counting the 128k links and 71k labels would take ~30 ms.
FINGERPRINT_SQL = text(
    """
    SELECT (SELECT count(*) FROM skills),
           (SELECT count(*) FROM occupations),
           (SELECT coalesce(max(xmin::text::bigint), 0) FROM skills),
           (SELECT coalesce(max(xmin::text::bigint), 0) FROM occupations),
           (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)
              FROM pg_stat_user_tables
             WHERE relname IN ('skills', 'occupations', 'skill_broader', 'skill_relations',
                               'occupation_skills', 'concept_labels'))
    """
)


async def esco_fingerprint(session: AsyncSession) -> tuple[int, ...]:
    row = (await session.execute(FINGERPRINT_SQL)).one()
    return tuple(int(v) for v in row)


Vocabulary = tuple[tuple[int, ...], Taxonomy, Autocomplete]


async def _read_vocabulary(sessionmaker: async_sessionmaker[AsyncSession]) -> Vocabulary:
    async with sessionmaker() as session:
        fingerprint = await esco_fingerprint(session)
        taxonomy = await Taxonomy.load(session)
        autocomplete = await Autocomplete.load(session)
    return fingerprint, taxonomy, autocomplete


def _read_in_thread(settings: Settings) -> Vocabulary:
    """Build the vocabulary on a thread with its own loop and connection, so the
    worker's loop keeps answering requests and pushes meanwhile (building is
    seconds of CPU; on the loop it would stall them all)."""

    async def read() -> Vocabulary:
        engine = make_engine(settings=settings)
        try:
            return await _read_vocabulary(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(read())


async def load_vocabulary(state: Any, off_loop: bool = False) -> None:
    """Load taxonomy and autocomplete from the database and swap them in.

    The swap is one synchronous block (no await between the assignments), so no
    request on this event loop sees a new taxonomy with an old index.
    """
    if off_loop:
        found = await asyncio.to_thread(_read_in_thread, state.settings)
    else:  # at start-up, when nothing else runs yet
        found = await _read_vocabulary(state.sessionmaker)
    fingerprint, taxonomy, autocomplete = found
    state.taxonomy = taxonomy
    state.autocomplete = autocomplete
    state.esco_fingerprint = fingerprint
    hub = getattr(state, "hub", None)
    if hub is not None:
        hub.taxonomy = taxonomy
    # The extractor is built from ESCO on first use; the next use builds it anew.
    state.extractor = None


async def refresh_vocabulary(state: Any) -> bool:
    """Reload when the ESCO tables changed since this worker loaded them; True if it did.
    One refresh at a time per worker (the lock), however many probes ask."""
    lock: asyncio.Lock = state.vocabulary_lock
    async with lock:
        async with state.sessionmaker() as session:
            current = await esco_fingerprint(session)
        if current == state.esco_fingerprint:
            return False
        await load_vocabulary(state, off_loop=True)
        # Keep the long-lived index out of full collections, as at start-up
        # (api/app.py); unfreeze first so the old one can be freed.
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        log.info("ESCO reloaded", extra={"skills": state.taxonomy.n_slots})
        return True


async def _refresh_logged(state: Any) -> None:
    try:
        await refresh_vocabulary(state)
    except Exception:
        log.exception("checking for a new ESCO import failed")


async def watch_vocabulary(state: Any, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        await _refresh_logged(state)


def refresh_in_background(state: Any) -> None:
    """Look for a new import without holding up the caller (a probe must answer
    quickly; a reload takes seconds). One such task at a time."""
    task: asyncio.Task[None] | None = getattr(state, "vocabulary_task", None)
    if task is None or task.done():
        state.vocabulary_task = asyncio.create_task(_refresh_logged(state))


# --- the checks ----------------------------------------------------------------------


async def check_database(state: Any) -> Check:
    async with state.sessionmaker() as session:
        postgis = await session.scalar(text("SELECT postgis_lib_version()"))
    return Check("database", True, f"PostGIS {postgis}")


async def check_schema(state: Any) -> Check:
    async with state.sessionmaker() as session:
        version = await session.scalar(text("SELECT max(version_num) FROM alembic_version"))
    head = migrations_head()
    if version is None:
        return Check("schema", False, "not migrated: run `jotr migrate`")
    if head is not None and version != head:
        return Check("schema", False, f"at {version}, this code needs {head}: run `jotr migrate`")
    return Check("schema", True, version)


async def check_esco(state: Any) -> Check:
    # A reload swaps in the new vocabulary when done; until then the old one
    # serves, and a worker that had none stays not ready.
    refresh_in_background(state)
    if state.taxonomy.n_slots <= 1:  # no skill ids at all
        return Check("esco", False, "ESCO not loaded: run `jotr esco load`")
    return Check("esco", True, f"{state.esco_fingerprint[0]} skills")


async def check_bus(state: Any) -> Check:
    # The push bus of this worker: not ready once its listener has been down for
    # longer than the grace period (a reconnect is tolerated; catch-up covers it).
    problem = readiness_problem(state.bus.status(), state.settings.push_bus_grace_s)
    return Check("bus", problem is None, problem or f"{state.settings.push_bus} listening")


async def check_replica(state: Any) -> Check:
    # The replica of open vacancies (matcher/matching/replica.py) serves matches and push:
    # a worker whose replica is not loaded, or has not caught up with the
    # database for `replica_stale_s`, would answer from stale data.
    replica = state.replica
    if not replica.loaded:
        return Check("replica", False, "open vacancies not loaded yet")
    age = replica.sync_age_s()
    if age > state.settings.replica_stale_s:
        return Check("replica", False, f"not synced for {age:.0f} s")
    return Check("replica", True, f"{len(replica)} open vacancies, synced {age:.1f} s ago")


CHECKS: list[CheckFn] = [check_database, check_schema, check_esco, check_bus, check_replica]


async def run_checks(state: Any, checks: list[CheckFn] | None = None) -> list[Check]:
    """Every check in order; one that raises fails with the exception's type (no
    internals), and the checks after a failed database check are not run."""
    out: list[Check] = []
    for fn in checks if checks is not None else CHECKS:
        name = fn.__name__.removeprefix("check_")
        try:
            out.append(await fn(state))
        except Exception as exc:
            out.append(Check(name, False, f"failed: {type(exc).__name__}"))
            if name == "database":
                break
    return out
