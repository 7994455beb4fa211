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
import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

import asyncpg
import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matcher.esco.taxonomy import Taxonomy
from matcher.matching import geo
from matcher.matching.replica import VacancyReplica, open_candidate_for_all
from matcher.matching.scoring import CandidateBatch, concat
from matcher.models import Jobseeker
from matcher.people import consent
from matcher.posting.events import VacancyEvent
from matcher.settings import Settings
from push import candidates, catchup, delivery, memory, metrics, presence
from push import protocol as p
from push.allowance import Allowance
from push.areas import AreaCache
from push.bus import Bus, describe
from push.connection import Connection
from push.payloads import settings_view
from push.rules import FrameLimiter, score_grid
from push.session import (
    Knobs,
    ScoredVacancy,
    SeekerSession,
    fan_out,
    scored_for,
    settle,
    state_of,
)

log = logging.getLogger("jotr.push")

# Seconds between writes of the queued positions.
POSITION_FLUSH_S = 0.2
# Device acks unseen for JOTR_PUSH_DEVICE_DAYS are forgotten about this often.
DEVICE_SWEEP_S = 3600.0
# A connection without location consent re-reads it at most this often.
CONSENT_RECHECK_S = 5.0
# Own vacancy events whose bus echo is awaited (`announce`): a burst's worth.
ECHOES_KEPT = 512


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
        self.knobs = Knobs.of(settings)
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
        # This worker's own vacancy events, queued here before they were published:
        # their echo from the bus is dropped on arrival, not after a sync and a read.
        # Bounded, so echoes that never come (the bus was down) age out.
        self._echoes: deque[str] = deque(maxlen=ECHOES_KEPT)
        self._changes = catchup.ChangeLog()
        # The worker's replica of open vacancies (matcher/matching/replica.py; set by api/app.py).
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
            session=SeekerSession(
                seeker_id, Allowance(st.push_per_minute, st.push_allowance_window_s), self.knobs
            ),
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
                # Idle phones' expired candidate caches and occupation fits
                # (push/session.py `shed`), and the pages they held (push/memory.py).
                now_m = time.monotonic()
                shed = 0
                for peers in self.connections.values():
                    for c in peers:
                        shed += c.session.shed(now_m)
                if shed:
                    memory.trim()

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
            self.revoke_replaced(seeker_id, current.get(seeker_id, frozenset()))

    def revoke_replaced(self, seeker_id: uuid.UUID, valid: frozenset[bytes]) -> int:
        """Close this worker's connections of `seeker_id` that authenticated with a
        token not in `valid`, the hashes of the person's signed-in devices (empty:
        the person is gone). Returns how many."""
        closed = 0
        for conn in list(self.connections.get(seeker_id, ())):
            if conn.secret_hash and conn.secret_hash not in valid and not conn.closed:
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
                        conn.session.told([uuid.UUID(d.payload["vacancy"]["id"])])
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

        The connection's session (push/session.py) decides; this does its I/O.
        Most updates are answered from the session's candidate cache without a
        database round trip; the database is asked when the cache must be
        rebuilt, when the stored position is due for a rewrite, and to record
        what is pushed.
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
        sess = conn.session
        point = (loc.lat, loc.lon)
        step = sess.on_location(point, now_m, still)
        if step.store is not None:
            self._positions[conn.seeker_id] = step.store
        if step.skipped:
            metrics.LOCATION_SKIPPED.inc()
            return 0
        now = dt.datetime.now(dt.UTC)
        if step.load_area and not step.load_state:
            # Moved out of the margin: rebuilt from this worker's shared area if it
            # has it, or from the replica in memory. Either way no database session
            # unless there is something to push (most rebuilds find nothing new).
            area = self.areas.peek(*point, sess.reach_m)
            if area is None and self.areas.in_memory:
                area = await self.areas.get(None, *point, sess.reach_m)
            if area is not None:
                sess.use_area(area, point, now_m)
                self._rebuilt(conn)
                step.load_area = False
        if not step.load_state and not step.load_area and not sess.worth_a_look(now, now_m):
            self._arm(conn)
            metrics.LOCATION_SECONDS.observe(time.perf_counter() - started)
            return 0
        async with self.sessionmaker() as session, session.begin():
            raw = await geo.raw_connection(session)
            if step.load_state and not await self._load_state(session, raw, conn, now_m):
                return 0
            if step.load_area:
                sess.use_area(await self.areas.get(raw, *point, sess.reach_m), point, now_m)
                self._rebuilt(conn)
            deliveries = await self._push_picks(session, raw, conn, point, now)
        if sess.announce_batch(len(deliveries)):
            conn.offer(p.batch_message(len(deliveries), deliveries[0].seq, deliveries[-1].seq))
        await self._send(conn.seeker_id, deliveries)
        self._arm(conn)
        metrics.LOCATION_SECONDS.observe(time.perf_counter() - started)
        metrics.PUSHES.labels("match").inc(len(deliveries))
        return len(deliveries)

    @staticmethod
    def _rebuilt(conn: Connection) -> None:
        metrics.CACHE_REBUILDS.inc()
        metrics.CACHED_CANDIDATES.observe(len(conn.session.cache or ()))

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
        state = state_of(seeker, self.taxonomy, self.settings.max_radius_m)
        conn.session.use_state(state, await delivery.pushed_vacancies(raw, conn.seeker_id), now_m)
        return True

    async def _push_picks(
        self,
        session: AsyncSession,
        raw: asyncpg.Connection,
        conn: Connection,
        point: tuple[float, float],
        now: dt.datetime,
    ) -> list[delivery.Delivery]:
        sess = conn.session
        picks = sess.choose(now, time.monotonic())
        if not picks:
            return []
        lat, lon = point
        # Open-only: a vacancy closed since the cache was built is not pushed.
        cards = await geo.vacancy_cards(
            session, [pk.candidate.vacancy_id for pk in picks], lat, lon, open_only=True
        )
        items = sess.confirm(picks, cards, now, self.taxonomy)
        deliveries = await delivery.record(raw, conn.seeker_id, delivery.MATCH, items)
        # Pushed now, or already pushed by another worker (the insert did nothing).
        sess.told([vid for vid, _, _ in items])
        return deliveries

    def _arm(self, conn: Connection) -> None:
        """Wake this connection when its allowance has a token for what waits,
        so a deferred match goes out while the phone stands still."""
        delay = conn.session.next_wake(time.monotonic())
        if delay is None or conn.closed or conn.timer is not None:
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
            conn.session.forget_position()
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
            peer.session.on_settings()
        return p.encode({"type": "settings", **view})

    # --- sending -------------------------------------------------------------

    async def _send(self, seeker_id: uuid.UUID, deliveries: list[delivery.Delivery]) -> None:
        await self._send_many({seeker_id: deliveries})

    async def _send_many(self, sent: Mapping[uuid.UUID, list[delivery.Delivery]]) -> None:
        """Offer new deliveries to this worker's connections of each seeker, and
        ring the other workers, which may hold more connections of the same
        person (a phone and a tablet, or a reconnect that landed elsewhere).
        Every local frame is queued before the one publish of the doorbells, so
        no phone here waits for the bus on another person's behalf."""
        doorbells = []
        for seeker_id, deliveries in sent.items():
            if not deliveries:
                continue
            for conn in list(self.connections.get(seeker_id, ())):
                self._deliver(conn, deliveries)
            lo, hi = deliveries[0].seq, deliveries[-1].seq
            doorbells.append(f"deliver:{self.origin}:{seeker_id}:{lo}:{hi}")
        if not doorbells:
            return
        try:
            await self.bus.publish(doorbells)
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
            conn.session.told(
                [
                    uuid.UUID(d.payload["vacancy"]["id"])
                    for d in found
                    if d.payload.get("type") == "match"
                ]
            )

    # --- messages from the bus ----------------------------------------------

    def ring(self, payload: str) -> None:
        """The bus's handler: queue a message for the consumer without waiting.
        A full queue drops it; catch-up finds what it announced."""
        if payload in self._echoes:  # our own event, handled already or queued
            self._echoes.remove(payload)
            return
        self._queue(payload)

    def _queue(self, payload: str) -> None:
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
            self._queue(payload)
            self._echoes.append(payload)
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
        """Run for the life of the worker: the one bounded consumer of bus
        messages. A batch is the first message and every one queued meanwhile
        (at most `JOTR_PUSH_BATCH_MAX`), so a burst of vacancy changes is read,
        scored and recorded together (`_fan_out`) while a lone change goes at
        once: batches grow with the load on their own, as the messages queue
        while one is handled. `JOTR_PUSH_BATCH_MS` (0 by default) lingers for
        more after the first, trading each change's latency for fewer batches."""
        loop = asyncio.get_running_loop()
        window_s = self.settings.push_batch_ms / 1000
        while True:
            batch = [await self._inbox.get()]
            deadline = loop.time() + window_s
            while len(batch) < self.settings.push_batch_max:
                if not self._inbox.empty():
                    batch.append(self._inbox.get_nowait())
                    continue
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._inbox.get(), left))
                except TimeoutError:
                    break
            metrics.CONSUMER_BATCH.observe(len(batch))
            metrics.CONSUMER_QUEUE.set(self._inbox.qsize())
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
        """Apply vacancy changes not applied here yet; returns how many. The
        open ones go out together (`_fan_out`), then to Web Push."""
        try:
            return await self._apply(changes)
        finally:
            # The areas the changes made stale are freed once the phones are told.
            self.areas.release()

    async def _apply(self, changes: list[catchup.Change]) -> int:
        fresh = [c for c in changes if self._changes.claim(c.change_no)]
        applied = 0
        for change in fresh:
            if change.open:
                continue
            try:
                await self.on_closed(change.vacancy_id)
                applied += 1
            except Exception:
                self._changes.release(change.change_no)
                log.exception("applying a vacancy change failed")
        opened = [c for c in fresh if c.open]
        if not opened:
            return applied
        try:
            await self._fan_out([c.vacancy_id for c in opened])
        except Exception:
            for change in opened:
                self._changes.release(change.change_no)
            log.exception("applying vacancy changes failed")
            return applied
        if self.after_vacancy is not None:
            for change in opened:
                await self.after_vacancy(change.vacancy_id)
        return applied + len(opened)

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

    async def on_closed(self, vacancy_id: uuid.UUID) -> None:
        self.areas.changed(vacancy_id, None, None)
        for peers in self.connections.values():
            for c in peers:
                c.session.on_closed(vacancy_id)
        await self._deliver_withdrawals(vacancy_id)

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

    async def _fan_out(self, vacancy_ids: list[uuid.UUID]) -> None:
        """New or changed vacancies: push each to this worker's connected seekers
        who stand within their radius of it and may be told it (their sessions
        decide, push/session.py), and patch it into the candidate caches whose
        area it lies in. One read per vacancy; the geofence and the scoring run
        over the connections in memory, connections x vacancies; the batch's
        deliveries are recorded in one statement and committed before any
        frame is queued."""
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
        now, now_m = dt.datetime.now(dt.UTC), time.monotonic()
        async with self.sessionmaker() as session, session.begin():
            raw = await geo.raw_connection(session)
            found: dict[uuid.UUID, tuple[CandidateBatch, float, float, frozenset[str]]] = {}
            for vacancy_id in vacancy_ids:
                one = await open_candidate_for_all(self.replica, raw, vacancy_id)
                if one is None:  # closed again already, or gone
                    self.areas.changed(vacancy_id, None, None)
                    for c in conns:
                        c.session.on_closed(vacancy_id)
                    continue
                found[vacancy_id] = one
                self.areas.changed(vacancy_id, one[1], one[2])
            offers = self._offers(conns, found, now, now_m)
            items: list[tuple[uuid.UUID, delivery.Item]] = []
            # One read for the cards of the whole batch. Its distances (from the
            # point given) are not used: each payload carries the phone's own.
            ids = list(dict.fromkeys(pick.candidate.vacancy_id for _, pick in offers))
            cards = (
                await geo.vacancy_cards(session, ids, *found[ids[0]][1:3], open_only=True)
                if ids
                else {}
            )
            for conn, pick in offers:
                told = conn.session.confirm([pick], cards, now, self.taxonomy, spent=False)
                items.extend((conn.seeker_id, item) for item in told)
            recorded = await delivery.record_many(raw, delivery.MATCH, items)
        sent: dict[uuid.UUID, list[delivery.Delivery]] = defaultdict(list)
        for d in recorded:
            sent[d.jobseeker_id].append(d)
        settle(
            self._sessions(),
            Counter(conn.seeker_id for conn, _ in offers),
            {seeker_id: len(ds) for seeker_id, ds in sent.items()},
        )
        for seeker_id, vacancy_item in items:
            for conn in self.connections.get(seeker_id, ()):
                conn.session.told([vacancy_item[0]])
        await self._send_many(sent)
        metrics.PUSHES.labels("match").inc(len(recorded))
        metrics.VACANCY_FANOUT_SECONDS.observe(time.perf_counter() - started)

    def _offers(
        self,
        conns: list[Connection],
        found: dict[uuid.UUID, tuple[CandidateBatch, float, float, frozenset[str]]],
        now: dt.datetime,
        now_m: float,
    ) -> list[tuple[Connection, candidates.Pick]]:
        """Score the changed vacancies for the connections near them (the
        geofence, in memory) and let their sessions decide (`session.fan_out`):
        the picks to confirm with their cards, one connection per person and
        vacancy. Their tokens are taken; `_fan_out` settles what is not sent."""
        lats = np.fromiter((c.last_point[0] for c in conns), np.float64, len(conns))  # type: ignore[index]
        lons = np.fromiter((c.last_point[1] for c in conns), np.float64, len(conns))  # type: ignore[index]
        radii = np.fromiter((c.state.radius_m for c in conns), np.float64, len(conns))  # type: ignore[union-attr]
        pairs: list[tuple[SeekerSession, ScoredVacancy]] = []
        vids = list(found)
        if not vids:
            return []
        # connections x vacancies: the distances, and who is near enough for a
        # vacancy to be within their radius or their cache's area (whose anchor
        # is at most the margin from the phone).
        dists = np.stack(
            [candidates.haversine_many(found[v][1], found[v][2], lats, lons) for v in vids], axis=1
        )
        reach = dists <= (radii + 2 * candidates.MARGIN_M)[:, None]
        near = np.flatnonzero(reach.any(axis=1))
        if not len(near):
            return []
        near_conns = [conns[i] for i in near.tolist()]
        # One scoring of the whole batch for everyone near any of it.
        scores, eligible = score_grid(
            [c.state for c in near_conns],  # type: ignore[misc]
            concat([found[v][0] for v in vids]), dists[near],
            [found[v][3] for v in vids],
        )  # fmt: skip
        for j, vacancy_id in enumerate(vids):
            rows = np.flatnonzero(reach[near, j])
            if not len(rows):
                continue
            batch, vlat, vlon, _ = found[vacancy_id]
            conns_j = [near_conns[i] for i in rows.tolist()]
            changes = scored_for(
                conns_j, batch, vacancy_id, vlat, vlon, dists[near[rows], j],
                scores.column(j).take(rows), eligible[rows, j],
            )  # fmt: skip
            pairs.extend(zip((c.session for c in conns_j), changes, strict=True))
        of = {id(c.session): c for c in conns}
        picks, deferred = fan_out(pairs, self._sessions(), now, now_m)
        for sess in deferred:
            self._arm(of[id(sess)])
        return [(of[id(sess)], pick) for sess, pick in picks]

    def _sessions(self) -> dict[uuid.UUID, list[SeekerSession]]:
        """Each person's sessions on this worker."""
        return {sid: [c.session for c in peers] for sid, peers in self.connections.items()}

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


# The positions live in `push_streams` (apart from the profile row), created with
# a person's first position; rows are locked in id order, as deliveries lock them.
SET_POSITIONS_SQL = """
INSERT INTO push_streams AS s (jobseeker_id, last_position, last_position_at)
SELECT p.id, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)::geography, now()
FROM unnest($1::uuid[], $2::float8[], $3::float8[]) AS p(id, lon, lat)
-- Only with a live location consent: a withdrawal on another worker wins.
WHERE EXISTS (SELECT 1 FROM consents c WHERE c.jobseeker_id = p.id
              AND c.kind = 'location' AND c.withdrawn_at IS NULL)
  AND EXISTS (SELECT 1 FROM jobseekers j WHERE j.id = p.id)
ORDER BY p.id
ON CONFLICT (jobseeker_id) DO UPDATE
SET last_position = EXCLUDED.last_position, last_position_at = EXCLUDED.last_position_at
"""

SET_POSITION_SQL = """
INSERT INTO push_streams AS s (jobseeker_id, last_position, last_position_at)
VALUES ($1, ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography, now())
ON CONFLICT (jobseeker_id) DO UPDATE
SET last_position = EXCLUDED.last_position, last_position_at = EXCLUDED.last_position_at
"""
