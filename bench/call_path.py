"""The path one location update takes through our code: how many of our modules
it enters (stops), how often it calls up the layers (climbs), how many Python
calls of ours it makes, and its wall time untraced (issue #11 part 5: "at most
~15 stops with no climb back").

    python -m bench.call_path                       # builds a small database if absent
    python -m bench.call_path --before 82f5914      # also trace that commit, in a worktree
    python -m bench.call_path --before 82f5914 --write-docs

It drives the real push hub in process as `bench/push_hub.py` does (Settings,
make_engine, Taxonomy.load, PgBus, PushHub, hub.open/start/on_location, with the
bus consumer and the position writer running) on its own small database
(`--vacancies 2000 --seekers 50` by datagen). Each update enters as a JSON
frame through the websocket route's own handling (api/routers/push.py: parse,
admit, dispatch), so the api layer's part is on the path; the socket is not.
Three kinds of update:

- cold: the first location of a connection (reads the person, loads the area,
  scores it, records what is pushed);
- small move: a 30 m move inside the cached area that pushes nothing;
- push move: a move (steps of 150 m away from the start) that pushes a vacancy
  not pushed before; the table says whether it also reloaded the area.

Which moves are which is found by an untraced exploration run; the same moves
are then replayed from scratch (the seeker's pushes deleted, a fresh hub and bus)
`--repeat` times untraced for the wall time (median) and once traced.

How it counts, under `sys.setprofile` (Python 3.11), in the task that runs the
update only (the bus consumer, the position writer and tasks the update spawns
are other tasks and are left out; asyncpg's protocol callbacks run outside any
task and are left out too):

- a call is a Python frame of ours (module `matcher`, `push` or `api`, or below
  them, by `__name__` at runtime, so module moves need no change here) seen for
  the first time: a coroutine resumed after an await is not a new call, and
  comprehensions and generator expressions are frames, so they count;
- a stop is a distinct module of ours that the update's calls enter, listed in
  the order of first entry;
- a crossing is a call whose nearest calling frame of ours (walking out through
  library frames such as SQLAlchemy's or asyncio's) is in another module, and a
  module edge a distinct (calling module, called module) pair of them; a
  climb is a crossing from a lower layer into a higher one, where the layers are
  read from the import-linter contracts in pyproject.toml at runtime: a `layers`
  contract (api > push | ml > matcher; inside matcher feedback > matching >
  ranking > scoring) says a call from a later layer into an earlier one climbs,
  and a `forbidden` contract says a call from a source module into a module it
  may not import climbs (the scorer calling geo, say). Modules no contract
  orders (most of matcher) are one layer among themselves.

The baseline, in the same run, is `bench.push_hub.Baseline` at the cold point:
the hub's pre-cache path (read the seeker, store the position, candidate query,
score) as the push bench re-implements it, without recording a push. `--before
REV` checks REV out into a temporary git worktree and runs this script there
(its own imports, its own database, today's contracts), so "before" is measured.
The issue's figure for the code before it was written was 50 stops, 9 climbs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
import types
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import greenlet
import psycopg
from sqlalchemy.engine import make_url

from bench import nearby_match, push_load
from bench.docs_section import write_section
from matcher.db import make_engine, make_sessionmaker, sync_url
from matcher.esco.taxonomy import Taxonomy
from matcher.settings import Settings
from push import protocol as p
from push.bus import PgBus
from push.hub import PushHub

with contextlib.suppress(ImportError):  # the websocket route, where this version has it
    import api.routers.push  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "jotr_call_path"
OURS = ("matcher", "push", "api")
ISSUE_FIGURE = "50 stops, 9 climbs"
EARTH_M_PER_DEG = 111_195.0
# What sends one point as a frame from the phone.
Send = Callable[[], Awaitable[None]]
SMALL_MOVE_M = 30.0  # above the hub's 25 m move threshold, far inside the 500 m margin
PUSH_STEP_M = 150.0


def _ours(module: str) -> bool:
    return any(module == pkg or module.startswith(pkg + ".") for pkg in OURS)


def _within(module: str, name: str) -> bool:
    return module == name or module.startswith(name + ".")


# --- layers, from the import-linter contracts ---------------------------------------------


class Layers:
    """Which calls climb, by the import-linter contracts of a pyproject.toml."""

    def __init__(self, pyproject: Path) -> None:
        conf = tomllib.loads(pyproject.read_text())["tool"]["importlinter"]
        # Each: an ordered list (top first) of layers, a layer a list of module names.
        self.stacks: list[list[list[str]]] = []
        # Each: (sources, forbidden): a call from a source into a forbidden module climbs.
        self.forbidden: list[tuple[list[str], list[str]]] = []
        for c in conf.get("contracts", []):
            if c.get("type") == "layers":
                for container in c.get("containers") or [""]:
                    prefix = f"{container}." if container else ""
                    self.stacks.append([
                        [prefix + m.strip(" ()") for m in layer.split("|")]
                        for layer in c["layers"]
                    ])  # fmt: skip
            elif c.get("type") == "forbidden":
                self.forbidden.append((c["source_modules"], c["forbidden_modules"]))

    @staticmethod
    def _level(stack: list[list[str]], module: str) -> int | None:
        # The most specific layer wins (a module is in one layer of a stack).
        for i, layer in enumerate(stack):
            if any(_within(module, m) for m in layer):
                return i
        return None

    def climbs(self, caller: str, callee: str) -> bool:
        for stack in self.stacks:
            a, b = self._level(stack, caller), self._level(stack, callee)
            if a is not None and b is not None and a > b:
                return True
        return any(
            any(_within(caller, s) for s in sources) and any(_within(callee, f) for f in banned)
            for sources, banned in self.forbidden
        )


# --- the tracer ----------------------------------------------------------------------------


@dataclass
class Trace:
    calls: int = 0
    stops: list[str] = field(default_factory=list)
    crossings: int = 0
    edges: list[str] = field(default_factory=list)  # distinct "caller -> callee" modules
    climbs: int = 0
    climb_edges: dict[str, int] = field(default_factory=dict)  # "caller.fn -> callee.fn": n
    other_tasks: int = 0  # calls of ours in other tasks meanwhile (not counted above)


def _caller(frame: types.FrameType) -> types.FrameType | None:
    """The nearest calling frame of ours, out through library frames, and out of
    a greenlet (SQLAlchemy's async bridge runs its sync half in one, whose first
    frame has no f_back) into the frame that switched to it."""
    f = frame.f_back
    glet = greenlet.getcurrent()
    while True:
        while f is not None and not _ours(f.f_globals.get("__name__", "")):
            f = f.f_back
        if f is not None or glet is None or glet.parent is None:
            return f
        glet = glet.parent
        f = glet.gr_frame


class Tracer:
    """`with Tracer(layers) as t:` around an await in the task to measure."""

    def __init__(self, layers: Layers) -> None:
        self.layers = layers
        self.trace = Trace()
        self._seen: dict[int, types.FrameType] = {}  # kept alive so ids are not reused
        self._task: asyncio.Task[Any] | None = None

    def __enter__(self) -> Trace:
        self._task = asyncio.current_task()
        sys.setprofile(self._profile)
        return self.trace

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)
        self._seen.clear()

    def _profile(self, frame: types.FrameType, event: str, arg: object) -> None:
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        if not _ours(module):
            return
        t = self.trace
        if asyncio.current_task() is not self._task:
            t.other_tasks += 1
            return
        if id(frame) in self._seen:  # a coroutine or generator resumed
            return
        self._seen[id(frame)] = frame
        t.calls += 1
        if module not in t.stops:
            t.stops.append(module)
        caller = _caller(frame)
        if caller is None:
            return
        caller_module = caller.f_globals["__name__"]
        if caller_module == module:
            return
        t.crossings += 1
        edge = f"{caller_module} -> {module}"
        if edge not in t.edges:
            t.edges.append(edge)
        if self.layers.climbs(caller_module, module):
            t.climbs += 1
            hop = f"{caller_module}.{caller.f_code.co_name} -> {module}.{frame.f_code.co_name}"
            t.climb_edges[hop] = t.climb_edges.get(hop, 0) + 1


# --- the scenario ---------------------------------------------------------------------------


def _moved(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (
        lat + north_m / EARTH_M_PER_DEG,
        lon + east_m / (EARTH_M_PER_DEG * math.cos(math.radians(lat))),
    )


async def _frame(hub: PushHub, conn: Any, frame: str, max_radius_m: float) -> None:
    """A frame from the phone as the websocket route handles it (api/routers/push.py
    `_read`: parse, admit, dispatch), so the api layer's part is on the path; the
    socket itself is not. Straight to the hub where a version has no such route."""
    route = sys.modules.get("api.routers.push")
    dispatch = getattr(route, "_dispatch", None)
    if dispatch is None:
        body = json.loads(frame)
        await hub.on_location(conn, p.Location(body["lat"], body["lon"], None))
        return
    msg = p.parse(frame, max_radius_m)
    admit = getattr(route, "_admit", None)
    if admit is not None and not admit(conn, msg, time.monotonic()):
        raise RuntimeError("the route's frame limiter dropped a location frame")
    await dispatch(hub, conn, msg)


def _pushed(conn: Any) -> int:
    """Matches the update queued for the phone (the phone reads everything)."""
    n = 0
    while not conn.outbox.empty():
        n += json.loads(conn.outbox.get_nowait()).get("type") == "match"
    return n


def _cache_of(conn: Any) -> object:
    """The connection's candidate cache, wherever this version keeps it."""
    session = getattr(conn, "session", None)
    if session is not None and hasattr(session, "cache"):
        return session.cache
    return getattr(conn, "cache", None)


@dataclass
class Plan:
    seeker_id: uuid.UUID
    points: list[tuple[float, float]]
    kinds: dict[str, int]  # kind -> index into points
    pushed: dict[str, int]
    reloaded: dict[str, bool]


class Rig:
    """One database, taxonomy and engine; a fresh bus and hub per replay."""

    def __init__(self, url: str) -> None:
        self.url = url
        # As bench/push_hub.py, no allowance in the way; and the replays send frames
        # faster than a phone does, so the route's frame limiter must not drop them.
        self.settings = Settings(
            push_per_minute=100_000, push_frame_burst=100_000, database_url=url
        )
        self.engine = make_engine(url, self.settings)
        self.sm = make_sessionmaker(self.engine)
        self.taxonomy: Taxonomy | None = None

    async def replay(
        self,
        seeker_id: uuid.UUID,
        points: list[tuple[float, float]],
        visit: Callable[[int, PushHub, Any, Send], Awaitable[bool]],
    ) -> None:
        """Connect the seeker afresh and send `points` in order; `visit(i, hub,
        conn, send)` sends point i (returning False stops the replay)."""
        if self.taxonomy is None:
            async with self.sm() as session:
                self.taxonomy = await Taxonomy.load(session)
        _reset(self.url, [seeker_id])
        url = make_url(sync_url(self.url)).set(drivername="postgresql")
        bus = PgBus(url.render_as_string(False))
        hub = PushHub(self.sm, self.taxonomy, self.settings, bus)
        await bus.start(hub.ring, hub.on_bus_connect)
        tasks = [asyncio.create_task(hub.consume()), asyncio.create_task(hub.write_positions())]
        conn = hub.open(seeker_id)
        try:
            await hub.start(conn)
            for i, (lat, lon) in enumerate(points):

                async def send(la: float = lat, lo: float = lon) -> None:
                    frame = json.dumps({"type": "location", "lat": la, "lon": lo})
                    await _frame(hub, conn, frame, self.settings.max_radius_m)

                if not await visit(i, hub, conn, send):
                    break
        finally:
            for t in tasks:
                t.cancel()
            await hub.close(conn)
            await bus.close()

    async def explore(self, seeker_id: uuid.UUID, home: tuple[float, float]) -> Plan | None:
        """Find, for this seeker, a cold update that pushes, then a small move that
        pushes nothing, then a move that pushes; None if there is none."""
        points = [home]
        small = [_moved(*home, SMALL_MOVE_M * (1 - i % 2), 0.0) for i in range(1, 25)]
        away = [
            _moved(*home, PUSH_STEP_M * k * math.cos(b), PUSH_STEP_M * k * math.sin(b))
            for b in (0.0, math.pi / 2)
            for k in range(1, 30)
        ]
        plan = Plan(seeker_id, [], {}, {}, {})
        candidates = points + small + away

        async def visit(i: int, hub: PushHub, conn: Any, send: Send) -> bool:
            is_small = 0 < i <= len(small)
            if is_small and "small move" in plan.kinds:
                return True  # a quiet one was found: the rest are not sent
            plan.points.append(candidates[i])
            cache = _cache_of(conn)
            await send()
            n = _pushed(conn)
            reloaded = _cache_of(conn) is not cache
            if i == 0:
                kind: str | None = "cold"
                if n == 0:
                    return False  # nothing to push here: try another seeker
            elif is_small:
                kind = "small move" if n == 0 and not reloaded else None
            else:
                kind = "push move" if n > 0 and "small move" in plan.kinds else None
            if kind is not None:
                plan.kinds[kind] = len(plan.points) - 1
                plan.pushed[kind], plan.reloaded[kind] = n, reloaded
            return "push move" not in plan.kinds

        await self.replay(seeker_id, candidates, visit)
        return plan if len(plan.kinds) == 3 else None


def _reset(url: str, ids: list[uuid.UUID]) -> None:
    """Each replay starts from nothing pushed (tables absent in older versions skipped)."""
    with psycopg.connect(nearby_match._libpq(url)) as conn:
        for table in ("push_deliveries", "push_streams", "push_presence"):
            if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone() != (None,):
                conn.execute(f"DELETE FROM {table} WHERE jobseeker_id = ANY(%s)", (ids,))


async def measure(args: argparse.Namespace, url: str, homes: dict[uuid.UUID, tuple[float, float]],
                  layers: Layers) -> dict[str, Any]:  # fmt: skip
    rig = Rig(url)
    try:
        plan = None
        for sid, home in homes.items():
            plan = await rig.explore(sid, home)
            if plan is not None:
                break
        if plan is None:
            raise SystemExit("no seeker found with a cold push, a quiet small move and a push move")
        by_index = {i: k for k, i in plan.kinds.items()}
        walls: dict[str, list[float]] = {k: [] for k in plan.kinds}
        traced: dict[str, dict[str, Any]] = {}

        async def timed(i: int, hub: PushHub, conn: Any, send: Send) -> bool:
            t0 = time.perf_counter()
            await send()
            if i in by_index:
                walls[by_index[i]].append(time.perf_counter() - t0)
            _pushed(conn)
            return True

        async def tracing(i: int, hub: PushHub, conn: Any, send: Send) -> bool:
            if i not in by_index:
                await send()
                _pushed(conn)
                return True
            cache = _cache_of(conn)
            with Tracer(layers) as t:
                await send()
            kind, n, reloaded = by_index[i], _pushed(conn), _cache_of(conn) is not cache
            if (n > 0, reloaded) != (plan.pushed[kind] > 0, plan.reloaded[kind]):
                print(f"  traced {kind} differs from the exploration: pushed {n} (was "
                      f"{plan.pushed[kind]}), area loaded {reloaded}", file=sys.stderr)  # fmt: skip
            traced[kind] = asdict(t) | {"pushed": n, "reloaded": reloaded}
            return True

        for _ in range(args.repeat):
            await rig.replay(plan.seeker_id, plan.points, timed)
        await rig.replay(plan.seeker_id, plan.points, tracing)
        rows = [
            traced[k] | {"kind": k, "path": "hub", "wall_ms": 1000 * statistics.median(walls[k])}
            for k in ("cold", "small move", "push move")
        ]
        rows += await _baseline(rig, plan, layers, args.repeat)
        return {"rows": rows, "seeker": str(plan.seeker_id), "moves": len(plan.points)}
    finally:
        await rig.engine.dispose()


async def _baseline(rig: Rig, plan: Plan, layers: Layers, repeat: int) -> list[dict[str, Any]]:
    """`bench.push_hub.Baseline` (the pre-cache path) at the cold update's point."""
    try:
        from bench.push_hub import Baseline
    except ImportError:
        return []
    out: list[dict[str, Any]] = []

    async def visit(i: int, hub: PushHub, conn: Any, send: Send) -> bool:
        base = Baseline(hub)
        lat, lon = plan.points[plan.kinds["cold"]]
        walls = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            await base.on_location(plan.seeker_id, lat, lon)
            walls.append(time.perf_counter() - t0)
        with Tracer(layers) as t:
            await base.on_location(plan.seeker_id, lat, lon)
        wall_ms = 1000 * statistics.median(walls)
        out.append(asdict(t) | {"kind": "any", "path": "pre-cache baseline", "pushed": 0,
                                "reloaded": True, "wall_ms": wall_ms})  # fmt: skip
        return False

    await rig.replay(plan.seeker_id, plan.points[:1], visit)
    return out


# --- the database and the run ---------------------------------------------------------------


def prepare(args: argparse.Namespace) -> tuple[str, dict[uuid.UUID, tuple[float, float]]]:
    admin = os.environ.get("JOTR_BENCH_ADMIN_URL", nearby_match.DEFAULT_ADMIN)
    data = nearby_match.prepare_database(admin, args.vacancies, push_load.SEED, True, args.db)
    push_load._clean(data.url)
    seekers, _, lat, lon, _ = push_load.add_seekers(data.url, args.seekers, 5000.0, args.seed)
    homes = {s.id: (float(a), float(b)) for s, a, b in zip(seekers, lat, lon, strict=True)}
    return data.url, homes


def run_before(args: argparse.Namespace) -> list[dict[str, Any]]:
    """This script, run in a worktree of `args.before` with that version's imports."""
    wt = Path(f"/tmp/call_path_{args.before}")
    if wt.exists():
        subprocess.run(["git", "worktree", "remove", "--force", str(wt)], cwd=ROOT, check=False)
    subprocess.run(["git", "worktree", "add", "--detach", str(wt), args.before], cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    try:
        shutil.copy(Path(__file__), wt / "bench" / "call_path.py")
        out = wt / "call_path.json"
        cmd = [sys.executable, "-m", "bench.call_path", "--db", f"{args.db}_before",
               "--vacancies", str(args.vacancies), "--seekers", str(args.seekers),
               "--seed", str(args.seed), "--repeat", str(args.repeat),
               "--contracts", str(ROOT / "pyproject.toml"), "--json", str(out)]  # fmt: skip
        env = os.environ | {"PYTHONPATH": str(wt)}
        # Its table is printed here with ours; its progress and errors go to stderr.
        subprocess.run(cmd, cwd=wt, env=env, check=True, stdout=subprocess.DEVNULL)
        rows: list[dict[str, Any]] = json.loads(out.read_text())["rows"]
        for r in rows:
            r["path"] = f"{args.before}: {r['path']}"
        return rows
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(wt)], cwd=ROOT, check=False)


def report(rows: list[dict[str, Any]], header: str) -> str:
    lines = [
        header, "",
        "| update | path | stops | climbs | crossings | module edges | calls | pushed "
        "| area loaded | wall (untraced) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]  # fmt: skip
    for r in rows:
        lines.append(
            f"| {r['kind']} | {r['path']} | {len(r['stops'])} | {r['climbs']} | {r['crossings']:,} "
            f"| {len(r['edges'])} "
            f"| {r['calls']:,} | {r['pushed']} | {'yes' if r['reloaded'] else 'no'} "
            f"| {r['wall_ms']:.2f} ms |"
        )
    lines += [
        "",
        f"The issue's figure for the path before the candidate cache was {ISSUE_FIGURE}. "
        "Stops: distinct modules of `matcher`, `push`, `api` entered, in the update's own "
        "task; climbs: calls up a layer of the import-linter contracts (see the "
        "docstring of bench/call_path.py).",
        "",
    ]
    for r in rows:
        lines.append(f"- {r['kind']}, {r['path']} ({len(r['stops'])}): " + ", ".join(
            f"`{m}`" for m in r["stops"]))  # fmt: skip
        for edge, n in r["climb_edges"].items():
            lines.append(f"  - climb: `{edge}`" + (f" ×{n}" if n > 1 else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=DB_NAME)
    ap.add_argument("--vacancies", type=int, default=2000)
    ap.add_argument("--seekers", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=5, help="untraced replays for the wall time")
    ap.add_argument("--before", help="also trace this git revision, in a temporary worktree")
    ap.add_argument("--contracts", type=Path, default=ROOT / "pyproject.toml")
    ap.add_argument("--json", type=Path, help="write the rows as JSON here")
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args(argv)
    load0 = os.getloadavg()[0]
    url, homes = prepare(args)
    r = asyncio.run(measure(args, url, homes, Layers(args.contracts)))
    rows = r["rows"]
    if args.before:
        rows += run_before(args)
    if args.json:
        args.json.write_text(json.dumps(r | {"rows": rows}))
    header = (
        f"Command: `python -m bench.call_path --vacancies {args.vacancies} --seekers "
        f"{args.seekers} --repeat {args.repeat}{' --before ' + args.before if args.before else ''}"
        f"` (one seeker, {r['moves']} moves; 1-minute load {load0:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after)."
    )
    text = report(rows, header)
    print(text)
    if args.write_docs:
        write_section("call_path", "Call path of a location update", text)


if __name__ == "__main__":
    main()
