"""Webhooks: subscriptions, Standard Webhooks signing, and the dispatcher.

Each delivery (event x subscription) is a row written with the event
(matcher/integrations/integration_events.py). Every server worker runs one dispatcher; they
share the work through `FOR UPDATE SKIP LOCKED`: a worker claims due rows by
moving their `next_attempt_at` a lease ahead and committing, then sends without
holding a transaction. A worker that dies mid-send leaves rows that come due
again when the lease runs out, so a delivery is made at least once (receivers
deduplicate by `webhook-id`). A failed attempt waits the next step of the
backoff schedule (`JOTR_WEBHOOK_BACKOFF_S`, over 24 h in all by default);
after the last step the delivery is dead-lettered, visible to the integration
and replayable.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matcher.errors import Conflict, Invalid, NotFound
from matcher.integrations import integration_events
from matcher.models import WebhookSubscription

log = logging.getLogger("jotr.webhooks")

DELIVERIES = Counter(
    "jotr_webhook_deliveries_total",
    "Webhook attempts by result (delivered, failed = will retry, dead = dead-lettered).",
    ["result"],
)
ATTEMPT_SECONDS = Histogram(
    "jotr_webhook_attempt_seconds",
    "One webhook request, until the receiver answered or failed.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OUTBOX_LAG = Gauge(
    "jotr_webhook_outbox_lag_seconds",
    "How long the oldest due webhook delivery has been waiting.",
    multiprocess_mode="max",
)

CONTENT_TYPE = "application/cloudevents+json"


# --- signing (https://www.standardwebhooks.com) ---------------------------------


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by the
    secret's base64 part."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": CONTENT_TYPE,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


# --- subscriptions ---------------------------------------------------------------


def check_url(url: str, http_allowed: str) -> str:
    """Only https to a public host; plain http only below a prefix of
    `JOTR_WEBHOOK_HTTP_ALLOW` (local receivers in tests and development).
    Names are not resolved here: see docs/integrations.md on SSRF."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise Invalid("url is not a URL") from None
    allowed = [p.strip() for p in http_allowed.split(",") if p.strip()]
    if any(url.startswith(prefix) for prefix in allowed):
        return url
    if parts.scheme != "https" or not parts.hostname:
        raise Invalid("url must be https://")
    if parts.username or parts.password:
        raise Invalid("url must not carry credentials")
    host = parts.hostname
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise Invalid("url must point to a public host") from None
        return url
    if not address.is_global:
        raise Invalid("url must point to a public host")
    return url


async def subscribe(
    session: AsyncSession, integration_id: uuid.UUID, url: str, types: list[str]
) -> WebhookSubscription:
    unknown = sorted(set(types) - set(integration_events.TYPES))
    if unknown:
        raise Invalid(f"unknown event types: {', '.join(unknown)}")
    sub = WebhookSubscription(
        id=uuid.uuid4(),
        integration_id=integration_id,
        url=url,
        secret=new_secret(),
        types=sorted(set(types)),
    )
    session.add(sub)
    await session.flush()
    await session.refresh(sub)
    return sub


async def subscriptions(
    session: AsyncSession, integration_id: uuid.UUID
) -> list[WebhookSubscription]:
    rows = await session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.integration_id == integration_id)
        .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    )
    return list(rows)


async def unsubscribe(
    session: AsyncSession, integration_id: uuid.UUID, subscription_id: uuid.UUID
) -> None:
    """Delete a subscription of this integration (404 otherwise); its deliveries,
    pending or not, go with it."""
    result = await session.execute(
        delete(WebhookSubscription).where(
            WebhookSubscription.id == subscription_id,
            WebhookSubscription.integration_id == integration_id,
        )
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound("webhook not found")


@dataclass(frozen=True, slots=True)
class DeliveryInfo:
    id: int
    event_id: int
    event_type: str
    subscription_id: uuid.UUID
    attempts: int
    status: str  # pending | delivered | dead
    next_attempt_at: dt.datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: dt.datetime | None
    dead_at: dt.datetime | None


_DELIVERIES_SQL = """
SELECT d.id, d.event_id, e.type AS event_type, d.subscription_id, d.attempts,
       CASE WHEN d.delivered_at IS NOT NULL THEN 'delivered'
            WHEN d.dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END AS status,
       CASE WHEN d.delivered_at IS NULL AND d.dead_at IS NULL
            THEN d.next_attempt_at END AS next_attempt_at,
       d.last_status, d.last_error, d.delivered_at, d.dead_at
FROM webhook_deliveries d
JOIN webhook_subscriptions s ON s.id = d.subscription_id
JOIN integration_events e ON e.id = d.event_id
WHERE s.integration_id = :integration_id
  AND (CAST(:status AS text) IS NULL
       OR (:status = 'dead' AND d.dead_at IS NOT NULL)
       OR (:status = 'delivered' AND d.delivered_at IS NOT NULL)
       OR (:status = 'pending' AND d.delivered_at IS NULL AND d.dead_at IS NULL))
  AND (CAST(:event_id AS bigint) IS NULL OR d.event_id = :event_id)
ORDER BY d.id DESC
LIMIT :limit
"""


async def deliveries(
    session: AsyncSession,
    integration_id: uuid.UUID,
    status: str | None,
    limit: int,
    event_id: int | None = None,
) -> list[DeliveryInfo]:
    rows = await session.execute(
        text(_DELIVERIES_SQL),
        {"integration_id": integration_id, "status": status, "limit": limit, "event_id": event_id},
    )
    return [DeliveryInfo(**r._mapping) for r in rows]


_REPLAY_SQL = """
UPDATE webhook_deliveries d
SET attempts = 0, next_attempt_at = now(), delivered_at = NULL, dead_at = NULL,
    last_error = NULL, last_status = NULL
FROM webhook_subscriptions s, integration_events e
WHERE s.id = d.subscription_id AND e.id = d.event_id
  AND s.integration_id = :integration_id AND {which}
RETURNING d.id
"""

# A person's event is replayed only while they still share with this municipality.
_STILL_SHARED_SQL = """
SELECT e.jobseeker_id IS NULL OR EXISTS (
    SELECT 1 FROM caseload cl JOIN consultants c ON c.id = cl.consultant_id
    JOIN jobseekers j ON j.id = cl.jobseeker_id
    WHERE j.id = e.jobseeker_id AND j.share_with_municipality
      AND c.municipality = :municipality)
FROM integration_events e WHERE e.id = :event_id
"""


async def replay(
    session: AsyncSession,
    integration_id: uuid.UUID,
    municipality: str,
    delivery_id: int | None = None,
    event_id: int | None = None,
) -> list[int]:
    """Send again (from attempt one) a delivery, or every delivery of an event to
    this integration's subscriptions. 404 if it has none; 409 if the event is
    about a person who no longer shares with this municipality."""
    if delivery_id is not None:
        found = await session.scalar(
            text(
                "SELECT d.event_id FROM webhook_deliveries d JOIN webhook_subscriptions s"
                " ON s.id = d.subscription_id WHERE d.id = :id AND s.integration_id = :iid"
            ),
            {"id": delivery_id, "iid": integration_id},
        )
        if found is None:
            raise NotFound("delivery not found")
        event_id = int(found)
    shared = await session.scalar(
        text(_STILL_SHARED_SQL), {"event_id": event_id, "municipality": municipality}
    )
    if shared is None:
        raise NotFound("event not found")
    if not shared:
        raise Conflict("the person no longer shares with your municipality")
    which = "d.id = :target" if delivery_id is not None else "d.event_id = :target"
    rows = await session.execute(
        text(_REPLAY_SQL.format(which=which)),
        {"integration_id": integration_id, "target": delivery_id or event_id},
    )
    ids = [int(r[0]) for r in rows]
    if not ids:
        raise NotFound("no delivery of this event to your webhooks")
    return ids


# --- the dispatcher -----------------------------------------------------------------


def parse_schedule(value: str) -> list[float]:
    """`JOTR_WEBHOOK_BACKOFF_S`: seconds to wait after each failed attempt."""
    steps = [float(s) for s in value.split(",") if s.strip()]
    if not steps or any(s <= 0 for s in steps):
        raise ValueError("webhook backoff needs at least one positive number of seconds")
    return steps


_CLAIM_SQL = """
WITH pick AS (
    SELECT id FROM webhook_deliveries
    WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
    ORDER BY next_attempt_at, id
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => :lease)
FROM pick, integration_events e, webhook_subscriptions s
WHERE d.id = pick.id AND e.id = d.event_id AND s.id = d.subscription_id
RETURNING d.id, d.attempts, e.id AS event_id, e.type, e.subject, e.data, e.occurred_at,
          s.url, s.secret
"""

_DONE_SQL = """
UPDATE webhook_deliveries
SET delivered_at = now(), last_status = :status, last_error = NULL
WHERE id = :id AND delivered_at IS NULL AND dead_at IS NULL
"""

_FAILED_SQL = """
UPDATE webhook_deliveries
SET last_status = :status, last_error = :error,
    next_attempt_at = now() + make_interval(secs => :wait),
    dead_at = CASE WHEN :dead THEN now() END
WHERE id = :id AND delivered_at IS NULL AND dead_at IS NULL
"""

_LAG_SQL = """
SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(next_attempt_at)), 0)
FROM webhook_deliveries
WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
"""


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery_id: int
    attempts: int
    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Dispatcher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        source: str,
        schedule: list[float],
        timeout_s: float,
        batch: int = 50,
        poll_s: float = 1.0,
    ):
        self._sessionmaker = sessionmaker
        self._source = source
        self._schedule = schedule
        self._timeout_s = timeout_s
        self._batch = batch
        self._poll_s = poll_s
        # Longer than any request can take, so a live worker's claim never expires.
        self._lease_s = timeout_s + 30.0
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            follow_redirects=False,  # a redirect is a failure, never a new target
            headers={"user-agent": "jotr-webhooks/1"},
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def run_forever(self) -> None:
        next_lag = 0.0
        while True:
            try:
                sent = await self.run_once()
                if time.monotonic() >= next_lag:
                    await self._measure_lag()
                    next_lag = time.monotonic() + 15.0
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook dispatch failed")
                sent = 0
            if sent < self._batch:  # a full batch: there may be more due right away
                await asyncio.sleep(self._poll_s)

    async def run_once(self) -> int:
        """Claim due deliveries, send them, record what happened; how many."""
        async with self._sessionmaker() as session:
            claimed = list(
                (
                    await session.execute(
                        text(_CLAIM_SQL), {"batch": self._batch, "lease": self._lease_s}
                    )
                ).mappings()
            )
            await session.commit()
        if not claimed:
            return 0
        outcomes = await asyncio.gather(*(self._send(row) for row in claimed))
        async with self._sessionmaker() as session:
            for outcome in outcomes:
                await self._record(session, outcome)
            await session.commit()
        return len(claimed)

    async def _send(self, row: Any) -> Outcome:
        data = row["data"]
        envelope = integration_events.cloudevent(
            self._source,
            row["event_id"],
            row["type"],
            row["subject"],
            row["occurred_at"],
            orjson.loads(data) if isinstance(data, str | bytes) else data,
        )
        body = orjson.dumps(envelope)
        msg_id = envelope["id"]
        started = time.perf_counter()
        try:
            response = await self._client.post(
                row["url"],
                content=body,
                headers=headers(row["secret"], msg_id, int(time.time()), body),
            )
            status, error = response.status_code, None if response.is_success else "http status"
        except httpx.HTTPError as exc:
            status, error = None, type(exc).__name__
        finally:
            ATTEMPT_SECONDS.observe(time.perf_counter() - started)
        return Outcome(row["id"], int(row["attempts"]), status, error)

    async def _record(self, session: AsyncSession, outcome: Outcome) -> None:
        if outcome.ok:
            DELIVERIES.labels("delivered").inc()
            await session.execute(
                text(_DONE_SQL), {"id": outcome.delivery_id, "status": outcome.status}
            )
            return
        dead = outcome.attempts > len(self._schedule)
        wait = 0.0 if dead else self._schedule[outcome.attempts - 1]
        DELIVERIES.labels("dead" if dead else "failed").inc()
        await session.execute(
            text(_FAILED_SQL),
            {
                "id": outcome.delivery_id,
                "status": outcome.status,
                "error": outcome.error,
                "wait": wait,
                "dead": dead,
            },
        )

    async def _measure_lag(self) -> None:
        async with self._sessionmaker() as session:
            OUTBOX_LAG.set(float(await session.scalar(text(_LAG_SQL)) or 0.0))
