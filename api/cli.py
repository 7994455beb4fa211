"""The `jotr` command line: run the service and look after its database.

Every command uses DATABASE_URL when it is set, and otherwise the embedded
cluster that `jotr db up` starts (ops/embedded_pg.py). Failures a user can
fix (database not running, directory missing, ESCO not loaded) print one line
saying what to do and exit with status 1; only bugs show a traceback.

Heavy imports live inside the commands, so `jotr --help` and `jotr db status`
answer at once.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import typer

from api.cli_common import CliError, database_url, friendly, redacted
from api.cli_courses import courses_app, load_sample
from api.cli_integrations import integration_app
from api.cli_ml import ml_app
from matcher.settings import get_settings
from ops.embedded_pg import EmbeddedCluster

app = typer.Typer(
    help="Job On the Run: geolocated job matching for young jobseekers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold tokens and passwords
)
db_app = typer.Typer(help="The embedded local PostGIS cluster (used without DATABASE_URL).")
esco_app = typer.Typer(help="The ESCO skills and occupations taxonomy.")
consultant_app = typer.Typer(help="Job consultants (jobkonsulenter) and their caseloads.")
app.add_typer(db_app, name="db", no_args_is_help=True)
app.add_typer(esco_app, name="esco", no_args_is_help=True)
crosswalk_app = typer.Typer(help="STAR (Jobnet) occupation URIs -> ESCO occupations.")
esco_app.add_typer(crosswalk_app, name="crosswalk", no_args_is_help=True)
app.add_typer(consultant_app, name="consultant", no_args_is_help=True)
employer_app = typer.Typer(help="Employers' API keys.")
app.add_typer(employer_app, name="employer", no_args_is_help=True)
import_app = typer.Typer(help="Import job ads from external feeds.")
app.add_typer(import_app, name="import", no_args_is_help=True)
app.add_typer(courses_app, name="courses", no_args_is_help=True)
app.add_typer(integration_app, name="integration", no_args_is_help=True)
app.add_typer(ml_app, name="ml", no_args_is_help=True)
jobseeker_app = typer.Typer(help="Jobseekers' signed-in devices (a lost phone).")
app.add_typer(jobseeker_app, name="jobseeker", no_args_is_help=True)
sweep_app = typer.Typer(help="Retention sweeps (docs/privacy.md).")
app.add_typer(sweep_app, name="sweep", no_args_is_help=True)


# --- db ----------------------------------------------------------------------


@db_app.command("up")
@friendly
def db_up() -> None:
    """Create (first time) and start the embedded cluster, with the database and PostGIS."""
    settings = get_settings()
    if settings.database_url:
        typer.secho(
            "note: DATABASE_URL is set, so the service uses that database, not this cluster.",
            err=True,
            fg=typer.colors.YELLOW,
        )
    typer.echo(EmbeddedCluster.from_settings(settings).start().describe())


@db_app.command("down")
@friendly
def db_down() -> None:
    """Stop the embedded cluster (data is kept)."""
    stopped = EmbeddedCluster.from_settings(get_settings()).stop()
    typer.echo("embedded cluster stopped" if stopped else "embedded cluster was not running")


@db_app.command("status")
@friendly
def db_status() -> None:
    """Show the embedded cluster's state; exit status 3 when it is not running."""
    status = EmbeddedCluster.from_settings(get_settings()).status()
    typer.echo(status.describe())
    if not status.running:
        raise typer.Exit(3)


# --- schema and data -----------------------------------------------------------


def _alembic_dir() -> Path:
    """Where the migrations are.

    Assumption: jotr runs from a source checkout (an editable install, or the
    Docker image, whose working directory holds the project). The migrations are
    looked up next to the installed `api` package first, then in the current
    directory, so a non-editable install works when run from the project root.
    """
    here = Path(__file__).resolve().parents[1] / "alembic"
    for candidate in (here, Path.cwd() / "alembic"):
        if (candidate / "env.py").is_file():
            return candidate
    raise CliError(
        "cannot find the Alembic migrations (alembic/env.py): run jotr from the project "
        "directory, or install it from a checkout with `pip install -e .`"
    )


def _migrate(url: str) -> None:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from alembic import command
    from matcher.db import sync_url

    directory = _alembic_dir()
    ini = directory.parent / "alembic.ini"
    cfg = Config(str(ini)) if ini.is_file() else Config()
    cfg.set_main_option("script_location", str(directory))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))

    def current() -> str | None:
        engine = create_engine(sync_url(url), poolclass=NullPool, hide_parameters=True)
        try:
            with engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision()
        finally:
            engine.dispose()

    head = ScriptDirectory.from_config(cfg).get_current_head()
    before = current()
    if before == head:
        typer.echo(f"database {redacted(url)} is up to date (revision {head})")
        return
    command.upgrade(cfg, "head")
    typer.echo(f"database {redacted(url)} migrated from {before or 'empty'} to {current()}")


@app.command()
@friendly
def migrate() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    _migrate(database_url())


def _esco_loaded(url: str) -> bool:
    import psycopg

    from ops.demo_seed import libpq_url

    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute("SELECT EXISTS (SELECT 1 FROM occupation_skills)").fetchone()
    return bool(row and row[0])


def _load_esco(url: str, directories: list[Path], if_missing: bool = False) -> None:
    from tqdm import tqdm

    from matcher.esco.esco_import import load_esco

    if if_missing and _esco_loaded(url):
        typer.echo("ESCO already loaded")
        return

    # disable=None: no bar when output is not a terminal (CI logs, compose).
    with tqdm(total=1, unit="step", desc="ESCO", leave=False, disable=None) as bar:

        def progress(stage: str, done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.set_description(f"ESCO: {stage}")
            bar.refresh()

        report = load_esco(url, directories, progress)
    typer.echo(
        f"ESCO loaded in {report.seconds:.1f} s: {report.occupations} occupations, "
        f"{report.skills} skills, {report.skill_groups} skill groups, "
        f"{report.occupation_skills} occupation-skill links, {report.labels} labels "
        f"({', '.join(report.languages) or 'no languages'})"
    )
    for title, counts in (
        ("inserted", report.inserted),
        ("updated", report.updated),
        ("removed", report.removed),
        ("skipped", report.skipped),
    ):
        if any(counts.values()):
            typer.echo(f"  {title}: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
    if report.disappeared:
        typer.echo(f"  {len(report.disappeared)} concepts are no longer in ESCO (kept, inactive)")


@esco_app.command("load")
@friendly
def esco_load(
    directories: list[Path] = typer.Argument(
        None, help="Directories with ESCO CSV files (default: the bundled ESCO data)."
    ),
    if_missing: bool = typer.Option(
        False, "--if-missing", help="Do nothing if ESCO is already loaded."
    ),
) -> None:
    """Import (or update) ESCO from the official CSV download."""
    from matcher.esco.esco_import import bundled_esco_dir

    dirs = list(directories or [bundled_esco_dir()])
    for d in dirs:
        if not d.is_dir():
            raise CliError(f"{d}: no such directory")
    _load_esco(database_url(), dirs, if_missing)


def _seed(url: str, vacancies: int, seed: int, replace: bool, if_missing: bool = False) -> None:
    from tqdm import tqdm

    from ops.demo_seed import count_demo_vacancies, seed_demo

    if if_missing and count_demo_vacancies(url):
        typer.echo("demo data already seeded")
        return

    bars: list[tqdm[Any]] = []  # created on first progress, after the preconditions passed

    def progress(stage: str, done: int, total: int) -> None:
        if not bars:
            bars.append(
                tqdm(total=total, unit="vacancy", desc="demo data", leave=False, disable=None)
            )
        bars[0].n = done
        bars[0].refresh()

    try:
        report = seed_demo(url, vacancies, seed, progress, replace=replace)
    finally:
        for bar in bars:
            bar.close()
    typer.echo("demo data seeded:")
    for line in report.lines():
        typer.echo(f"  {line}")


@app.command()
@friendly
def seed(
    demo: bool = typer.Option(False, "--demo", help="Seed Aarhus demo employers and vacancies."),
    vacancies: int = typer.Option(400, min=1, max=100_000, help="How many vacancies."),
    seed: int = typer.Option(7, help="Random seed (same seed, same data)."),
    replace: bool = typer.Option(False, "--replace", help="Remove earlier demo data first."),
    if_missing: bool = typer.Option(
        False, "--if-missing", help="Do nothing if demo data is already there."
    ),
) -> None:
    """Fill the database with demo data (needs ESCO loaded)."""
    if not demo:
        raise CliError("nothing to seed: pass --demo for the Aarhus demo data")
    _seed(database_url(), vacancies, seed, replace, if_missing)


# --- consultants ---------------------------------------------------------------


async def _create_consultant(
    url: str, name: str, email: str | None, municipality: str | None = None
) -> tuple[uuid.UUID, str]:
    from sqlalchemy.exc import IntegrityError

    from matcher.db import make_engine, make_sessionmaker
    from matcher.people import accounts

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            try:
                consultant, token = await accounts.create_consultant(
                    session, name, email, municipality=municipality or get_settings().municipality
                )
                await session.commit()
            except IntegrityError:
                raise CliError(f"a consultant with email {email} already exists") from None
            return consultant.id, token
    finally:
        await engine.dispose()


async def _assign(url: str, consultant_id: uuid.UUID, jobseeker_id: uuid.UUID) -> None:
    from matcher.db import make_engine, make_sessionmaker
    from matcher.models import Consultant, Jobseeker
    from matcher.people import caseload

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            if await session.get(Consultant, consultant_id) is None:
                raise CliError(f"no consultant with id {consultant_id}")
            if await session.get(Jobseeker, jobseeker_id) is None:
                raise CliError(f"no jobseeker with id {jobseeker_id}")
            await caseload.assign(session, consultant_id, jobseeker_id)
            await caseload.audit(
                session, "operator", OPERATOR_ID, "caseload.link", jobseeker_id,
                {"consultant_id": str(consultant_id), "via": "cli"},
            )  # fmt: skip
            await session.commit()
    finally:
        await engine.dispose()


@consultant_app.command("create")
@friendly
def consultant_create(
    name: str = typer.Option(..., help="The consultant's full name."),
    email: str | None = typer.Option(None, help="Work email (unique)."),
    municipality: str | None = typer.Option(
        None, help="Kommunekode of their jobcenter (default JOTR_MUNICIPALITY, 0751 Aarhus)."
    ),
) -> None:
    """Create a consultant and print their token (shown only this once)."""
    consultant_id, token = asyncio.run(
        _create_consultant(database_url(), name, email, municipality)
    )
    typer.echo(f"consultant id: {consultant_id}")
    typer.echo(f"token:         {token}")
    typer.secho("Store the token now: it is not shown again.", err=True, fg=typer.colors.YELLOW)


@consultant_app.command("assign")
@friendly
def consultant_assign(consultant_id: uuid.UUID, jobseeker_id: uuid.UUID) -> None:
    """Put a jobseeker on a consultant's caseload."""
    asyncio.run(_assign(database_url(), consultant_id, jobseeker_id))
    typer.echo(f"jobseeker {jobseeker_id} is on consultant {consultant_id}'s caseload")


# --- retention -----------------------------------------------------------------


async def _sweep_inactive(url: str, after_days: int) -> int | None:
    from api.retention import sweep_once
    from matcher.db import make_engine, make_sessionmaker

    engine = make_engine(url)
    try:
        return await sweep_once(make_sessionmaker(engine), after_days)
    finally:
        await engine.dispose()


@sweep_app.command("inactive")
@friendly
def sweep_inactive(
    days: int | None = typer.Option(
        None, min=30, help="Inactive for more than this many days (default: the setting)."
    ),
) -> None:
    """Delete accounts unused for JOTR_INACTIVE_DELETE_AFTER_DAYS (default 365) and
    everything about them; prints how many, never who."""
    after = days if days is not None else get_settings().inactive_delete_after_days
    deleted = asyncio.run(_sweep_inactive(database_url(), after))
    if deleted is None:
        raise CliError("another sweep is running; try again later")
    typer.echo(f"deleted {deleted} account(s) inactive for more than {after} days")


# --- employers -----------------------------------------------------------------

# Audit rows need an actor id; operators act through the CLI, not as an account.
OPERATOR_ID = uuid.UUID(int=0)


async def _revoke_employer_key(url: str, employer_id: uuid.UUID) -> str:
    from matcher.db import make_engine, make_sessionmaker
    from matcher.models import Employer
    from matcher.people import accounts, caseload

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            employer = await session.get(Employer, employer_id)
            if employer is None:
                raise CliError(f"no employer with id {employer_id}")
            key = await accounts.rotate_secret(session, employer)
            await caseload.audit(
                session,
                "operator",
                OPERATOR_ID,
                "api_key.revoke",
                employer.id,
                {"via": "cli"},
                subject_type="employer",
            )
            await session.commit()
            return key
    finally:
        await engine.dispose()


@employer_app.command("revoke-key")
@friendly
def employer_revoke_key(
    employer_id: uuid.UUID,
    reissue: bool = typer.Option(
        False, "--reissue", help="Print a new key for the employer (shown only this once)."
    ),
) -> None:
    """Revoke an employer's API key at once (audited); --reissue gives them a new one."""
    key = asyncio.run(_revoke_employer_key(database_url(), employer_id))
    typer.echo(f"employer {employer_id}: the old API key no longer works")
    if reissue:
        typer.echo(f"new API key:   {key}")
        typer.secho("Store the key now: it is not shown again.", err=True, fg=typer.colors.YELLOW)


# --- jobseekers -----------------------------------------------------------------


async def _revoke_seeker_devices(url: str, seeker_id: uuid.UUID) -> str:
    from matcher.db import make_engine, make_sessionmaker
    from matcher.models import Jobseeker
    from matcher.people import caseload, devices

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            if await session.get(Jobseeker, seeker_id) is None:
                raise CliError(f"no jobseeker with id {seeker_id}")
            _, token = await devices.revoke_all_and_issue(session, seeker_id)
            await caseload.audit(
                session, "operator", OPERATOR_ID, "jobseeker.devices.revoke", seeker_id,
                {"via": "cli"},
            )  # fmt: skip
            await session.commit()
            return token
    finally:
        await engine.dispose()


@jobseeker_app.command("revoke-devices")
@friendly
def jobseeker_revoke_devices(seeker_id: uuid.UUID) -> None:
    """Sign every device of a jobseeker out (a lost or leaked phone; audited) and
    print one new token for them. Their websockets close within one presence refresh."""
    token = asyncio.run(_revoke_seeker_devices(database_url(), seeker_id))
    typer.echo(f"jobseeker {seeker_id}: every device is signed out")
    typer.echo(f"new token:     {token}")
    typer.secho("Hand the token over now: it is not shown again.", err=True, fg=typer.colors.YELLOW)


async def _set_employer_status(url: str, employer_id: uuid.UUID, status: str) -> str:
    from api.app import make_bus
    from matcher.db import make_engine, make_sessionmaker
    from matcher.models import Employer
    from matcher.posting import employer_trust
    from matcher.posting.unit_of_work import UnitOfWork
    from push import write_side

    engine = make_engine(url)
    # Their open vacancies change who they reach: the running servers hear it
    # over the bus once this commits (matcher/posting/unit_of_work.py).
    bus = make_bus(get_settings())
    uow = UnitOfWork(make_sessionmaker(engine), [write_side.over_bus(bus)])
    try:
        async with uow.transaction() as session:
            employer = await session.get(Employer, employer_id, with_for_update=True)
            if employer is None:
                raise CliError(f"no employer with id {employer_id}")
            await employer_trust.set_status(
                session,
                employer,
                status,  # type: ignore[arg-type]
                "operator",
                OPERATOR_ID,
            )
            name = employer.name
        return name
    finally:
        await bus.close()
        await engine.dispose()


@employer_app.command("verify")
@friendly
def employer_verify(
    employer_id: uuid.UUID,
    reject: bool = typer.Option(
        False, "--reject", help="Mark the employer rejected instead (minors never see it)."
    ),
) -> None:
    """Verify an employer (audited): its vacancies may then reach people under 18."""
    status = "rejected" if reject else "verified"
    name = asyncio.run(_set_employer_status(database_url(), employer_id, status))
    typer.echo(f"employer {employer_id} ({name}): {status}")


# --- imports -------------------------------------------------------------------


@import_app.command("jobnet")
@friendly
def import_jobnet(
    source: str = typer.Option(
        "search",
        "--source",
        help="search: the JSON behind jobnet.dk's own search page (JOTR_JOBNET_SEARCH_URL); "
        "feed: a change feed in the format of docs/jobnet-feed.md (JOTR_JOBNET_FEED_URL).",
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", help="--source search: the base URL (default JOTR_JOBNET_SEARCH_URL)."
    ),
    sweep: bool = typer.Option(
        False, "--sweep", help="--source search: read the whole listing and close ads that left it."
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        help="--source feed: ISO date or date-time (Danish time without an offset) to start "
        "from. Used on the first import and with --reset; later runs resume from the stored "
        "position.",
    ),
    feed_url: str | None = typer.Option(
        None, "--feed-url", help="--source feed: the feed (default JOTR_JOBNET_FEED_URL)."
    ),
    page_size: int = typer.Option(100, "--page-size", min=1, max=1000, help="Ads per page."),
    reset: bool = typer.Option(
        False, "--reset", help="Forget the stored position and start again from the beginning."
    ),
) -> None:
    """Import new and changed job ads from Jobnet; rerun to resume or update.

    docs/jobnet-feed.md describes both sources, the mapping and the politeness settings.
    """
    from api.jobnet_import import echo_report, run_import

    settings = get_settings()
    if source == "search":
        url = base_url or settings.jobnet_search_url
        if not url.startswith(("http://", "https://")):
            raise CliError(f"--base-url {url!r} is not an http(s) URL")
        if feed_url or since:
            raise CliError("--feed-url and --since belong to --source feed")
        if not settings.jobnet_contact_url:
            typer.secho(
                "note: set JOTR_JOBNET_CONTACT_URL so Jobnet's operators can reach you"
                " (it goes in the User-Agent)",
                err=True,
            )
    elif source == "feed":
        url = feed_url or settings.jobnet_feed_url or ""
        if not url:
            raise CliError("no feed URL: pass --feed-url or set JOTR_JOBNET_FEED_URL")
        if reset and not since:
            raise CliError("--reset needs --since (where to start again)")
        if base_url or sweep:
            raise CliError("--base-url and --sweep belong to --source search")
    else:
        raise CliError(f"--source {source!r}: use search or feed")
    report, notes = asyncio.run(
        run_import(settings, database_url(), source, url, since, page_size, reset, sweep)
    )
    echo_report(report, notes)


@crosswalk_app.command("load")
@friendly
def esco_crosswalk_load(
    file: Path = typer.Argument(..., help="CSV with the header star_uri,esco_uri."),
) -> None:
    """Load a STAR -> ESCO occupation crosswalk (replaces the stored one)."""
    from api.jobnet_import import load_crosswalk_file

    try:
        data = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(f"{file} is not UTF-8 text") from None
    typer.echo(asyncio.run(load_crosswalk_file(database_url(), get_settings(), data)))


# --- running -------------------------------------------------------------------


def _serve(host: str, port: int, workers: int) -> None:
    import os
    import tempfile

    import uvicorn

    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Each worker counts on its own; a shared directory lets /metrics sum them.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="jotr-metrics-")
    from api.timeouts import uvicorn_options

    settings = get_settings()
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        # Slow clients, connection limits, proxies: api/timeouts.py.
        **uvicorn_options(settings),
    )


@app.command()
@friendly
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0: all)."),
    port: int = typer.Option(8000, min=1, max=65535),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Run the API server."""
    database_url()  # fail here, clearly, rather than in every worker's startup
    _serve(host, port, workers)


@app.command()
@friendly
def demo(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0: all)."),
    port: int = typer.Option(8000, min=1, max=65535),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
    vacancies: int = typer.Option(400, min=1, max=100_000, help="Demo vacancies to seed."),
) -> None:
    """Everything for a demo: database, schema, ESCO, demo data, then the server."""
    from matcher.esco.esco_import import bundled_esco_dir

    settings = get_settings()
    if not settings.database_url:
        typer.echo(EmbeddedCluster.from_settings(settings).start().describe())
    url = database_url()
    _migrate(url)
    _load_esco(url, [bundled_esco_dir()], if_missing=True)
    _seed(url, vacancies, 7, replace=False, if_missing=True)
    load_sample(url)  # the format sample of the course catalogue (not real courses)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    typer.secho(f"\nJob On the Run: http://{shown}:{port}/  (API docs at /docs)", bold=True)
    _serve(host, port, workers)


if __name__ == "__main__":
    app()
