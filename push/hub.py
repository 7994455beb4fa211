"""The push hub of one worker process: its connections and what they are told.

Two geofences:
- a seeker moves: open vacancies within their radius. The indexed PostGIS query
  runs when the connection's candidate cache is (re)built, over the radius plus
  a margin; between rebuilds an update is re-ranked in memory
  (push/candidates.py);
- a vacancy appears or changes: one query reads it, then this worker's
  connections are checked in memory (their positions live here) and their
  caches patched, so nothing waits for a rebuild to see it.

Deliveries are recorded (push/delivery.py) and committed before any frame is
queued, so what a phone was told is always in the database for resume.
Frames go into a bounded outbox per connection; nobody awaits a slow phone.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import asyncpg
import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matcher import consent, geo, matching
from matcher.events import VacancyEvent
from matcher.models import Jobseeker
from matcher.replica import VacancyReplica, open_candidate_for_all
from matcher.scoring import CandidateBatch, Scores
from matcher.settings import Settings
from matcher.taxonomy import Taxonomy
from push import candidates, catchup, delivery, metrics, presence
from push import protocol as p
from push.allowance import Allowance
from push.areas import Area, AreaCache
from push.bus import Bus, describe
from push.connection import Connection, SeekerState
from push.payloads import settings_view, vacancy_card
from push.rules import (
    FrameLimiter,
    haversine_m,
    in_quiet_hours,
    may_push,
    open_now,
    score_states,
)

log = logging.getLogger("jotr.push")

# How many of the best matches one location update considers.
MATCHES_PER_UPDATE = 50
# Seconds between writes of the queued positions.
POSITION_FLUSH_S = 0.2
# Device acks unseen for JOTR_PUSH_DEVICE_DAYS are forgotten about this often.
DEVICE_SWEEP_S = 3600.0
# A connection without location consent re-reads it at most this often.
CONSENT_RECHECK_S = 5.0
# Bus messages handled together (vacancy events share one lookup).
INBOX_BATCH = 32


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
        self.areas = AreaCache()
        # Positions to store, written together by `write_positions` (one UPDATE
        # for all of them) rather than one transaction per update.
        self._positions: dict[uuid.UUID, tuple[float, float]] = {}
        self._positions_lock = asyncio.Lock()
        # This worker in `push_presence` (host and pid say which process to look at).
        self.node = f"{socket.gethostname()[:80]}:{os.getpid()}:{self.origin}"
        # A live connection refreshes presence and position at least three times a TTL.
        self.refresh_s = min(settings.push_presence_refresh_s, settings.position_ttl_s / 3)
        self.stale_s = presence.STALE_PERIODS * self.refresh_s
        # Called after each new or changed vacancy is applied here: alerts to
        # people whose app is closed (push/offline.py, set by api/app.py).
        self.after_vacancy: Callable[[uuid.UUID], Awaitable[object]] | None = None
        # Closes whose erasure failed (the database was down): retried until done.
        self._pending_release: dict[uuid.UUID, uuid.UUID] = {}
        self._devices_swept = 0.0
        self._tasks: set[asyncio.Task[Any]] = set()
        # Bus messages wait here for the one consumer (`consume`); when full,
        # they are dropped and catch-up (push/catchup.py) finds what they said.
        self._inbox: asyncio.Queue[str] = asyncio.Queue(maxsize=settings.push_bus_queue)
        self._changes = catchup.ChangeLog()
        # The worker's replica of open vacancies (matcher/replica.py; set by api/app.py).
        self.replica: VacancyReplica | None = None
        self._catch_up_now = asyncio.Event()

    async def write_positions(self, every_s: float = POSITION_FLUSH_S) -> None:
        """Run for the life of the worker: store the queued positions."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.flush_positions()
            except Exception:
                log.exception("storing positions failed")

    async def flush_positions(self) -> int:
        async with self._positions_lock:
            if not self._positions:
                return 0
            batch, self._positions = self._positions, {}
            ids = list(batch)
            async with self.sessionmaker() as session, session.begin():
                raw = await geo.raw_connection(session)
                await raw.execute(
                    SET_POSITIONS_SQL,
                    ids,
                    [batch[i][1] for i in ids],
                    [batch[i][0] for i in ids],
                )
            return len(ids)

    # --- connections -------------------------------------------------------

    def open(
        self, seeker_id: uuid.UUID, device_id: str = "unnamed-device-0", secret_hash: bytes = b""
    ) -> Connection:
        """A connection of this worker (in memory only; `admit` registers it)."""
        st = self.settings
        conn = Connection(
            seeker_id=seeker_id,
            secret_hash=secret_hash,
            outbox=asyncio.Queue(maxsize=st.push_outbox),
            bucket=Allowance(st.push_per_minute, st.push_allowance_window_s),
            device_id=device_id,
            limiter=FrameLimiter(st.push_frames_per_s, float(st.push_frame_burst), st.push_flood_s),
        )
        self.connections[seeker_id].add(conn)
        metrics.CONNECTIONS.inc()
        return conn

    async def admit(self, conn: Connection) -> bool:
        """Register the connection in `push_presence`; False if the person already
        has `JOTR_PUSH_MAX_CONNECTIONS` live websockets on any worker or node."""
        async with self.sessionmaker() as session, session.begin():
            return await presence.register(
                await geo.raw_connection(session), conn.presence_id, conn.seeker_id,
                conn.device_id, self.node, self.settings.push_max_connections, self.stale_s,
            )  # fmt: skip

    async def close(self, conn: Connection) -> None:
        if conn.closed and conn not in self.connections.get(conn.seeker_id, ()):
            return
        conn.closed = True
        if conn.timer is not None:
            conn.timer.cancel()
        metrics.CONNECTIONS.dec()
        peers = self.connections.get(conn.seeker_id)
        if peers is not None:
            peers.discard(conn)
            if not peers:
                del self.connections[conn.seeker_id]
        try:
            await self._release(conn.presence_id, conn.seeker_id)
        except Exception:
            # The database is away: the position must not outlive the connection,
            # so the erasure waits in memory and `keep_presence` retries it.
            self._pending_release[conn.presence_id] = conn.seeker_id
            log.warning("erasing a position failed; queued until the database is back")

    async def _release(self, presence_id: uuid.UUID, seeker_id: uuid.UUID) -> None:
        # Under the writer's lock, so a position write in flight cannot bring it back.
        async with self._positions_lock:
            if seeker_id not in self.connections:
                self._positions.pop(seeker_id, None)
            async with self.sessionmaker() as session, session.begin():
                raw = await geo.raw_connection(session)
                await presence.release(raw, presence_id, seeker_id, self.stale_s)

    async def keep_presence(self) -> None:
        """Run for the life of the worker: refresh this worker's presence rows and
        its people's position TTL, and retry erasures that failed."""
        next_refresh = 0.0
        while True:
            await asyncio.sleep(min(1.0, self.refresh_s))
            for presence_id, seeker_id in list(self._pending_release.items()):
                try:
                    await self._release(presence_id, seeker_id)
                    del self._pending_release[presence_id]
                    log.info("queued position erasure done")
                except Exception:
                    break  # still away; try again on the next tick
            if time.monotonic() >= next_refresh:
                try:
                    await self.refresh_presence()
                    next_refresh = time.monotonic() + self.refresh_s
                except Exception:
                    log.exception("refreshing presence failed")

    async def refresh_presence(self) -> None:
        # Only connections `admit` has registered (`live` is set after it): the
        # refresh is an upsert, and one racing ahead of `presence.register` would
        # make the register's INSERT collide (a 500 on connect).
        rows = [
            (c.presence_id, c.seeker_id, c.device_id)
            for peers in self.connections.values()
            for c in peers
            if c.live and not c.closed
        ]
        async with self.sessionmaker() as session, session.begin():
            raw = await geo.raw_connection(session)
            await presence.refresh(raw, self.node, rows)
            current = await presence.token_hashes(raw, list({r[1] for r in rows}))
        # A token rotated or re-issued through another worker (or node), or a
        # deleted person: their connections close within one refresh period.
        for seeker_id in {r[1] for r in rows}:
            self.revoke_replaced(seeker_id, current.get(seeker_id))

    def revoke_replaced(self, seeker_id: uuid.UUID, current_hash: bytes | None) -> int:
        """Close this worker's connections of `seeker_id` that authenticated with a
        token other than `current_hash` (None: the person is gone). Returns how many."""
        closed = 0
        for conn in list(self.connections.get(seeker_id, ())):
            if conn.secret_hash and conn.secret_hash != current_hash and not conn.closed:
                conn.revoke()
                metrics.REVOKED.inc()
                closed += 1
        return closed

    def bad_frame(self, conn: Connection, now: float) -> bool:
        """Count a bad frame; True when the connection has sent too many."""
        conn.bad_frames = [t for t in conn.bad_frames if now - t < 10.0] + [now]
        return len(conn.bad_frames) >= self.settings.push_bad_messages

    async def start(self, conn: Connection) -> bool:
        """Send `hello`, then replay in order what this device has not acked, then
        `resumed`; live deliveries that arrive meanwhile wait until it is done.
        False if the person no longer exists."""
        async with self.sessionmaker() as session, session.begin():
            seeker = await session.get(Jobseeker, conn.seeker_id)
            if seeker is None:
                return False
            view = settings_view(seeker)
            # A grant or withdrawal that reached this worker while we read wins.
            checked = conn.consent_checked_at
            given = await consent.has_location_consent(session, conn.seeker_id)
            if conn.consent_checked_at == checked:
                conn.location_consent, conn.consent_checked_at = given, time.monotonic()
            last_seq, acked = await delivery.start_device(
                await geo.raw_connection(session), conn.seeker_id, conn.device_id
            )
        conn.offer(p.hello_message(conn.device_id, last_seq, acked, view))
        conn.acked = conn.cursor = acked
        conn.known = max(conn.known, last_seq)
        conn.live = conn.filling = True
        count = await self._fill(conn, upto=last_seq)
        conn.offer(p.encode({"type": "resumed", "count": count}))
        metrics.REPLAYED.inc(count)
        conn.filling = False
        conn.drain_held()
        if conn.behind:
            self._spawn_fill(conn)
        return True

    def _deliver(self, conn: Connection, deliveries: list[delivery.Delivery]) -> None:
        """Offer deliveries (sorted by seq) to one connection, in order."""
        for d in deliveries:
            conn.deliver(d.seq, p.with_seq(d.seq, d.payload))
        if conn.behind:
            self._spawn_fill(conn)

    def _spawn_fill(self, conn: Connection) -> None:
        conn.filling = True  # before the task runs, so no second fill starts
        self._spawn(self._fill(conn))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fill(self, conn: Connection, upto: int | None = None) -> int:
        """Read the connection's gap (cursor, known] from the database and queue
        it in order, a page at a time as the outbox drains; the caller has set
        `conn.filling`. Returns how many frames were queued."""
        page = max(1, self.settings.push_outbox // 4)
        sent = 0
        try:
            while not conn.closed:
                target = conn.known if upto is None else min(upto, conn.known)
                if target <= conn.cursor:
                    break
                if not await self._room(conn):
                    break
                hi = min(target, conn.cursor + page)
                async with self.sessionmaker() as session:
                    raw = await geo.raw_connection(session)
                    found = await delivery.between(raw, conn.seeker_id, conn.cursor + 1, hi)
                for d in found:
                    if conn.offer(p.with_seq(d.seq, d.payload)):
                        sent += 1
                    if d.payload.get("type") == "match":
                        conn.pushed.add(uuid.UUID(d.payload["vacancy"]["id"]))
                conn.cursor = hi
        except Exception:  # the gap stays; the next delivery or a reconnect reads it
            log.exception("reading missed deliveries failed")
        finally:
            if upto is None:
                conn.filling = False
                conn.drain_held()
        return sent

    @staticmethod
    async def _room(conn: Connection, patience_s: float = 30.0) -> bool:
        """Wait until the outbox is at most half full; a phone that does not
        read for `patience_s` is a laggard (closed; it resumes later)."""
        deadline = time.monotonic() + patience_s
        while conn.outbox.qsize() > conn.outbox.maxsize // 2:
            if conn.closed:
                return False
            if time.monotonic() > deadline:
                conn.drop_laggard()
                return False
            await asyncio.sleep(0.01)
        return not conn.closed

    # --- client messages ----------------------------------------------------

    async def on_location(self, conn: Connection, loc: p.Location, still: bool = False) -> int:
        """Handle a position; returns how many matches were pushed.

        Most updates are answered from the connection's candidate cache
        (push/candidates.py) without a database round trip; the database is
        asked when the cache must be rebuilt, when the stored position is due
        for a rewrite, and to record what is pushed.
        """
        if not conn.location_consent and not await self._consent_given_since(conn):
            # No consent, no position: not used, not kept (docs/privacy.md).
            conn.offer(p.error_message(
                "location_consent_required",
                "positions need your location consent: PUT /v1/jobseekers/me/consents/location",
            ))  # fmt: skip
            return 0
        started = time.perf_counter()
        now_m = time.monotonic()
        point = (loc.lat, loc.lon)
        if conn.last_point is not None and not still:
            moved = haversine_m(*conn.last_point, loc.lat, loc.lon)
            if moved < self.settings.push_move_threshold_m:
                metrics.LOCATION_SKIPPED.inc()
                if now_m - conn.written_at >= self.settings.position_write_s:
                    self._store_position(conn, point, now_m)
                return 0
        conn.last_point = point
        if self._position_due(conn, point, now_m):
            self._store_position(conn, point, now_m)
        now = dt.datetime.now(dt.UTC)
        state_due = conn.state is None or now_m - conn.state_at > candidates.TTL_S
        cache_due = state_due or conn.cache is None or not conn.cache.valid_at(*point, now_m)
        if cache_due and not state_due:
            # Moved out of the margin: rebuilt from this worker's shared area if it has it.
            area = self.areas.peek(*point, self._reach(conn))
            if area is not None:
                self._build_cache(conn, area, point)
                cache_due = False
        if not state_due and not cache_due and not self._worth_a_look(conn, point, now, now_m):
            metrics.LOCATION_SECONDS.observe(time.perf_counter() - started)
            return 0
        async with self.sessionmaker() as session, session.begin():
            raw = await geo.raw_connection(session)
            if state_due and not await self._load_state(session, raw, conn, now_m):
                return 0
            if cache_due:
                self._build_cache(conn, await self.areas.get(raw, *point, self._reach(conn)), point)
            deliveries = await self._push_picks(session, raw, conn, point, now)
        self._announce_batch(conn, deliveries)
        await self._send(conn.seeker_id, deliveries)
        self._arm(conn)
        metrics.LOCATION_SECONDS.observe(time.perf_counter() - started)
        metrics.PUSHES.labels("match").inc(len(deliveries))
        return len(deliveries)

    def _position_due(self, conn: Connection, point: tuple[float, float], now_m: float) -> bool:
        if conn.written_point is None:
            return True
        if now_m - conn.written_at >= self.settings.position_write_s:
            return True
        return haversine_m(*conn.written_point, *point) >= self.settings.position_write_m

    def _store_position(self, conn: Connection, point: tuple[float, float], now_m: float) -> None:
        self._positions[conn.seeker_id] = point
        conn.written_point, conn.written_at = point, now_m

    async def _load_state(
        self, session: AsyncSession, raw: asyncpg.Connection, conn: Connection, now_m: float
    ) -> bool:
        """Read the seeker afresh (and what they were pushed); False if they no
        longer exist."""
        seeker = await session.get(Jobseeker, conn.seeker_id, populate_existing=True)
        if seeker is None:  # erased while connected
            conn.closed = True
            return False
        # A withdrawal on another worker reaches this one here (within candidates.TTL_S).
        conn.location_consent = await consent.has_location_consent(session, conn.seeker_id)
        if not conn.location_consent:
            return False
        radius_m = matching.usable_radius(seeker.radius_m, self.settings.max_radius_m)
        conn.state = SeekerState(
            ctx=matching.seeker_context(seeker, self.taxonomy, radius_m),
            certificates=frozenset(seeker.certificates),
            radius_m=radius_m,
            min_score=seeker.push_min_score,
            paused=seeker.push_paused,
            quiet_from=seeker.quiet_from,
            quiet_until=seeker.quiet_until,
            walk_in_interest=seeker.walk_in_interest,
        )
        conn.state_at = now_m
        conn.pushed = await delivery.pushed_vacancies(raw, conn.seeker_id)
        return True

    @staticmethod
    def _reach(conn: Connection) -> float:
        assert conn.state is not None
        return conn.state.radius_m + candidates.MARGIN_M

    def _build_cache(self, conn: Connection, area: Area, point: tuple[float, float]) -> None:
        """Score everything within radius + margin of the phone for this seeker
        and keep what could be pushed (push/candidates.py)."""
        state = conn.state
        assert state is not None
        lat, lon = point
        reach = self._reach(conn)
        batch, within = area.for_seeker(lat, lon, reach, state.certificates)
        scored = matching.score(state.ctx, batch)
        conn.cache = candidates.CandidateCache.build(
            state.ctx, batch, scored.scores, scored.eligible & within, area.lats, area.lons,
            point, state.min_score, capped=not area.complete_within(lat, lon, reach),
        )  # fmt: skip
        metrics.CACHE_REBUILDS.inc()
        metrics.CACHED_CANDIDATES.observe(len(conn.cache))

    def _picks(
        self, conn: Connection, point: tuple[float, float], now: dt.datetime
    ) -> list[candidates.Pick]:
        """What the cache says may be pushed at this point now, best first:
        walk-in places within walking distance, then by score."""
        state, cache = conn.state, conn.cache
        if state is None or cache is None or state.paused:
            return []
        if in_quiet_hours(now, state.quiet_from, state.quiet_until):
            return []
        return cache.picks(
            *point, conn.pushed, state.walk_in_interest, self.settings.push_walk_in_m,
            MATCHES_PER_UPDATE,
        )  # fmt: skip

    def _ranked(
        self, conn: Connection, picks: list[candidates.Pick]
    ) -> list[tuple[uuid.UUID, float]]:
        """Picks as the allowance ranks them: walk-in places near enough first."""
        walk_in = conn.state is not None and conn.state.walk_in_interest
        return [
            (pk.candidate.vacancy_id, pk.score + (1.0 if walk_in and pk.candidate.walk_in else 0.0))
            for pk in picks
        ]

    def _worth_a_look(
        self, conn: Connection, point: tuple[float, float], now: dt.datetime, now_m: float
    ) -> bool:
        """Whether the database is worth asking: something to push and a token
        for it. With no token, what could be pushed waits in the allowance (no
        database round trip) and the connection's timer sends it later."""
        picks = self._picks(conn, point, now)
        if not picks:
            conn.bucket.offer([], now_m)  # nothing may wait either
        elif conn.bucket.available(now_m) < 1:
            conn.bucket.offer(self._ranked(conn, picks), now_m)
            self._arm(conn)
            return False
        return bool(picks)

    async def _push_picks(
        self,
        session: AsyncSession,
        raw: asyncpg.Connection,
        conn: Connection,
        point: tuple[float, float],
        now: dt.datetime,
    ) -> list[delivery.Delivery]:
        picks = self._picks(conn, point, now)
        state = conn.state
        if not picks or state is None:
            conn.bucket.offer([], time.monotonic())  # nothing may wait either
            return []
        # The best that fit the allowance now; the rest wait for its refill.
        send = set(conn.bucket.offer(self._ranked(conn, picks), time.monotonic()))
        picks = [pk for pk in picks if pk.candidate.vacancy_id in send]
        lat, lon = point
        # Open-only: a vacancy closed since the cache was built is not pushed.
        cards = await geo.vacancy_cards(
            session, [pk.candidate.vacancy_id for pk in picks], lat, lon, open_only=True
        )
        chosen: list[tuple[matching.Match, geo.NearbyVacancy, bool]] = []
        for pk in picks:
            vid = pk.candidate.vacancy_id
            card = cards.get(vid)
            if card is None:
                if conn.cache is not None:
                    conn.cache.discard(vid)
                conn.bucket.refund(1)
                continue
            near = pk.distance_m <= self.settings.push_walk_in_m
            walk_in_now = card.walk_in and near and open_now(card.opening_hours, now)
            if card.walk_in and state.walk_in_interest and not walk_in_now:
                conn.bucket.refund(1)
                continue  # near, but closed: not now
            match = matching.Match(
                vacancy_id=vid,
                score=round(pk.score, 4),
                distance_m=round(pk.distance_m, 1),
                explanation=pk.explanation(self.taxonomy, state.ctx),
            )
            chosen.append((match, card, walk_in_now))
        deliveries = await self._record_matches(raw, conn.seeker_id, chosen)
        # Pushed now, or already pushed by another worker (the insert did nothing).
        conn.pushed.update(m.vacancy_id for m, _, _ in chosen)
        return deliveries

    def _announce_batch(self, conn: Connection, deliveries: list[delivery.Delivery]) -> None:
        """The first pushes of a connection (sign-up, reconnect) are mostly jobs
        the list shows anyway: one `batch` frame ahead of them lets the app
        raise one notification ("6 job i nærheden") instead of six."""
        if not deliveries or not conn.first_batch:
            return
        conn.first_batch = False
        if len(deliveries) > 1:
            conn.offer(p.batch_message(len(deliveries), deliveries[0].seq, deliveries[-1].seq))

    def _arm(self, conn: Connection) -> None:
        """Wake this connection when its allowance has a token for what waits,
        so a deferred match goes out while the phone stands still."""
        delay = conn.bucket.next_in(time.monotonic())
        if delay is None or conn.closed or conn.timer is not None or conn.last_point is None:
            return
        conn.timer = asyncio.get_running_loop().call_later(
            delay + 0.01, lambda: self._spawn(self._drain(conn))
        )

    async def _drain(self, conn: Connection) -> None:
        """Send what waits, best first: the candidates are ranked afresh where
        the phone last was, so what closed, was pushed elsewhere or no longer
        passes the rules meanwhile is not sent."""
        conn.timer = None
        if conn.closed or conn.last_point is None:
            return
        try:
            await self.on_location(conn, p.Location(*conn.last_point, None), still=True)
        except Exception:
            log.exception("sending deferred matches failed")
            return  # the next location update or vacancy tries again

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
            raw = await geo.raw_connection(session)
            conn.acked = await delivery.ack(raw, conn.seeker_id, conn.device_id, msg.seq)
        if conn.live and not conn.filling and conn.acked > conn.cursor:
            # Acked through another connection of the same device: skip it here.
            conn.cursor = conn.acked
            conn.drain_held()

    async def on_resume(self, conn: Connection, msg: p.Resume) -> None:
        """Kept for older clients: the server replays on connect (`start`), so a
        resume only acknowledges what the client says it has."""
        await self.on_ack(conn, p.Ack(msg.after_seq))
        conn.offer(p.encode({"type": "resumed", "count": 0}))

    async def _consent_given_since(self, conn: Connection) -> bool:
        """Consent given on another worker since this connection read it? Asked
        at most every CONSENT_RECHECK_S per connection (this worker's own grants
        arrive at once through `set_location_consent`)."""
        now_m = time.monotonic()
        if now_m - conn.consent_checked_at < CONSENT_RECHECK_S:
            return False
        conn.consent_checked_at = now_m
        async with self.sessionmaker() as session:
            conn.location_consent = await consent.has_location_consent(session, conn.seeker_id)
        return conn.location_consent

    def set_location_consent(self, seeker_id: uuid.UUID, granted: bool) -> None:
        """Location consent given or withdrawn: this worker's connections of the
        person follow at once, and a withdrawn person's queued position is dropped."""
        for conn in self.connections.get(seeker_id, ()):
            conn.location_consent, conn.consent_checked_at = granted, time.monotonic()
            conn.last_point = conn.written_point = None
        if not granted:
            self._positions.pop(seeker_id, None)

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
        # New settings may make new matches eligible: let the next update look
        # again, with the seeker read afresh (every connection of theirs here).
        for peer in self.connections.get(conn.seeker_id, ()):
            peer.last_point = None
            peer.forget_cache()
        return p.encode({"type": "settings", **view})

    # --- sending -------------------------------------------------------------

    async def _send(self, seeker_id: uuid.UUID, deliveries: list[delivery.Delivery]) -> None:
        """Offer new deliveries to this worker's connections of the seeker, and
        ring the other workers, which may hold more connections of the same
        person (a phone and a tablet, or a reconnect that landed elsewhere)."""
        if not deliveries:
            return
        for conn in list(self.connections.get(seeker_id, ())):
            self._deliver(conn, deliveries)
        lo, hi = deliveries[0].seq, deliveries[-1].seq
        try:
            await self.bus.publish([f"deliver:{self.origin}:{seeker_id}:{lo}:{hi}"])
        except Exception as exc:  # the rows are stored; catch-up or resume brings them
            self._bus_failed("ringing other workers failed", exc)

    async def _on_doorbell(self, payload: str) -> None:
        _, origin, seeker, lo, hi = payload.split(":")
        seeker_id = uuid.UUID(seeker)
        if origin == self.origin or seeker_id not in self.connections:
            return
        async with self.sessionmaker() as session:
            raw = await geo.raw_connection(session)
            found = await delivery.between(raw, seeker_id, int(lo), int(hi))
        for conn in list(self.connections.get(seeker_id, ())):
            self._deliver(conn, found)
            for d in found:
                if d.payload.get("type") == "match":
                    conn.pushed.add(uuid.UUID(d.payload["vacancy"]["id"]))

    # --- messages from the bus ----------------------------------------------

    def ring(self, payload: str) -> None:
        """The bus's handler: queue a message for the consumer without waiting.
        A full queue drops it; catch-up finds what it announced."""
        try:
            self._inbox.put_nowait(payload)
        except asyncio.QueueFull:
            metrics.BUS_DROPPED.inc()
            self._catch_up_now.set()

    async def announce(self, events: list[VacancyEvent]) -> None:
        """Committed vacancy changes: to this worker's own connections first
        (through the same queue, never through the bus, so a bus outage does
        not stop same-node push), then to the other workers over the bus. The
        echo from the bus finds the change already applied (`_apply_changes`)."""
        payloads = [e.encode() for e in events]
        for payload in payloads:
            self.ring(payload)
        try:
            await self.bus.publish(payloads)
        except Exception as exc:  # other workers catch up from the database
            self._bus_failed("publishing vacancy events failed", exc)

    def _bus_failed(self, what: str, exc: Exception) -> None:
        if self.bus.status().up:
            log.exception(what)
        else:  # the outage itself is logged once by the bus
            log.debug(what, extra={"error": describe(exc)})

    async def consume(self) -> None:
        """Run for the life of the worker: the one consumer of bus messages,
        taking what is queued in small batches."""
        while True:
            batch = [await self._inbox.get()]
            while len(batch) < INBOX_BATCH and not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            await self._handle_batch(batch)

    async def _handle_batch(self, batch: list[str]) -> None:
        vacancy_ids: list[uuid.UUID] = []
        for payload in batch:
            try:
                if payload.startswith("deliver:"):
                    await self._on_doorbell(payload)
                else:
                    vacancy_ids.append(VacancyEvent.decode(payload).vacancy_id)
            except Exception:  # one bad message must not stop the rest
                log.exception("push bus message failed")
        if not vacancy_ids:
            return
        if self.replica is not None:  # the doorbell rang: the replica catches up first
            await self.replica.sync_quietly()
        try:
            # The vacancies as they are now, with their change numbers: what
            # kind the message said matters less than what is true now.
            async with self.sessionmaker() as session:
                changes = await catchup.current(
                    await geo.raw_connection(session), list(dict.fromkeys(vacancy_ids))
                )
        except Exception as exc:
            log.warning("reading announced vacancies failed", extra={"error": describe(exc)})
            self._catch_up_now.set()
            return
        await self._apply_changes(changes)

    async def _apply_changes(self, changes: list[catchup.Change]) -> int:
        """Apply vacancy changes not applied here yet; returns how many."""
        applied = 0
        for change in changes:
            if not self._changes.claim(change.change_no):
                continue
            kind = "updated" if change.open else "closed"
            try:
                await self.on_event(VacancyEvent(change.vacancy_id, kind))  # type: ignore[arg-type]
                applied += 1
            except Exception:
                self._changes.release(change.change_no)
                log.exception("applying a vacancy change failed")
        return applied

    async def on_bus_connect(self) -> None:
        """The bus (re)connected: what it missed meanwhile is read at once."""
        self._catch_up_now.set()

    async def catch_up(self) -> tuple[int, int]:
        """Read what the bus may have missed: vacancy changes after the last
        applied change number and deliveries after each connected seeker's
        mark (push/catchup.py). Returns (changes, deliveries) that no bus
        message had brought."""
        now = time.monotonic()
        async with self.sessionmaker() as session:
            raw = await geo.raw_connection(session)
            if self._changes.floor is None:  # first run: from here on
                self._changes.floor = await catchup.high_water(raw)
            changes = await catchup.changes_since(raw, self._changes.floor, catchup.BATCH_ROWS)
            seqs = await catchup.delivery_seqs(raw, list(self.connections))
        applied = await self._apply_changes(changes)
        offered = 0
        for seeker_id, seq in seqs.items():
            for conn in list(self.connections.get(seeker_id, ())):
                if seq > conn.known:  # a doorbell never came: fill the gap in order
                    offered += seq - conn.known
                    conn.known = seq
                    if conn.behind:
                        self._spawn_fill(conn)
        self._changes.prune(now)
        if len(changes) == catchup.BATCH_ROWS:
            self._catch_up_now.set()  # more to read: go again at once
        if applied:
            metrics.CAUGHT_UP.labels("vacancy").inc(applied)
        if offered:
            metrics.CAUGHT_UP.labels("delivery").inc(offered)
            log.info("push catch-up found missed deliveries", extra={"count": offered})
        return applied, offered

    async def catch_up_forever(self) -> None:
        """Run for the life of the worker: catch up when the bus asks (a
        reconnect, a dropped message) and on a timer, so even a bus that died
        without a sound heals within `push_catchup_s`."""
        failing = False
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._catch_up_now.wait(), self.settings.push_catchup_s)
            self._catch_up_now.clear()
            try:
                await self.catch_up()
            except Exception as exc:
                if not failing:  # once per outage, not every round
                    log.warning("push catch-up failed", extra={"error": describe(exc)})
                failing = True
                continue
            if failing:
                log.warning("push catch-up works again")
                failing = False

    async def on_event(self, event: VacancyEvent) -> None:
        if event.kind == "closed":
            self.areas.changed(event.vacancy_id, None, None)
            for peers in self.connections.values():
                for c in peers:
                    if c.cache is not None:
                        c.cache.discard(event.vacancy_id)
            await self._deliver_withdrawals(event.vacancy_id)
        else:
            await self._reverse_geofence(event.vacancy_id)
            if self.after_vacancy is not None:
                await self.after_vacancy(event.vacancy_id)

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
                self._deliver(conn, [d])
        metrics.PUSHES.labels("withdrawn").inc(len(found))

    async def _reverse_geofence(self, vacancy_id: uuid.UUID) -> None:
        """A vacancy was created or changed: push it to this worker's connected
        seekers who stand within their radius of it and match, and patch it
        into the candidate caches whose area it lies in. One query for the
        vacancy; the geofence itself runs over the connections in memory."""
        started = time.perf_counter()
        conns = [
            c
            for peers in self.connections.values()
            for c in peers
            if c.state is not None and c.last_point is not None and not c.closed
        ]
        if not conns:  # nobody here to tell; the shared areas may hold it, though
            self.areas.clear()
            return
        now = dt.datetime.now(dt.UTC)
        sent: dict[uuid.UUID, list[delivery.Delivery]] = {}
        async with self.sessionmaker() as session, session.begin():
            raw = await geo.raw_connection(session)
            found = await open_candidate_for_all(self.replica, raw, vacancy_id)
            if found is None:  # closed again already, or gone
                self.areas.changed(vacancy_id, None, None)
                for c in conns:
                    if c.cache is not None:
                        c.cache.discard(vacancy_id)
                return
            batch, vlat, vlon, required_certificates = found
            self.areas.changed(vacancy_id, vlat, vlon)
            lats = np.fromiter((c.last_point[0] for c in conns), np.float64, len(conns))  # type: ignore[index]
            lons = np.fromiter((c.last_point[1] for c in conns), np.float64, len(conns))  # type: ignore[index]
            dists = candidates.haversine_many(vlat, vlon, lats, lons)
            # Only phones near enough for the vacancy to be within their radius or
            # their cache's area (whose anchor is at most the margin from the phone).
            radii = np.fromiter((c.state.radius_m for c in conns), np.float64, len(conns))  # type: ignore[union-attr]
            near = np.flatnonzero(dists <= radii + 2 * candidates.MARGIN_M)
            near_conns = [conns[i] for i in near.tolist()]
            near_d = dists[near]
            scores, eligible = self._score_for(near_conns, batch, near_d, required_certificates)
            offers: dict[uuid.UUID, tuple[Connection, candidates.Pick]] = {}
            for k, conn in enumerate(near_conns):
                pick = self._patch(
                    conn, batch, scores, k, bool(eligible[k]), vlat, vlon, float(near_d[k]), now
                )
                if pick is not None and conn.seeker_id not in offers:
                    offers[conn.seeker_id] = (conn, pick)
            if offers:
                cards = await geo.vacancy_cards(session, [vacancy_id], vlat, vlon, open_only=True)
                card = cards.get(vacancy_id)
                for seeker_id, (conn, pick) in offers.items():
                    if card is None:
                        break
                    found_d = await self._offer(raw, conn, pick, card, now)
                    if found_d:
                        sent[seeker_id] = found_d
        for seeker_id, deliveries in sent.items():
            for conn in self.connections.get(seeker_id, ()):
                conn.bucket.take(len(deliveries))
                conn.pushed.add(vacancy_id)
            await self._send(seeker_id, deliveries)
        metrics.PUSHES.labels("match").inc(sum(len(d) for d in sent.values()))
        metrics.VACANCY_FANOUT_SECONDS.observe(time.perf_counter() - started)

    @staticmethod
    def _score_for(
        conns: list[Connection],
        batch: CandidateBatch,
        distance_m: np.ndarray,
        required_certificates: frozenset[str],
    ) -> tuple[Scores, np.ndarray]:
        """The vacancy scored for every one of these connections' seekers at once,
        and whether each may take it (hard rules by age, school status and
        jobcenter marks, their certificates)."""
        return score_states([c.state for c in conns], batch, distance_m, required_certificates)  # type: ignore[misc]

    def _patch(
        self,
        conn: Connection,
        batch: CandidateBatch,
        scores: Scores,
        k: int,
        eligible: bool,
        vlat: float,
        vlon: float,
        distance_m: float,
        now: dt.datetime,
    ) -> candidates.Pick | None:
        """Apply one vacancy, scored for this connection's seeker (row k of
        `scores`): update its cache, and return it as a pick if it should be
        pushed right now."""
        state, cache = conn.state, conn.cache
        assert state is not None
        vacancy_id: uuid.UUID = batch.ids[0]  # type: ignore[assignment]
        covers = cache is not None and cache.covers(vlat, vlon)
        within = distance_m <= state.radius_m
        if not covers and not within:
            return None
        if not eligible or not matching.pushable(scores.take(np.array([k])))[0]:
            if cache is not None:
                cache.discard(vacancy_id)
            return None
        total = float(scores.total[k])
        cand = candidates.Candidate(
            vacancy_id=vacancy_id,
            lat=vlat,
            lon=vlon,
            static=total - candidates.W_DISTANCE * float(scores.parts["distance"][k]),
            walk_in=bool(batch.walk_in[0]),
            batch=batch,  # one row, read for this event only and never changed
            scores=scores.take(np.array([k])),
            row=0,
        )
        if cache is not None and covers:
            cache.put(cand)
        if not within or not may_push(
            total, state.min_score, vacancy_id in conn.pushed, state.paused,
            state.quiet_from, state.quiet_until, now,
        ):  # fmt: skip
            return None
        peers = self.connections.get(conn.seeker_id, set())
        if all(c.bucket.available(time.monotonic()) < 1 for c in peers):
            # Throttled: it waits for the allowance's refill (the cache holds it).
            conn.bucket.defer(vacancy_id, total)
            self._arm(conn)
            return None
        walk_in = cand.walk_in and state.walk_in_interest
        if walk_in and distance_m > self.settings.push_walk_in_m:
            return None  # held back until the seeker is near
        return candidates.Pick(cand, total, distance_m)

    async def _offer(
        self,
        raw: asyncpg.Connection,
        conn: Connection,
        pick: candidates.Pick,
        card: geo.NearbyVacancy,
        now: dt.datetime,
    ) -> list[delivery.Delivery]:
        state = conn.state
        assert state is not None
        card = dataclasses.replace(card, distance_m=pick.distance_m)
        walk_in_now = card.walk_in and pick.distance_m <= self.settings.push_walk_in_m
        walk_in_now = walk_in_now and open_now(card.opening_hours, now)
        if card.walk_in and state.walk_in_interest and not walk_in_now:
            return []
        match = matching.Match(
            vacancy_id=card.id,
            score=round(pick.score, 4),
            distance_m=round(pick.distance_m, 1),
            explanation=pick.explanation(self.taxonomy, state.ctx),
        )
        return await self._record_matches(raw, conn.seeker_id, [(match, card, walk_in_now)])

    # --- housekeeping -------------------------------------------------------

    async def expire_positions(self) -> int:
        """Erase positions not refreshed in time and drop dead workers' presence
        (their connections died without a close: a killed worker, a lost node).
        Runs every sixth of `JOTR_POSITION_TTL_S`, so erasing what is older than
        five sixths of it erases every position within the TTL."""
        self.areas.expire()
        ttl = self.settings.position_ttl_s
        async with self.sessionmaker() as session, session.begin():
            raw = await geo.raw_connection(session)
            erased = await presence.sweep(raw, self.stale_s, ttl * 5 / 6)
            if time.monotonic() - self._devices_swept >= DEVICE_SWEEP_S or not self._devices_swept:
                await delivery.forget_devices(raw, self.settings.push_device_days)
                self._devices_swept = time.monotonic()
        return erased


SET_POSITIONS_SQL = """
UPDATE jobseekers j
SET last_position = ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)::geography,
    last_position_at = now()
FROM unnest($1::uuid[], $2::float8[], $3::float8[]) AS p(id, lon, lat)
WHERE j.id = p.id
  -- Only with a live location consent: a withdrawal on another worker wins.
  AND EXISTS (SELECT 1 FROM consents c WHERE c.jobseeker_id = j.id
              AND c.kind = 'location' AND c.withdrawn_at IS NULL)
"""

SET_POSITION_SQL = """
UPDATE jobseekers
SET last_position = ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography, last_position_at = now()
WHERE id = $1
"""
