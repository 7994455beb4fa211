"""Idle phones: what one connected, idle phone costs the server in memory.

    python -m bench.idle_phones                    # 20,000 phones, 1,000 first
    python -m bench.idle_phones --phones 4000 --first 1000 --variants deflate,plain
    python -m bench.idle_phones --phones 3000 --idle-wait 150   # and once idle

The real server (`uvicorn api.app:create_app --factory --workers 2`, as `jotr serve`
runs it, bench/phones.py `Server`) on loopback with its own database (schema,
ESCO, vacancies and N jobseekers placed like the population, as bench/push_load.py
builds them). The phones are `websockets` clients in processes of their own
(bench/phones.py), at most `PER_PROC` to a process (the file limit). Each phone
connects (hello, replay, `resumed`), sends one location, waits until it is handled
(its probe's reply) and then stays idle.

Per variant (a server started afresh), connecting in two stages:
1. the first `--first` phones: the workers' memory after them less before any is
   the cost per connection with the fixed costs (pools warmed, code paths run
   once, allocator arenas) spread over few connections;
2. the rest up to `--phones`: the growth from stage 1 to stage 2, per phone added,
   is the marginal cost of one idle connection, the figure the aim is about.

Memory is the worker processes' RSS from /proc (summed), and PSS and USS
(private pages) from /proc/<pid>/smaps_rollup. `--idle-wait` reads it once more
after that long with nothing happening: past the candidate caches' TTL (120 s) and
two presence sweeps (20 s each) an idle session has let its cache and its seeker's
occupation fit go (push/session.py `shed`) and the worker has handed the freed
pages back (push/memory.py). With `--idle-stages` each stage is read that long
after it, so the marginal figure is what one more *idle* phone costs; without
it, what a phone costs right after connecting (much of it the high-water mark of
the connect burst: the areas built and the thousands of rows scored per phone).

The server runs `jotr serve`'s websocket protocol (api/push_socket.py) in every
variant. Variants:
- `deflate`: the phones offer permessage-deflate, as apps and browsers do, and the
  server compresses each message alone (no context takeover: the default, as it
  holds no zlib state between messages);
- `deflate-context`: the same with the context kept between messages
  (`JOTR_PUSH_DEFLATE_CONTEXT=true`, uvicorn's own setting: ~50 KiB of zlib state
  per connection for ~40 % fewer bytes than per-message compression);
- `plain`: the phones offer no compression (what the server's zlib costs);
- `server-plain`: phones offer it, the server declines (`JOTR_PUSH_DEFLATE=false`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import math
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from api.push_socket import PROTOCOL as PUSH_SOCKET
from bench import nearby_match, phones, push_load
from bench.docs_section import write_section
from matcher.db import sync_url
from matcher.settings import Settings

DB_NAME = "jotr_idle_bench"
PER_PROC = 8000  # phones per client process: well under the file limit of 20,000
SEED = 20240601
# name: (the phones offer permessage-deflate, extra server environment)
VARIANTS: dict[str, tuple[bool, dict[str, str]]] = {
    "deflate": (True, {}),
    "deflate-context": (True, {"JOTR_PUSH_DEFLATE_CONTEXT": "true"}),
    "plain": (False, {}),
    "server-plain": (True, {"UVICORN_WS_PER_MESSAGE_DEFLATE": "false"}),
}
# `jotr serve`'s websocket protocol (api/timeouts.py uvicorn_options), for every variant.
SERVER_ENV = {"UVICORN_WS": PUSH_SOCKET}


def memory(pids: list[int]) -> dict[str, int]:
    """RSS, PSS and USS of the processes, KiB, summed."""
    out = {"rss": 0, "pss": 0, "uss": 0}
    for pid in pids:
        text = phones._read(f"/proc/{pid}/smaps_rollup").decode()
        fields = {ln.split(":")[0]: int(ln.split()[1]) for ln in text.splitlines()[1:]}
        out["rss"] += fields.get("Rss", 0)
        out["pss"] += fields.get("Pss", 0)
        out["uss"] += fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return out


def sockets(pid: int) -> int:
    """Open sockets of a process: how the connections fell between the workers."""
    with contextlib.suppress(OSError):
        fds = Path(f"/proc/{pid}/fd")
        return sum(os.readlink(fds / fd).startswith("socket:") for fd in os.listdir(fds))
    return 0


async def stage(fleet: phones.FleetProcs, args: argparse.Namespace, frm: int, upto: int
                ) -> dict[str, Any]:  # fmt: skip
    """Connect phones `frm` to `upto` (process k holds every n-th phone from k);
    each sends one location; returns what it took."""
    n = len(fleet.procs)
    t0 = time.monotonic()
    more = [len(range(k, upto, n)) - len(range(k, frm, n)) for k in range(n)]
    res = await fleet.ask_each([("connect", args.concurrency // n or 1, m) for m in more])
    connect_s = time.monotonic() - t0
    located = phones.merge(await fleet.ask("locate", args.concurrency // n or 1, 60.0))
    return {
        "connected": sum(r["connected"] for r in res),
        "failed": phones.merge([r["failed"] for r in res]),
        "connect_s": connect_s,
        "handled_ms": located["handled_ms"]["first"],
        "unfinished": located["unfinished"],
        "closed": located["closed"],
        "close_codes": located["close_codes"],
    }


async def measure(server: phones.Server, fleet: phones.FleetProcs, args: argparse.Namespace
                  ) -> dict[str, Any]:  # fmt: skip
    workers = server.worker_pids()
    await asyncio.sleep(1.0)
    out: dict[str, Any] = {"before": memory(workers)}
    print(f"  before: RSS {out['before']['rss'] / 1024:,.0f} MiB", file=sys.stderr)
    for name, frm, upto in (("first", 0, args.first), ("all", args.first, args.phones)):
        st = await stage(fleet, args, frm, upto)
        await asyncio.sleep(args.settle)  # what the connects left in flight
        if args.idle_stages:  # read each stage idle: the marginal cost of an idle phone
            await asyncio.sleep(args.idle_wait)
        st["mem"] = memory(workers)
        st["per_worker"] = [sockets(p) for p in workers]
        out[name] = st
        print(f"  {name}: {st['connected']:,} more connected in {st['connect_s']:.1f} s "
              f"(failed {st['failed'] or 'none'}), locations handled p50/p99 "
              f"{push_load._pp(st['handled_ms'])}, unfinished {st['unfinished']}, closed by "
              f"the server so far {st['closed']} {st['close_codes'] or ''}; "
              f"RSS {st['mem']['rss'] / 1024:,.0f} MiB; sockets per worker {st['per_worker']}",
              file=sys.stderr)  # fmt: skip
    if args.idle_wait and not args.idle_stages:
        await asyncio.sleep(args.idle_wait)
        out["idle"] = {"mem": memory(workers), "after_s": args.idle_wait}
        print(f"  idle {args.idle_wait:g} s: RSS {out['idle']['mem']['rss'] / 1024:,.0f} MiB",
              file=sys.stderr)  # fmt: skip
    await fleet.ask("close")
    return out


def run_variant(name: str, args: argparse.Namespace, tokens: list[str], lat: Any, lon: Any
                ) -> dict[str, Any]:  # fmt: skip
    offer, extra = VARIANTS[name]
    env = {"JOTR_PUSH_PER_MINUTE": "1000", "JOTR_PUSH_BAD_MESSAGES": "10000000",
           "JOTR_PUSH_MAX_CONNECTIONS": "5", **SERVER_ENV, **extra, **dict(args.env)}  # fmt: skip
    server = phones.Server(args.url, args.workers, env, args.app)
    procs = max(1, math.ceil(args.phones / PER_PROC))
    fleet = None
    print(f"{name}: phones offer {'deflate' if offer else 'nothing'}; server env {extra or '-'}",
          file=sys.stderr)  # fmt: skip
    try:
        server.start(timeout=180.0)
        fleet = phones.FleetProcs(
            procs, server.base_url,
            [(i, tokens[i], float(lat[i]), float(lon[i])) for i in range(args.phones)],
            Settings().push_move_threshold_m, offer,
        )  # fmt: skip
        return {"variant": name} | asyncio.run(measure(server, fleet, args))
    finally:
        if fleet is not None:
            fleet.stop()
        server.stop()


def render(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    def kib(a: dict[str, int], b: dict[str, int], n: int, key: str) -> str:
        return f"{(b[key] - a[key]) / max(1, n):,.1f}"

    lines = [
        f"| variant | phones | connect s | location handled p50 / p99 | failed "
        f"| RSS MiB | KiB / phone from 0: RSS | marginal KiB / phone "
        f"({args.first:,} → {args.phones:,}): RSS / PSS / USS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        b, f, a = r["before"], r["first"], r["all"]
        n1, n2 = f["connected"], f["connected"] + a["connected"]
        failed = phones.merge([f["failed"], a["failed"]]) or 0
        marg = " / ".join(kib(f["mem"], a["mem"], a["connected"], k) for k in ("rss", "pss", "uss"))
        lines.append(
            f"| {r['variant']} | {n1:,} | {f['connect_s']:.1f} "
            f"| {push_load._pp(f['handled_ms'])} | {failed} | {f['mem']['rss'] / 1024:,.0f} "
            f"| {kib(b, f['mem'], n1, 'rss')} | |"
        )
        lines.append(
            f"| {r['variant']} | {n2:,} | {a['connect_s']:.1f} "
            f"| {push_load._pp(a['handled_ms'])} | {failed} | {a['mem']['rss'] / 1024:,.0f} "
            f"| {kib(b, a['mem'], n2, 'rss')} | **{marg}** |"
        )
        if "idle" in r:
            lines.append(
                f"| {r['variant']}, idle {r['idle']['after_s']:g} s more | {n2:,} | | | "
                f"| {r['idle']['mem']['rss'] / 1024:,.0f} "
                f"| {kib(b, r['idle']['mem'], n2, 'rss')} | |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = ap.add_argument
    add("--phones", type=int, default=20_000)
    add("--first", type=int, default=1000, help="phones connected in the first stage")
    add("--vacancies", type=int, default=20_000, help="open vacancies in the data")
    add("--radius", type=float, default=5000.0, help="the seekers' radius, metres")
    add("--variants", default="deflate,plain", help=f"of {', '.join(VARIANTS)}")
    add("--env", action="append", default=[], type=lambda s: tuple(s.split("=", 1)),
        help="NAME=VALUE for the server, every variant (repeatable)")  # fmt: skip
    add("--workers", type=int, default=2)
    add("--app", default="api.app:create_app", help="app factory (to measure a variant)")
    add("--concurrency", type=int, default=200, help="connects in flight, all processes")
    add("--settle", type=float, default=3.0, help="seconds between a stage and its reading")
    add("--idle-wait", type=float, default=0.0, help="read once more after this long idle")
    add("--idle-stages", action="store_true",
        help="read each stage after --idle-wait idle: the KiB per idle phone")  # fmt: skip
    add("--seed", type=int, default=SEED)
    add("--reuse", action="store_true", help="reuse the database if it holds this data")
    add("--keep", action="store_true", help="keep the database afterwards")
    add("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args(argv)
    args.first = min(args.first, args.phones)
    admin = os.environ.get("JOTR_BENCH_ADMIN_URL", nearby_match.DEFAULT_ADMIN)
    started, load0 = time.perf_counter(), os.getloadavg()[0]
    if args.reuse:
        with contextlib.suppress(psycopg.Error):
            push_load._clean(
                sync_url(make_url(admin).set(database=DB_NAME).render_as_string(False))
            )
    data = nearby_match.prepare_database(admin, args.vacancies, args.seed, args.reuse, DB_NAME)
    args.url = data.url
    push_load._clean(data.url)
    _, tokens, lat, lon, _ = push_load.add_seekers(data.url, args.phones, args.radius, args.seed)
    print(f"data ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    try:
        results = [run_variant(v, args, tokens, lat, lon) for v in args.variants.split(",")]
    finally:
        for attempt in range(3):  # the stopped server's last disconnect writes may race it
            try:
                push_load._clean(data.url)
                break
            except psycopg.errors.DeadlockDetected:
                time.sleep(1.0 + attempt)
        if not args.keep:
            nearby_match.drop_database(admin, DB_NAME)
    load = f"1-minute load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after"
    table = render(results, args)
    print(table)
    print(load, file=sys.stderr)
    if args.write_docs:
        given = argv if argv is not None else sys.argv[1:]
        cmd = "python -m bench.idle_phones " + shlex.join(given)
        write_section(
            "idle_phones", "Idle phones",
            f"Measured {dt.date.today().isoformat()} with `{cmd.strip()}`: {args.phones:,} idle "
            f"phones (each connected, one location, then idle) on `uvicorn --workers "
            f"{args.workers}`, {data.vacancies:,} open vacancies. Memory is the workers' "
            f"(summed); the marginal figure is the growth from the first {args.first:,} phones to "
            f"all, per phone added, so the fixed costs of a warm server are not in it.\n"
            f"Machine: {nearby_match.machine(data.url)}; {load}.\n\n{table}",
        )  # fmt: skip
    print(f"total {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
