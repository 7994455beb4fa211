"""The processes of bench/push_load.py: the phones, the server they talk to, and
what each of them uses (CPU and memory, read from /proc).

The phone fleet is many websocket clients in one process of its own (spawned by
bench/push_load.py), so that its work shows up as its own CPU time; it takes
commands over a pipe:

    ("connect", concurrency[, limit]) open the phones' connections (at most `limit`
                                      more), read each hello
    ("locate", concurrency, drain)    each new phone sends one location, then idles
    ("walk", rate, seconds, small, period, drain)
                                      move at `rate` updates/s in all, for `seconds`
    ("positions",)                    where each phone was last handled by the server
    ("deliveries",)                   the match frames that no update of ours caused
    ("close",)                        hang up

`FleetProcs` is the parent's handle on one or more such processes.

Every location frame is followed by a probe, `{"type":"bench_probe"}`, which the
server answers with an `unknown_type` error once it has handled the location
(a connection's frames are handled in order, and so are its replies). That makes
the completion of every update visible, also of those that push nothing, and
attributes the `match` frames between a location and its probe's reply to that
location. The server is started with `JOTR_PUSH_BAD_MESSAGES` raised so the probes
do not close the connection. Time is `time.monotonic()`, one clock for all
processes of the machine, so the poster's and the fleet's stamps compare.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing as mp
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from push.rules import haversine_m

ROOT = Path(__file__).resolve().parents[1]
_SPAWN = mp.get_context("spawn")
PROBE = orjson.dumps({"type": "bench_probe"}).decode()
METRES_PER_DEGREE = 111_320.0
BIG_STEP_M = (40.0, 150.0)  # a phone that moved: well over the 25 m threshold
SMALL_STEP_M = (2.0, 15.0)  # jitter below the threshold: the skip path


@dataclass(slots=True)
class Update:
    """One location update in flight."""

    sent: float
    kind: str  # "first" (nothing handled yet), "full" (moved past the threshold) or "skip"
    stats: StepStats  # the step it belongs to
    first_match: float | None = None
    matches: int = 0


@dataclass(slots=True, eq=False)
class Phone:
    idx: int
    token: str
    lat: float
    lon: float
    heading: float
    ws: ClientConnection | None = None
    handled: tuple[float, float] | None = None  # the server's idea of where we are
    inflight: deque[Update] = field(default_factory=deque)


@dataclass
class StepStats:
    started: float = 0.0
    ended: float = 0.0
    sent: int = 0
    moving: int = 0
    completed: int = 0
    last_done: float = 0.0
    handled_ms: dict[str, list[float]] = field(
        default_factory=lambda: {"first": [], "full": [], "skip": []}
    )
    push_ms: list[float] = field(default_factory=list)  # first match of a pushing update
    matches: int = 0
    points: list[tuple[int, float, float]] = field(default_factory=list)  # full updates

    def result(self, fleet: Fleet) -> dict[str, Any]:
        unfinished = sum(len(p.inflight) for p in fleet.phones)
        return {
            "busy_s": max(self.last_done, self.ended) - self.started, "sent": self.sent,
            "moving": self.moving, "completed": self.completed, "matches": self.matches,
            "handled_ms": self.handled_ms,
            "push_ms": self.push_ms, "unfinished": unfinished, "points": self.points[:3000],
            "closed": fleet.closed, "close_codes": dict(fleet.close_codes),
            "acks": fleet.acks, "errors": dict(fleet.errors),
        }  # fmt: skip


class Fleet:
    def __init__(self, base_url: str, phones: list[Phone], threshold_m: float, deflate: bool):
        self.url = base_url.replace("http://", "ws://") + "/v1/push"
        self.phones = phones
        self.threshold_m = threshold_m
        self.deflate = deflate
        self.rng = random.Random(phones[0].idx if phones else 0)
        self.stats = StepStats()
        self.deliveries: list[tuple[str, int, float]] = []  # vacancy id, phone idx, received
        self.closed = 0
        self.close_codes: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.acks = 0
        self.readers: set[asyncio.Task[None]] = set()

    # --- connecting ----------------------------------------------------------------

    async def connect(self, concurrency: int, limit: int | None = None) -> dict[str, Any]:
        """Connect the phones not connected yet (at most `limit` of them)."""
        gate = asyncio.Semaphore(concurrency)
        failed: Counter[str] = Counter()
        started = time.monotonic()
        todo = [ph for ph in self.phones if ph.ws is None][:limit]

        async def one(ph: Phone) -> None:
            async with gate:
                try:
                    # One device per phone (docs/push-protocol.md): acks and replays are per device.
                    headers = {
                        "Authorization": f"Bearer {ph.token}",
                        "Jotr-Device": f"bench-phone-{ph.idx:010d}",
                    }
                    ph.ws = await connect(
                        self.url, additional_headers=headers,
                        compression="deflate" if self.deflate else None, proxy=None,
                        ping_interval=None, open_timeout=60, max_queue=None,
                    )  # fmt: skip
                    hello = orjson.loads(await ph.ws.recv())
                    assert hello["type"] == "hello", hello
                    # The replay of what this device has not acked ends with `resumed`.
                    while orjson.loads(await ph.ws.recv())["type"] != "resumed":
                        pass
                except Exception as exc:
                    failed[type(exc).__name__] += 1
                    ph.ws = None
                    return
            task = asyncio.create_task(self._read(ph, ph.ws))
            self.readers.add(task)

        await asyncio.gather(*(one(ph) for ph in todo))
        ok = sum(ph.ws is not None for ph in todo)
        return {"connected": ok, "failed": dict(failed), "seconds": time.monotonic() - started}

    async def locate(self, concurrency: int, drain: float) -> dict[str, Any]:
        """Each connected phone that has not reported yet sends one location (and its
        probe), then stays idle; waits until the server has handled them all."""
        self.stats = StepStats(started=time.monotonic())
        todo = [ph for ph in self.phones if ph.ws is not None and ph.handled is None]
        gate = asyncio.Semaphore(concurrency)

        async def one(ph: Phone) -> None:
            async with gate:
                while ph.inflight and ph.ws is not None:  # noqa: ASYNC110 (one at a time)
                    await asyncio.sleep(0.01)
                ws = ph.ws
                if ws is None:
                    return
                self._step(ph, 0.0)
                where = {"lat": round(ph.lat, 7), "lon": round(ph.lon, 7), "accuracy_m": 10}
                frame = orjson.dumps({"type": "location", **where}).decode()
                ph.inflight.append(Update(time.monotonic(), "first", self.stats))
                self.stats.sent += 1
                with contextlib.suppress(ConnectionClosed):
                    await ws.send(frame)
                    await ws.send(PROBE)
                # Hold the slot until it is handled: at most `concurrency` wait at the server.
                done_by = time.monotonic() + drain
                while ph.inflight and ph.ws is not None and time.monotonic() < done_by:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)

        await asyncio.gather(*(one(ph) for ph in todo))
        self.stats.ended = time.monotonic()
        grace = time.monotonic() + drain
        while time.monotonic() < grace and any(ph.inflight for ph in todo):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return self.stats.result(self)

    # --- receiving ------------------------------------------------------------------

    async def _read(self, ph: Phone, ws: ClientConnection) -> None:
        try:
            async for frame in ws:
                now = time.monotonic()
                msg = orjson.loads(frame)
                kind = msg.get("type")
                if kind == "match":
                    await self._on_match(ph, ws, msg, now)
                elif kind == "error" and msg.get("code") == "unknown_type" and ph.inflight:
                    self._on_done(ph.inflight.popleft(), now)
                else:
                    self.errors[f"{kind}:{msg.get('code', '')}"] += 1
        except ConnectionClosed:
            pass
        finally:
            ph.ws = None
            self.closed += 1
            self.close_codes[ws.close_code or 0] += 1

    async def _on_match(
        self, ph: Phone, ws: ClientConnection, msg: dict[str, Any], now: float
    ) -> None:
        if ph.inflight:  # between a location and its probe: that location's doing
            up = ph.inflight[0]
            up.matches += 1
            if up.first_match is None:
                up.first_match = now
        else:  # nothing of ours in flight: a new vacancy came to us
            self.deliveries.append((msg["vacancy"]["id"], ph.idx, now))
        with contextlib.suppress(ConnectionClosed):
            await ws.send(orjson.dumps({"type": "ack", "seq": msg["seq"]}).decode())
            self.acks += 1

    def _on_done(self, up: Update, now: float) -> None:
        st = up.stats
        st.completed += 1
        st.last_done = max(st.last_done, now)
        st.handled_ms[up.kind].append((now - up.sent) * 1e3)
        st.matches += up.matches
        if up.first_match is not None:
            st.push_ms.append((up.first_match - up.sent) * 1e3)

    # --- moving ------------------------------------------------------------------------

    def _step(self, ph: Phone, small_share: float) -> str:
        """Move the phone; say what the server will do with the update."""
        if ph.handled is None:
            ph.handled = (ph.lat, ph.lon)
            return "first"
        lo, hi = SMALL_STEP_M if self.rng.random() < small_share else BIG_STEP_M
        dist = self.rng.uniform(lo, hi)
        ph.heading += self.rng.gauss(0.0, 0.6)  # a heading that drifts, not a drunkard's walk
        ph.lat += dist * math.cos(ph.heading) / METRES_PER_DEGREE
        ph.lon += dist * math.sin(ph.heading) / (METRES_PER_DEGREE * math.cos(math.radians(ph.lat)))
        # The server's rule (push/hub.py): compare with the last position it handled.
        if haversine_m(*ph.handled, ph.lat, ph.lon) < self.threshold_m:
            return "skip"
        ph.handled = (ph.lat, ph.lon)
        return "full"

    async def _walk(self, ph: Phone, first: float, period: float, end: float, small: float) -> None:
        at = first
        while at < end and ph.ws is not None:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            ws = ph.ws
            if ws is None:
                return
            kind = self._step(ph, small)
            frame = orjson.dumps({"type": "location", "lat": round(ph.lat, 7),
                                  "lon": round(ph.lon, 7), "accuracy_m": 10}).decode()  # fmt: skip
            ph.inflight.append(Update(time.monotonic(), kind, self.stats))
            self.stats.sent += 1
            if kind != "skip":
                self.stats.points.append((ph.idx, ph.lat, ph.lon))
            try:
                await ws.send(frame)
                await ws.send(PROBE)
            except ConnectionClosed:
                return
            at += period

    async def walk(
        self, rate: float, seconds: float, small_share: float, period: float, drain: float
    ) -> dict[str, Any]:
        """`rate * period` phones move, each once per `period` seconds at its own random
        offset: an open loop at `rate` updates/s that does not wait for replies. The
        same phones keep moving in the next step, and more join them."""
        live = [ph for ph in self.phones if ph.ws is not None]
        moving = live[: max(1, min(len(live), round(rate * period)))]
        period = len(moving) / rate
        start = time.monotonic() + 0.05
        end = start + seconds
        self.stats = StepStats(started=start, ended=end, moving=len(moving))
        offsets = [start + period * self.rng.random() for _ in moving]
        await asyncio.gather(*(self._walk(ph, o, period, end, small_share)
                               for ph, o in zip(moving, offsets, strict=True)))  # fmt: skip
        # Let the last updates finish: a saturated server gets a bounded grace.
        grace = time.monotonic() + drain
        while time.monotonic() < grace and any(ph.inflight for ph in moving):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return self.stats.result(self)

    # --- the rest -------------------------------------------------------------------

    def positions(self) -> list[tuple[int, float, float]]:
        """Where the server has each connected phone (where it started, if it never moved)."""
        return [(p.idx, *(p.handled or (p.lat, p.lon))) for p in self.phones if p.ws is not None]

    def take_deliveries(self) -> list[tuple[str, int, float]]:
        out, self.deliveries = self.deliveries, []
        return out

    async def close(self) -> dict[str, Any]:
        gate = asyncio.Semaphore(200)

        async def one(ph: Phone) -> None:
            async with gate:
                if ph.ws is not None:
                    with contextlib.suppress(Exception):
                        await ph.ws.close()

        await asyncio.gather(*(one(ph) for ph in self.phones))
        for task in self.readers:
            task.cancel()
        return {"closed": self.closed}


class FleetProcs:
    """The phone processes, each owning a share of the phones."""

    def __init__(self, n: int, base_url: str, phones: list[tuple[int, str, float, float]],
                 threshold_m: float, deflate: bool) -> None:  # fmt: skip
        self.pipes: list[Connection] = []
        self.procs: list[mp.process.BaseProcess] = []
        for k in range(n):
            ours, theirs = _SPAWN.Pipe()
            args = (theirs, base_url, phones[k::n], threshold_m, deflate)
            proc = _SPAWN.Process(target=fleet_main, args=args, daemon=True)
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    async def ask(self, cmd: str, *args: Any) -> list[Any]:
        for pipe in self.pipes:
            pipe.send((cmd, *args))
        loop = asyncio.get_running_loop()
        return list(await asyncio.gather(*(loop.run_in_executor(None, p.recv) for p in self.pipes)))

    async def ask_each(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """One command per process, in the order of `procs`."""
        for pipe, command in zip(self.pipes, commands, strict=True):
            pipe.send(command)
        loop = asyncio.get_running_loop()
        return list(await asyncio.gather(*(loop.run_in_executor(None, p.recv) for p in self.pipes)))

    def stop(self) -> None:
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The fleet processes' results as one: lists joined, counts added, dicts merged."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key not in out:
                out[key] = dict(value) if isinstance(value, dict) else value
            elif isinstance(value, dict):
                out[key] = merge([out[key], value])
            else:
                out[key] = max(out[key], value) if key == "busy_s" else out[key] + value
    return out


async def _serve(pipe: Connection, fleet: Fleet) -> None:
    loop = asyncio.get_running_loop()
    while True:
        cmd, *args = await loop.run_in_executor(None, pipe.recv)
        if cmd == "connect":
            pipe.send(await fleet.connect(*args))
        elif cmd == "locate":
            pipe.send(await fleet.locate(*args))
        elif cmd == "walk":
            pipe.send(await fleet.walk(*args))
        elif cmd == "positions":
            pipe.send(fleet.positions())
        elif cmd == "deliveries":
            pipe.send(fleet.take_deliveries())
        elif cmd == "close":
            pipe.send(await fleet.close())
            return


def fleet_main(
    pipe: Connection,
    base_url: str,
    phones: list[tuple[int, str, float, float]],
    threshold_m: float,
    deflate: bool,
) -> None:
    """Entry point of a fleet process: `phones` are (index, token, lat, lon)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65_536)), hard))
    rng = random.Random(phones[0][0] if phones else 0)
    fleet = Fleet(
        base_url,
        [Phone(i, tok, lat, lon, rng.uniform(0, 2 * math.pi)) for i, tok, lat, lon in phones],
        threshold_m,
        deflate,
    )
    uvloop.run(_serve(pipe, fleet))


# --- the server, and what the processes use ------------------------------------------------


class Server:
    """The app under test: uvicorn with N workers on a free loopback port, as
    `jotr serve` runs it; its output goes to a temporary file."""

    def __init__(self, url: str, workers: int, env: dict[str, str], app: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.args = [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1",
                     "--port", str(self.port), "--workers", str(workers), "--log-level",
                     "warning"]  # fmt: skip
        self.env = {**os.environ, "DATABASE_URL": url, "JOTR_LOG_LEVEL": "WARNING", **env}
        self.workers = workers
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (open while the server runs)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=self.log,
                                     stderr=self.log)  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"server exited: {self.log.read()[-2000:].decode()}")
            with contextlib.suppress(httpx.HTTPError):
                ready = httpx.get(f"{self.base_url}/readyz", timeout=1.0).status_code == 200
                if ready and len(self.worker_pids()) == self.workers:
                    return
            time.sleep(0.2)
        raise RuntimeError("server did not become ready")

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        kids = [int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit()
                and _stat(d.name)[1:2] == [str(self.proc.pid).encode()]]  # fmt: skip
        return [k for k in kids if b"multiprocessing-fork" in _read(f"/proc/{k}/cmdline")]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def _stat(pid: int | str) -> list[bytes]:
    """/proc/<pid>/stat from field 3 (state) on: [state, ppid, ...]."""
    parts = _read(f"/proc/{pid}/stat").rsplit(b")", 1)
    return parts[1].split() if len(parts) == 2 else []


def ticks(pid: int | str) -> int:
    f = _stat(pid) or [b"0"] * 20
    return int(f[11]) + int(f[12])  # utime + stime


def rss_kib(pids: list[int]) -> int:
    lines = [ln for p in pids for ln in _read(f"/proc/{p}/status").decode().splitlines()]
    return sum(int(ln.split()[1]) for ln in lines if ln.startswith("VmRSS:"))


def _ours(pid: str, db: bytes) -> bool:
    """A PostgreSQL process working for us: a backend of our database, or one of
    the server's own (postmaster, WAL writer, checkpointer...: no client address)."""
    if _read(f"/proc/{pid}/comm") != b"postgres\n":
        return False
    cmd = _read(f"/proc/{pid}/cmdline")
    return db in cmd or b"(" not in cmd


def cpu_snapshot(groups: dict[str, list[int]], db: str) -> dict[str, dict[int, int]]:
    """CPU ticks per process by group, plus "postgres" (see `_ours`; a backend that
    exits in between is not counted) and "machine" (all but idle and iowait)."""
    out = {name: {pid: ticks(pid) for pid in pids} for name, pids in groups.items()}
    pg = [d.name for d in Path("/proc").iterdir() if d.name.isdigit()]
    out["postgres"] = {int(p): ticks(p) for p in pg if _ours(p, db.encode())}
    cpu = [int(x) for x in _read("/proc/stat").split(b"\n", 1)[0].split()[1:8]]
    out["machine"] = {0: sum(cpu) - cpu[3] - cpu[4]}
    return out


def cores(before: dict[str, dict[int, int]], after: dict[str, dict[int, int]], wall: float
          ) -> dict[str, float]:  # fmt: skip
    tick = os.sysconf("SC_CLK_TCK")
    used = {name: sum(t - before[name].get(pid, 0) for pid, t in now.items()) / tick / wall
            for name, now in after.items()}  # fmt: skip
    used["other"] = max(0.0, used["machine"] - sum(v for k, v in used.items() if k != "machine"))
    return used
