"""Which in-memory spatial structure the replica should use, by measurement.

Candidates for "rows within r of p, nearest first, exact distances, no cap",
all over the same points (postcode centroids jittered like bench/datagen.py,
so central Copenhagen is as dense as in the nearby-match benchmark):

- `grid`     matcher.matching.spatial.GridIndex (the product's choice);
- `kdtree`   scipy cKDTree over unit-sphere vectors (chord radius), then the
             same exact haversine, mask and sort;
- `balltree` scikit-learn BallTree with the haversine metric, sorted results;
- `scan`     the baseline: haversine over every row, mask, sort.

Queries are at seekers' points drawn from the same distribution, plus Aarhus
and Copenhagen city halls. Reported: build time, index memory, and per-query
p50/p99 (ms) at each radius; the speed-up is against `scan` in the same run.

    python -m bench.spatial_index [--sizes 100000,1000000] [--write-docs]
"""

from __future__ import annotations

import argparse
import gc
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from sklearn.neighbors import BallTree

from bench import datagen
from bench.docs_section import write_section
from matcher.matching.spatial import EARTH_RADIUS_M, GridIndex, haversine_m

Query = Callable[[float, float, float], tuple[np.ndarray, np.ndarray]]
CITY_HALLS = [(56.1535, 10.2039), (55.6761, 12.5683)]


@dataclass
class Result:
    name: str
    n: int
    build_s: float
    bytes: int
    ms: dict[float, list[float]]
    found: dict[float, list[int]]
    # The rows of the first queries, to check every structure against the scan.
    rows: dict[float, list[list[int]]]


def _unit(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    p, lmb = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(p) * np.cos(lmb), np.cos(p) * np.sin(lmb), np.sin(p)])


def _finish(lat: np.ndarray, lon: np.ndarray, rows: np.ndarray, p: tuple[float, float], r: float):
    dist = haversine_m(p[0], p[1], lat[rows], lon[rows])
    keep = dist <= r
    rows, dist = rows[keep], dist[keep]
    order = np.lexsort((rows, dist))
    return rows[order], dist[order]


def build(name: str, lat: np.ndarray, lon: np.ndarray) -> tuple[Query, int]:
    """A query function over the points, and what its index holds in bytes."""
    if name == "grid":
        grid = GridIndex(lat, lon)
        held = (grid._sorted_rows, *grid._sorted_xyz, grid._keys, grid._xyz, grid._alive)
        size = sum(a.nbytes for a in held)
        return grid.within, size
    if name == "kdtree":
        tree = cKDTree(_unit(lat, lon), balanced_tree=False, compact_nodes=False)

        def kd(la: float, lo: float, r: float) -> tuple[np.ndarray, np.ndarray]:
            chord = 2.0 * np.sin(min(r / EARTH_RADIUS_M, np.pi) / 2.0) * (1 + 1e-9)
            rows = np.asarray(
                tree.query_ball_point(
                    _unit(np.array([la]), np.array([lo]))[0], chord, return_sorted=False
                ),
                dtype=np.int64,
            )
            return _finish(lat, lon, rows, (la, lo), r)

        return kd, tree.size * 8 * 3 * 2  # points copy + tree arrays, roughly
    if name == "balltree":
        radians = np.radians(np.column_stack([lat, lon]))
        ball = BallTree(radians, metric="haversine")

        def bt(la: float, lo: float, r: float) -> tuple[np.ndarray, np.ndarray]:
            ind, dist = ball.query_radius(
                np.radians([[la, lo]]), r / EARTH_RADIUS_M, return_distance=True, sort_results=True
            )
            return ind[0].astype(np.int64), dist[0] * EARTH_RADIUS_M

        arrays = ball.get_arrays()
        return bt, sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))
    if name == "scan":
        return (lambda la, lo, r: _finish(lat, lon, np.arange(len(lat)), (la, lo), r)), 0
    raise ValueError(name)


def measure(
    names: list[str], n: int, radii: list[float], queries: int, scan_queries: int, seed: int
) -> list[Result]:
    rng = np.random.default_rng(seed)
    places = datagen.load_places()
    lat, lon = datagen.sample_points(rng, places, n)
    qlat, qlon = datagen.sample_points(rng, places, queries)
    points = CITY_HALLS + list(zip(qlat.tolist(), qlon.tolist(), strict=True))
    out = []
    for name in names:
        gc.collect()
        t0 = time.perf_counter()
        query, size = build(name, lat, lon)
        build_s = time.perf_counter() - t0
        res = Result(name, n, build_s, size, {}, {}, {})
        todo = points[: scan_queries + 2] if name == "scan" else points
        for radius in radii:
            times, found, kept = [], [], []
            query(todo[0][0], todo[0][1], radius)  # warm-up
            for i, p in enumerate(todo):
                t = time.perf_counter()
                rows, _ = query(p[0], p[1], radius)
                times.append((time.perf_counter() - t) * 1000)
                found.append(len(rows))
                if i < scan_queries + 2:
                    kept.append(sorted(rows.tolist()))
            res.ms[radius], res.found[radius], res.rows[radius] = times, found, kept
        out.append(res)
        print(f"  {name} n={n:,}: built in {build_s:.2f} s", file=sys.stderr)
    # Every structure must return exactly what the scan returns.
    ref = next(res for res in out if res.name == "scan")
    for res in out:
        for radius in radii:
            assert res.rows[radius] == ref.rows[radius], (res.name, radius)
    return out


def render(results: list[Result], radii: list[float]) -> str:
    head = "| n | structure | build | memory | " + " | ".join(
        f"{r / 1000:g} km p50 | p99 | rows mean" for r in radii
    )
    lines = [head + " | speed-up p99 at 5 km |", "|" + "---:|" * (5 + 3 * len(radii))]
    for res in results:
        scan = next(r for r in results if r.name == "scan" and r.n == res.n)
        cells = []
        for r in radii:
            ms = np.asarray(res.ms[r])
            cells += [f"{np.percentile(ms, 50):.2f} ms", f"{np.percentile(ms, 99):.2f} ms",
                      f"{np.mean(res.found[r]):,.0f}"]  # fmt: skip
        five = 5000.0 if 5000.0 in radii else radii[0]
        ratio = np.percentile(scan.ms[five], 99) / np.percentile(res.ms[five], 99)
        mem = f"{res.bytes / 2**20:.1f} MiB" if res.bytes else "–"
        lines.append(
            f"| {res.n:,} | {res.name} | {res.build_s * 1000:.0f} ms | {mem} | "
            + " | ".join(cells)
            + f" | {ratio:.1f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--structures", default="grid,kdtree,balltree,scan")
    ap.add_argument("--radii", default="1000,5000,20000")
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--scan-queries", type=int, default=40)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args(argv)
    radii = [float(r) for r in args.radii.split(",")]
    names = args.structures.split(",")
    if "scan" not in names:
        names.append("scan")
    load = os.getloadavg()[0]
    results: list[Result] = []
    for n in (int(s) for s in args.sizes.split(",")):
        results += measure(names, n, radii, args.queries, args.scan_queries, args.seed)
    note = f"1-minute load average {load:.2f} before, {os.getloadavg()[0]:.2f} after"
    table = render(results, radii)
    print(table)
    print(note, file=sys.stderr)
    if args.write_docs:
        cmd = "python -m bench.spatial_index " + shlex.join(
            argv if argv is not None else sys.argv[1:]
        )
        write_section(
            "spatial_index",
            "Spatial index for the in-memory replica",
            f"Measured {time.strftime('%Y-%m-%d')} with `{cmd.strip()}`, one query at a time, "
            f"{args.queries} seekers' points + the Aarhus and Copenhagen city halls per radius "
            f"({args.scan_queries} for the scan); {os.cpu_count()} cores; {note}. Every "
            "structure returned exactly the scan's rows.\n\n" + table,
        )


if __name__ == "__main__":
    main()
