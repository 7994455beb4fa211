"""Configuration, read once from the environment (12-factor).

Every knob has a safe default so `jotr serve` works on a laptop; production sets
`DATABASE_URL` and friends. Names are prefixed `JOTR_` except the conventional
`DATABASE_URL` and `REDIS_URL`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "jotr"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOTR_", extra="ignore")

    # None means "use the embedded local cluster" (see ops/embedded_pg.py).
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "JOTR_DATABASE_URL")
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "JOTR_REDIS_URL"),
    )
    home: Path = Field(default_factory=_default_home)
    embedded_port: int = 54329

    # Push bursts need more than 10 at once per worker; connections above the pool
    # are opened and closed per use (measured: ~30 opened per benchmark step at 10).
    db_pool_size: int = 20
    db_max_overflow: int = 10

    # Public nearby search and match radius limits (metres). Above 50 km the
    # "jobs near me" idea stops making sense and the query gets expensive.
    max_radius_m: float = 50_000.0

    max_body_bytes: int = 64 * 1024
    # Sent with a 503 while the database is out of reach: when to try again (seconds).
    retry_after_s: int = 5

    # Origins (comma-separated, `*` for any) whose web pages may call the public
    # read endpoints (nearby search, a vacancy, autocompletes); empty: none.
    cors_origins: str = ""
    # How often each worker checks whether ESCO was (re)loaded into the database
    # (`jotr esco load` on a running server), seconds; /readyz checks too.
    esco_check_s: float = 30.0

    # Realtime push (docs/push-protocol.md).
    push_bus: Literal["postgres", "redis"] = "postgres"
    # The bus heals itself (push/bus.py, docs/operations.md): channel names start
    # with this prefix, so environments sharing one Redis never hear each other.
    bus_prefix: str = Field(default="jotr", pattern=r"^[A-Za-z0-9_]{1,40}$")
    push_bus_ping_s: float = 5.0  # a listener not answering a ping this often is lost
    push_bus_backoff_max_s: float = 0.5  # reconnect attempts back off up to this (plus jitter)
    push_bus_grace_s: float = 10.0  # /readyz fails once the bus has been down this long
    push_catchup_s: float = 5.0  # read missed changes from the database at least this often
    # The replica of open vacancies (matcher/matching/replica.py) reads the changes it has
    # not seen at least this often, besides on every bus doorbell: a lost NOTIFY
    # delays a new vacancy by at most this long.
    replica_sync_s: float = Field(default=1.0, gt=0)
    # /readyz fails while the replica is not loaded or has not synced for this long.
    replica_stale_s: float = Field(default=30.0, gt=0)
    push_bus_queue: int = 1000  # bus messages waiting per worker; beyond, drop (catch-up heals)
    # A consumer batch is what queued while the last was handled (scored and
    # recorded together, push/hub.py `consume`), at most push_batch_max; a
    # positive push_batch_ms also lingers that long after the first message.
    push_batch_ms: float = Field(default=0.0, ge=0)
    push_batch_max: int = Field(default=256, ge=1)
    push_per_minute: int = 6  # at most this many pushes a minute per connection
    # ...refilled over this many seconds; more wait (best first) for the refill.
    push_allowance_window_s: float = Field(default=60.0, gt=0)
    push_move_threshold_m: float = 25.0  # moves shorter than this do no work
    push_walk_in_m: float = 300.0  # walk-in places are announced within this distance
    push_outbox: int = 256  # frames queued per connection before it counts as a laggard
    push_bad_messages: int = 10  # this many bad frames within 10 s closes the connection
    # A position is erased within this many seconds of its last refresh; a live
    # connection refreshes it every push_presence_refresh_s (at most a third of it).
    position_ttl_s: float = 60.0
    # The stored position (for REST matches, reach counts) is rewritten after
    # this much movement or time; push itself works from the connection's own.
    position_write_m: float = 100.0
    position_write_s: float = 60.0
    # Websocket hardening (docs/push-protocol.md, "Limits").
    push_max_connections: int = 5  # open websockets per person, over all workers and nodes
    push_auth_timeout_s: float = 5.0  # a browser's auth frame must arrive within this
    push_presence_refresh_s: float = 20.0  # live connections refresh presence and position
    push_device_days: int = 90  # a device unseen this long is forgotten (its acks)
    push_frames_per_s: float = 10.0  # inbound frames per connection, refilled continuously
    push_frame_burst: int = 20
    push_flood_s: float = 5.0  # dropping frames for about this long closes with 1008
    # permessage-deflate on websockets (server-wide; the push socket is the only one);
    # off, match frames travel uncompressed (docs/push-protocol.md, "Compression").
    push_deflate: bool = True
    # Keep the compression context between messages (uvicorn's own setting): ~28 % of
    # the bytes instead of ~46 %, for ~50 KiB of zlib state per connection, idle or
    # not. Off (the default), each message is compressed alone and an idle
    # connection holds no zlib state (api/push_socket.py has the figures).
    push_deflate_context: bool = False
    # An idle push connection lets its seeker's occupation fit go (~57 KiB at full ESCO)
    # after a sweep without reading it; a vacancy scored for them later computes it
    # again (~150 us a person: CPU against memory, push/session.py `shed`).
    push_shed_fits: bool = True
    # Retention (docs/privacy.md, "Retention"): accounts unused this long are deleted
    # by the sweeper, which each worker runs this often (one at a time, advisory lock).
    inactive_delete_after_days: int = Field(default=365, ge=30)
    inactive_sweep_every_s: float = Field(default=3600.0, gt=0)

    # Web Push, alerts while the app is closed (push/webpush.py, docs/operations.md).
    # The VAPID private key: PEM or base64url raw. Unset: one is made in `home` on
    # first start and kept (fine for one node; several nodes must share one key).
    vapid_private_key: str | None = None
    vapid_subject: str = "mailto:drift@localhost"  # who push services may contact
    webpush_workers: int = 4  # sending threads per worker process
    webpush_queue: int = 1000  # pushes waiting per worker; beyond, dropped (counted)
    webpush_timeout_s: float = 10.0  # per request to a push service
    webpush_ttl_s: int = 6 * 3600  # how long a push service keeps an undelivered alert
    # Test only: accept http://127.0.0.1 endpoints (a local push service). Never in production.
    webpush_allow_loopback_http: bool = False

    # Geocoding (matcher/location/geocode.py). Unset: offline only (postcode centroids).
    geocoder_url: str | None = None  # a DAWA-style address API, e.g. https://api.dataforsyningen.dk
    geocode_cache_ttl_days: int = 90
    # The Jobnet change feed (docs/jobnet-feed.md) that `jotr import jobnet` reads.
    jobnet_feed_url: str | None = None
    # Jobnet's search JSON (`jotr import jobnet --source search`): the base path the
    # public site's own page calls (FindJob/Search, FindJob/JobAdDetails).
    jobnet_search_url: str = "https://jobnet.dk/bff"
    jobnet_requests_per_second: float = 2.0  # every request, details and retries included
    jobnet_sweep_every_runs: int = 24  # a full sweep after this many runs ...
    jobnet_sweep_every_hours: float = 24.0  # ... or this long since the last one
    # Who is asking, in the User-Agent, so the site's operators can reach us.
    jobnet_contact_url: str = ""

    # Employer trust (docs/security.md): a cvrapi.dk-style CVR register that verifies
    # new employers automatically when it finds the CVR active under the same name
    # (matcher/posting/cvr_register.py); empty: off, every employer waits for a person.
    cvr_register_url: str | None = None
    # A vacancy reported by this many different people is hidden until reviewed.
    reports_hide_at: int = Field(default=3, ge=1)

    # The web app's map tiles (an XYZ URL template); empty: no tiles, pins on a plain map.
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_tile_attribution: str = "© OpenStreetMap contributors"

    # Integrations: case systems' events (docs/integrations.md).
    municipality: str = Field(default="0751", pattern=r"^\d{4}$")  # new consultants' kommunekode
    events_source: str = "urn:jotr"  # CloudEvents `source` of every event
    # Seconds to wait after each failed webhook attempt; after the last, dead-lettered
    # (the default adds up to about 34 h of retrying).
    webhook_backoff_s: str = "5,30,120,600,3600,10800,21600,43200,43200"
    webhook_timeout_s: float = 10.0  # one webhook request, connect included
    webhook_poll_s: float = 1.0  # each worker looks for due deliveries this often
    webhook_batch: int = 50  # deliveries claimed and sent at once per worker
    # URL prefixes that may be plain http (comma-separated), e.g. http://127.0.0.1:
    # for local receivers in tests and development. Never in production.
    webhook_http_allow: str = ""
    invite_days: int = 14  # a consultant's invite code works this long, once

    # Test only: adds /_test/fault, a route that raises (api/errors.py). Never set in production.
    test_faults: bool = False

    # Abuse limits (api/ratelimit.py; the table is in docs/operations.md). Each is
    # "N/period" items separated by ";" (https://limits.readthedocs.io notation).
    # Per client IP unless said otherwise; sized so a school class signing up behind
    # one NAT address in the same few minutes stays well inside them.
    rate_limit_enabled: bool = True  # False for benchmarks only
    rate_limit_storage: Literal["redis", "memory"] = "redis"  # memory: per worker process
    rate_limit_key_prefix: str = "jotr-rl"  # Redis key prefix (several deployments, one Redis)
    rate_limit_signup: str = "30/minute;300/hour"  # POST /v1/jobseekers
    rate_limit_employer_signup: str = "10/minute;100/hour"  # POST /v1/employers
    rate_limit_extract: str = "60/minute;1000/hour"  # POST /v1/extract
    rate_limit_vacancy_writes: str = "120/minute;2000/hour"  # per employer: POST/PATCH/DELETE
    rate_limit_interest: str = "10/minute;30/day"  # per jobseeker: "Jeg er interesseret"
    # Failed bearer authentications: past any of these the IP's authentications get
    # 429 until the oldest failure ages out, so the lockout grows with persistence.
    rate_limit_auth_failures: str = "10/10 minutes;30/hour;100/day"
    # Peers whose X-Forwarded-For is believed (comma-separated IPs or CIDRs);
    # empty: the socket peer is the client. `jotr serve` hands this to uvicorn.
    trusted_proxies: str = ""
    # Passkeys (docs/security.md): the relying party id (the site's domain) and the
    # origins allowed to use it, comma-separated. Empty origins: http://localhost on
    # any port, for development only; production sets both.
    webauthn_rp_id: str = "localhost"
    webauthn_origins: str = ""
    webauthn_challenge_s: float = Field(default=300.0, gt=0)  # a ceremony must finish within

    # Slow or stuck clients (api/timeouts.py, `jotr serve`).
    header_timeout_s: float = 10.0  # request line + headers must arrive within this
    body_timeout_s: float = 30.0  # and the body within this of the request starting
    max_header_bytes: int = 16 * 1024  # request line + headers (h11 and httptools alike)
    keep_alive_s: int = 5  # idle keep-alive connections are closed after this
    # Connections + tasks per worker before uvicorn answers 503; push holds one
    # connection per connected app, so this sits well above the push benchmark's load.
    limit_concurrency: int = 10_000

    log_level: str = "INFO"
    log_json: bool = True


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
