"""The FastAPI application factory (served as `api.app:create_app`, factory=True)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.engine import make_url

from api import contract, errors, ratelimit, readiness, retention
from api.cors import PublicCORS, parse_origins
from api.observability import ObservabilityMiddleware, configure_logging
from api.routers import (
    account,
    caseload_links,
    consultants,
    employers,
    extract,
    feedback,
    health,
    insights,
    integrations,
    interest,
    jobseekers,
    push,
    rights,
    taxonomy,
    trust,
    vacancies,
    web,
    webpush,
)
from api.timeouts import BodyTimeoutMiddleware
from matcher.db import make_engine, make_sessionmaker
from matcher.esco import youth_vocab
from matcher.integrations import webhooks
from matcher.matching import ranking
from matcher.matching.replica import VacancyReplica
from matcher.posting.unit_of_work import UnitOfWork
from matcher.settings import Settings, get_settings
from ml.serving import load_active_ranker, models_dir
from ops.embedded_pg import resolve_database_url
from push import offline, write_side
from push.bus import Bus, PgBus, RedisBus
from push.hub import PushHub

log = logging.getLogger("jotr.app")

ATTRIBUTION = (
    "This service uses the ESCO classification of the European Commission. "
    "Postcode coordinates © countries-states-cities-database, ODbL 1.0."
)

DESCRIPTION = f"""
Job On the Run matches young jobseekers with nearby vacancies.

* **Employers** register with `POST /v1/employers` and send `Authorization: Bearer <api_key>`.
* **Jobseekers** register with `POST /v1/jobseekers` and send `Authorization: Bearer <token>`.
* **Consultants** are created by an operator (`jotr consultant create`).
* **Integrations** (a municipality's case system) are created by an operator
  (`jotr integration create`); they read `GET /v1/events` and subscribe webhooks.

Coordinates are WGS84; requests take `{{"lat": …, "lon": …}}`, GeoJSON responses use
`[lon, lat]` (RFC 7946). Distances are metres on the WGS84 ellipsoid. Errors are
`{{"error": {{"code", "message", "details"}}}}`.

{ATTRIBUTION}
"""


def make_bus(settings: Settings) -> Bus:
    prefix, backoff, ping = (
        settings.bus_prefix,
        settings.push_bus_backoff_max_s,
        settings.push_bus_ping_s,
    )
    if settings.push_bus == "redis":
        return RedisBus(settings.redis_url, prefix, backoff, ping)
    if not settings.database_url:  # make_engine says the same, earlier in start-up
        raise RuntimeError("no database URL for the bus: set DATABASE_URL")
    url = make_url(settings.database_url).set(drivername="postgresql")
    return PgBus(url.render_as_string(hide_password=False), prefix, backoff, ping)


async def _expire_positions(hub: PushHub, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await hub.expire_positions()
        except Exception:
            log.exception("expiring positions failed")


# Python's default is (700, 10, 10); see the comment where it is set.
GC_THRESHOLDS = (50_000, 20, 100)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = make_engine(settings=settings)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    async with app.state.sessionmaker() as session:
        # Our easy-Danish skill labels ship with the code: bring the database's
        # copy up to date before the taxonomy and autocomplete read it.
        await youth_vocab.sync_async(session)  # commits
    app.state.vocabulary_lock = asyncio.Lock()
    await readiness.load_vocabulary(app.state)
    # Read the migration scripts' head now, not in the first readiness probe.
    await asyncio.to_thread(readiness.migrations_head)
    # The promoted learned ranker, or the hand-set one if none loads (logged why).
    ranking.set_active(load_active_ranker(models_dir(settings.home)))
    # The open vacancies in memory (matcher/matching/replica.py): loaded before the first
    # request when the database allows (else the sync loop keeps trying and
    # /readyz says why), then kept current by the doorbell and a timer. Before the
    # freeze below: its ids are long-lived objects too.
    app.state.replica = VacancyReplica(app.state.sessionmaker)
    try:
        await app.state.replica.load()
    except Exception:
        log.exception("loading the replica of open vacancies failed; retrying in the background")
    # Hundreds of thousands of long-lived taxonomy and index objects would be
    # walked by every full garbage collection, which then lands in the middle of
    # a request (measured: nearby-match p99 at 5 km 129 -> 63 ms). Freeze them.
    gc.collect()
    gc.freeze()
    # Thousands of push connections hold many small objects, so each full
    # collection pauses the worker for hundreds of milliseconds. Collecting less
    # often (reference counting frees almost everything anyway) took the push
    # benchmark's update p99 at 10-80 updates/s from 400-550 ms to 80-130 ms.
    gc.set_threshold(*GC_THRESHOLDS)
    replica_sync = asyncio.create_task(app.state.replica.sync_forever(settings.replica_sync_s))
    app.state.bus = make_bus(settings)
    app.state.hub = PushHub(app.state.sessionmaker, app.state.taxonomy, settings, app.state.bus)
    app.state.hub.replica = app.state.hub.areas.replica = app.state.replica
    # The bus rings `ring`; one consumer drains it; catch-up heals what it misses.
    # Alerts by Web Push to people whose app is closed (push/offline.py).
    app.state.offline, app.state.vapid_public_key = await offline.start(app.state.hub)
    app.state.offline.replica = app.state.replica
    consumer = asyncio.create_task(app.state.hub.consume())
    catch_up = asyncio.create_task(app.state.hub.catch_up_forever())
    await app.state.bus.start(app.state.hub.ring, app.state.hub.on_bus_connect)
    # Every request's transaction (api/deps.py): withdrawals in it, the hub
    # rung after it commits (matcher/posting/unit_of_work.py).
    app.state.uow = UnitOfWork(
        app.state.sessionmaker, [write_side.PushWriteHooks(app.state.hub.announce)]
    )
    # Every sixth of the TTL: positions go within the TTL (PushHub.expire_positions).
    sweeper = asyncio.create_task(_expire_positions(app.state.hub, settings.position_ttl_s / 6))
    positions = asyncio.create_task(app.state.hub.write_positions())
    presence = asyncio.create_task(app.state.hub.keep_presence())
    # Accounts unused for JOTR_INACTIVE_DELETE_AFTER_DAYS go (docs/privacy.md).
    inactive = asyncio.create_task(
        retention.sweep_forever(
            app.state.sessionmaker,
            settings.inactive_delete_after_days,
            settings.inactive_sweep_every_s,
        )
    )
    # A `jotr esco load` into this database is picked up without a restart.
    vocabulary = asyncio.create_task(readiness.watch_vocabulary(app.state, settings.esco_check_s))
    # Webhooks from the outbox; every worker runs one, they share via SKIP LOCKED.
    dispatcher = webhooks.Dispatcher(
        app.state.sessionmaker,
        settings.events_source,
        webhooks.parse_schedule(settings.webhook_backoff_s),
        settings.webhook_timeout_s,
        settings.webhook_batch,
        settings.webhook_poll_s,
    )
    dispatching = asyncio.create_task(dispatcher.run_forever())
    log.info("started", extra={"skills": app.state.taxonomy.n_slots, "bus": settings.push_bus})
    try:
        yield
    finally:
        sweeper.cancel()
        replica_sync.cancel()
        positions.cancel()
        presence.cancel()
        inactive.cancel()
        consumer.cancel()
        catch_up.cancel()
        vocabulary.cancel()
        await app.state.offline.sender.stop()
        dispatching.cancel()
        await dispatcher.close()
        await app.state.hub.flush_positions()
        await app.state.bus.close()
        await engine.dispose()
        ranking.set_active(None)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if not settings.database_url:  # the demo's default: the embedded cluster
        settings = settings.model_copy(update={"database_url": resolve_database_url(settings)})
    configure_logging(settings.log_level, settings.log_json)
    app = FastAPI(
        title="Job On the Run",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=contract.operation_id,
    )
    app.state.settings = settings
    errors.install(app)
    if settings.test_faults:
        errors.install_test_faults(app)
    ratelimit.install(app, settings)
    contract.install(app)
    # Inside the observability middleware, so its 408s are counted and logged.
    app.add_middleware(BodyTimeoutMiddleware, timeout_s=settings.body_timeout_s)
    origins = parse_origins(settings.cors_origins)
    if origins:  # inside the observability middleware, so preflights are counted too
        app.add_middleware(PublicCORS, origins=origins)
    app.add_middleware(ObservabilityMiddleware, max_body_bytes=settings.max_body_bytes)
    for module in (
        health,
        employers,
        vacancies,
        jobseekers,
        account,
        consultants,
        push,
        taxonomy,
        extract,
        feedback,
        insights,
        trust,
        integrations,
        caseload_links,
        interest,
        rights,
        web,
        webpush,
    ):
        app.include_router(module.router)
    return app
