"""The push hub of one worker process: its connections and what they are told.

Two geofences, each one indexed query where it is cheap (DESIGN.md):
- a seeker moves: open vacancies within their radius (matcher.matching);
- a vacancy appears: *connected* seekers (this worker's) whose last position is
  within their radius of it (the partial GiST index on `last_position`).

Deliveries are recorded (push/delivery.py) and committed before any frame is
queued, so what a phone was told is always in the database for resume.
Frames go into a bounded outbox per connection; nobody awaits a slow phone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections import defaultdict

import asyncpg
import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matcher import geo, matching
from matcher.events import VacancyEvent
from matcher.models import Jobseeker
from matcher.settings import Settings
from matcher.taxonomy import Taxonomy
from push import delivery, metrics
from push import protocol as p
from push.bus import Bus
from push.connection import Connection
from push.payloads import settings_view, vacancy_card
from push.rules import TokenBucket, haversine_m, in_quiet_hours, open_now

log = logging.getLogger("jotr.push")

# How many of the best matches one location update considers.
MATCHES_PER_UPDATE = 50


class PushHub:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        taxonomy: Taxonomy,
        settings: Settings,
        bus: Bus,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.taxonomy = taxonomy
        self.settings = settings
        self.bus = bus
        # Tells this worker's own doorbells from other workers'.
        self.origin = uuid.uuid4().hex[:12]
        self.connections: dict[uuid.UUID, set[Connection]] = defaultdict(set)

    # --- connections -------------------------------------------------------

    def open(self, seeker_id: uuid.UUID) -> Connection:
        conn = Connection(
            seeker_id=seeker_id,
            outbox=asyncio.Queue(maxsize=self.settings.push_outbox),
            bucket=TokenBucket(float(self.settings.push_per_minute)),
        )
        self.connections[seeker_id].add(conn)
        metrics.CONNECTIONS.inc()
        return conn

    async def close(self, conn: Connection) -> None:
        conn.closed = True
        metrics.CONNECTIONS.dec()
        peers = self.connections.get(conn.seeker_id)
        if peers is not None:
            peers.discard(conn)
            if not peers:
                del self.connections[conn.seeker_id]
                # The last connection is gone: so is the position (docs/privacy.md).
                await self._forget_position(conn.seeker_id)

    async def _forget_position(self, seeker_id: uuid.UUID) -> None:
        async with self.sessionmaker() as session, session.begin():
            raw = await geo.raw_connection(session)
            await raw.execute(
                "UPDATE jobseekers SET last_position = NULL, last_position_at = NULL WHERE id = $1",
                seeker_id,
            )

    def bad_frame(self, conn: Connection, now: float) -> bool:
        """Count a bad frame; True when the connection has sent too many."""
        conn.bad_frames = [t for t in conn.bad_frames if now - t < 10.0] + [now]
        return len(conn.bad_frames) >= self.settings.push_bad_messages

    async def hello(self, conn: Connection) -> bytes:
        async with self.sessionmaker() as session:
            seeker = await session.get(Jobseeker, conn.seeker_id)
            assert seeker is not None
            return p.encode(
                {"type": "hello", "protocol": p.VERSION, "last_seq": seeker.push_seq,
                 "settings": settings_view(seeker)}
            )  # fmt: skip

    # --- client messages ----------------------------------------------------

    async def on_location(self, conn: Connection, loc: p.Location) -> int:
        """Handle a position; returns how many matches were pushed."""
        started = time.perf_counter()
        if conn.last_point is not None:
            moved = haversine_m(*conn.last_point, loc.lat, loc.lon)
            if moved < self.settings.push_move_threshold_m:
                metrics.LOCATION_SKIPPED.inc()
                return 0
        conn.last_point = (loc.lat, loc.lon)
        now = dt.datetime.now(dt.UTC)
        async with self.sessionmaker() as session, session.begin():
            seeker = await session.get(Jobseeker, conn.seeker_id)
            if seeker is None:  # erased while connected
                conn.closed = True
                return 0
            raw = await geo.raw_connection(session)
            await raw.execute(SET_POSITION_SQL, seeker.id, loc.lon, loc.lat)
            if seeker.push_paused or in_quiet_hours(now, seeker.quiet_from, seeker.quiet_until):
                return 0
            room = conn.bucket.available(time.monotonic())
            if room < 1:
                return 0
            point = (loc.lat, loc.lon)
            chosen = await self._fresh_matches(session, raw, seeker, point, now, room)
            deliveries = await self._record_matches(raw, seeker.id, chosen)
        conn.bucket.take(len(deliveries))
        await self._send(conn.seeker_id, deliveries)
        metrics.LOCATION_SECONDS.observe(time.perf_counter() - started)
        metrics.PUSHES.labels("match").inc(len(deliveries))
        return len(deliveries)

    async def _fresh_matches(
        self,
        session: AsyncSession,
        raw: asyncpg.Connection,
        seeker: Jobseeker,
        point: tuple[float, float],
        now: dt.datetime,
        room: int,
    ) -> list[tuple[matching.Match, geo.NearbyVacancy, bool]]:
        """Up to `room` matches above the seeker's threshold never pushed before,
        best first.

        Walk-in places are held back until the seeker is within walking
        distance while they are open; then they are announced as walk-in-now,
        first. One geo query serves both: the candidates come nearest first, so
        the walk-in places within 300 m are always among them.
        """
        lat, lon = point
        scored = await matching.score_nearby(
            session, self.taxonomy, seeker, lat, lon, seeker.radius_m
        )
        batch = scored.batch
        good = scored.eligible & (scored.scores.total >= seeker.push_min_score)
        held_back = batch.walk_in & seeker.walk_in_interest
        held_back &= batch.distance_m > self.settings.push_walk_in_m
        rows = np.flatnonzero(good & ~held_back)
        if len(rows) == 0:
            return []
        # Walk-in places near by first, then the best scores.
        near_walk_in = batch.walk_in[rows] & seeker.walk_in_interest
        rows = rows[np.lexsort((-scored.scores.total[rows], ~near_walk_in))][:MATCHES_PER_UPDATE]
        ids = [batch.ids[int(r)] for r in rows]
        pushed = await delivery.already_pushed(raw, seeker.id, ids)  # type: ignore[arg-type]
        fresh = [int(r) for r, vid in zip(rows, ids, strict=True) if vid not in pushed]
        if not fresh:
            return []
        fresh_ids: list[uuid.UUID] = [batch.ids[r] for r in fresh]  # type: ignore[misc]
        cards = await geo.vacancy_cards(session, fresh_ids, lat, lon)
        out = []
        for r, vid in zip(fresh, fresh_ids, strict=True):
            card = cards[vid]
            near = bool(batch.distance_m[r] <= self.settings.push_walk_in_m)
            walk_in_now = card.walk_in and near and open_now(card.opening_hours, now)
            if card.walk_in and seeker.walk_in_interest and not walk_in_now:
                continue  # near, but closed: not now
            out.append((scored.match(self.taxonomy, r), card, walk_in_now))
            if len(out) == room:
                break
        return out

    async def _record_matches(
        self,
        raw: asyncpg.Connection,
        seeker_id: uuid.UUID,
        chosen: list[tuple[matching.Match, geo.NearbyVacancy, bool]],
    ) -> list[delivery.Delivery]:
        items = [
            (
                m.vacancy_id,
                {
                    "type": "match",
                    "vacancy": vacancy_card(card),
                    "score": m.score,
                    "distance_m": m.distance_m,
                    "walk_in_now": walk_in_now,
                    "explanation": m.explanation,
                },
                m.score,
            )
            for m, card, walk_in_now in chosen
        ]
        return await delivery.record(raw, seeker_id, delivery.MATCH, items)

    async def on_ack(self, conn: Connection, msg: p.Ack) -> None:
        async with self.sessionmaker() as session, session.begin():
            await delivery.ack(await geo.raw_connection(session), conn.seeker_id, msg.seq)

    async def on_resume(self, conn: Connection, msg: p.Resume) -> None:
        """Everything after `after_seq` not yet acked, in order. A resume also
        acknowledges what the client says it has (up to `after_seq`)."""
        limit = max(1, self.settings.push_outbox // 2)
        async with self.sessionmaker() as session, session.begin():
            raw = await geo.raw_connection(session)
            await delivery.ack(raw, conn.seeker_id, msg.after_seq)
            pending = await delivery.unacked_after(raw, conn.seeker_id, msg.after_seq, limit + 1)
        for d in pending[:limit]:
            conn.offer(p.with_seq(d.seq, d.payload))
        conn.offer(p.encode({"type": "resumed", "count": min(len(pending), limit),
                             "more": len(pending) > limit}))  # fmt: skip
        metrics.REPLAYED.inc(min(len(pending), limit))

    async def on_settings(self, conn: Connection, msg: p.Settings) -> bytes:
        async with self.sessionmaker() as session, session.begin():
            seeker = await session.get(Jobseeker, conn.seeker_id)
            assert seeker is not None
            if msg.radius_m is not p.UNSET:
                seeker.radius_m = msg.radius_m  # type: ignore[assignment]
            if msg.paused is not p.UNSET:
                seeker.push_paused = msg.paused  # type: ignore[assignment]
            if msg.min_score is not p.UNSET:
                seeker.push_min_score = msg.min_score  # type: ignore[assignment]
            if msg.quiet_from is not p.UNSET:
                seeker.quiet_from = msg.quiet_from  # type: ignore[assignment]
                seeker.quiet_until = msg.quiet_until  # type: ignore[assignment]
            await session.flush()
            view = settings_view(seeker)
        # New settings may make new matches eligible: let the next update look again.
        conn.last_point = None
        return p.encode({"type": "settings", **view})

    # --- sending -------------------------------------------------------------

    async def _send(self, seeker_id: uuid.UUID, deliveries: list[delivery.Delivery]) -> None:
        """Offer new deliveries to this worker's connections of the seeker, and
        ring the other workers, which may hold more connections of the same
        person (a phone and a tablet, or a reconnect that landed elsewhere)."""
        if not deliveries:
            return
        for conn in list(self.connections.get(seeker_id, ())):
            for d in deliveries:
                conn.offer(p.with_seq(d.seq, d.payload))
        lo, hi = deliveries[0].seq, deliveries[-1].seq
        try:
            await self.bus.publish([f"deliver:{self.origin}:{seeker_id}:{lo}:{hi}"])
        except Exception:  # the rows are stored; other connections get them on resume
            log.exception("ringing other workers failed")

    async def _on_doorbell(self, payload: str) -> None:
        _, origin, seeker, lo, hi = payload.split(":")
        seeker_id = uuid.UUID(seeker)
        if origin == self.origin or seeker_id not in self.connections:
            return
        async with self.sessionmaker() as session:
            raw = await geo.raw_connection(session)
            found = await delivery.between(raw, seeker_id, int(lo), int(hi))
        for conn in list(self.connections.get(seeker_id, ())):
            for d in found:
                conn.offer(p.with_seq(d.seq, d.payload))

    # --- messages from the bus ----------------------------------------------

    async def on_message(self, payload: str) -> None:
        try:
            if payload.startswith("deliver:"):
                await self._on_doorbell(payload)
            else:
                await self.on_event(VacancyEvent.decode(payload))
        except Exception:  # one bad message must not kill the listener
            log.exception("push bus message failed")

    async def on_event(self, event: VacancyEvent) -> None:
        if event.kind == "closed":
            await self._deliver_withdrawals(event.vacancy_id)
        else:
            await self._reverse_geofence(event.vacancy_id)

    async def _deliver_withdrawals(self, vacancy_id: uuid.UUID) -> None:
        ids = list(self.connections)
        if not ids:
            return
        async with self.sessionmaker() as session:
            found = await delivery.withdrawals_for(
                await geo.raw_connection(session), vacancy_id, ids
            )
        for d in found:
            for conn in list(self.connections.get(d.jobseeker_id, ())):
                conn.offer(p.with_seq(d.seq, d.payload))
        metrics.PUSHES.labels("withdrawn").inc(len(found))

    async def _reverse_geofence(self, vacancy_id: uuid.UUID) -> None:
        started = time.perf_counter()
        ids = list(self.connections)
        if not ids:
            return
        now = dt.datetime.now(dt.UTC)
        sent: dict[uuid.UUID, list[delivery.Delivery]] = {}
        async with self.sessionmaker() as session, session.begin():
            raw = await geo.raw_connection(session)
            nearby = await raw.fetch(
                NEARBY_SEEKERS_SQL, vacancy_id, ids, self.settings.max_radius_m
            )
            if not nearby:
                return
            seekers = {
                s.id: s
                for s in await session.scalars(
                    select(Jobseeker).where(Jobseeker.id.in_([r["id"] for r in nearby]))
                )
            }
            for row in nearby:
                seeker = seekers.get(row["id"])
                if seeker is None or in_quiet_hours(now, seeker.quiet_from, seeker.quiet_until):
                    continue
                point = (row["lat"], row["lon"])
                found = await self._offer_one(session, raw, seeker, vacancy_id, point, now)
                if found:
                    sent[seeker.id] = found
        for seeker_id, deliveries in sent.items():
            for conn in self.connections.get(seeker_id, ()):
                conn.bucket.take(len(deliveries))
            await self._send(seeker_id, deliveries)
        metrics.PUSHES.labels("match").inc(sum(len(d) for d in sent.values()))
        metrics.VACANCY_FANOUT_SECONDS.observe(time.perf_counter() - started)

    async def _offer_one(
        self,
        session: AsyncSession,
        raw: asyncpg.Connection,
        seeker: Jobseeker,
        vacancy_id: uuid.UUID,
        point: tuple[float, float],
        now: dt.datetime,
    ) -> list[delivery.Delivery]:
        lat, lon = point
        conns = self.connections.get(seeker.id, set())
        if conns and all(c.bucket.available(time.monotonic()) < 1 for c in conns):
            return []  # throttled: the next location update will find it
        scored = await matching.score_vacancies(
            session, self.taxonomy, seeker, [vacancy_id], lat, lon, seeker.radius_m
        )
        if vacancy_id not in scored:
            return []
        match, eligible = scored[vacancy_id]
        if not eligible or match.score < seeker.push_min_score:
            return []
        cards = await geo.vacancy_cards(session, [vacancy_id], lat, lon)
        card = cards[vacancy_id]
        walk_in_now = card.walk_in and match.distance_m <= self.settings.push_walk_in_m
        walk_in_now = walk_in_now and open_now(card.opening_hours, now)
        if card.walk_in and seeker.walk_in_interest and not walk_in_now:
            return []
        return await self._record_matches(raw, seeker.id, [(match, card, walk_in_now)])

    # --- housekeeping -------------------------------------------------------

    async def expire_positions(self) -> int:
        """Erase positions not refreshed within the TTL (connections that died
        without a clean close, e.g. a killed worker)."""
        async with self.sessionmaker() as session, session.begin():
            raw = await geo.raw_connection(session)
            status = await raw.execute(
                "UPDATE jobseekers SET last_position = NULL, last_position_at = NULL"
                " WHERE last_position_at < now() - make_interval(secs => $1)",
                float(self.settings.position_ttl_s),
            )
        return int(status.split()[-1])


SET_POSITION_SQL = """
UPDATE jobseekers
SET last_position = ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography, last_position_at = now()
WHERE id = $1
"""

# Connected seekers (this worker's) whose last position is within their own
# radius of the vacancy. The first ST_DWithin, with the largest radius allowed,
# lets the GiST index on last_position do the work; the second is exact.
NEARBY_SEEKERS_SQL = """
SELECT j.id, ST_Y(j.last_position::geometry) AS lat, ST_X(j.last_position::geometry) AS lon
FROM vacancies v
JOIN jobseekers j
  ON ST_DWithin(j.last_position, v.location, $3, false)
 AND ST_DWithin(j.last_position, v.location, j.radius_m, false)
WHERE v.id = $1 AND v.status = 'open'
  AND j.id = ANY($2::uuid[]) AND j.last_position IS NOT NULL AND NOT j.push_paused
"""
