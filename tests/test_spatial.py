"""The in-memory spatial index against a brute-force scan (the oracle) and PostGIS."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.matching.spatial import GridIndex, haversine_m
from tests.conftest import _libpq


def brute_force(
    lat: np.ndarray, lon: np.ndarray, alive: np.ndarray, p: tuple[float, float], r: float
) -> tuple[np.ndarray, np.ndarray]:
    rows = np.flatnonzero(alive)
    dist = haversine_m(p[0], p[1], lat[rows], lon[rows])
    keep = dist <= r
    rows, dist = rows[keep], dist[keep]
    order = np.lexsort((rows, dist))
    return rows[order], dist[order]


# Mostly Denmark-sized clusters, sometimes anywhere on Earth (poles and the
# antimeridian included), so the box arithmetic is tested where it bends.
danish = st.tuples(st.floats(54.5, 57.8), st.floats(8.0, 12.7))
anywhere = st.tuples(st.floats(-90, 90), st.floats(-180, 180))
points = st.lists(st.one_of(danish, danish, anywhere), min_size=0, max_size=300)


@settings(max_examples=100, deadline=None)
@given(
    pts=points,
    extra=points,
    removed=st.lists(st.integers(0, 599), max_size=50),
    queries=st.lists(
        st.tuples(st.one_of(danish, anywhere), st.floats(0, 60_000)), min_size=1, max_size=5
    ),
)
def test_within_equals_brute_force(
    pts: list[tuple[float, float]],
    extra: list[tuple[float, float]],
    removed: list[int],
    queries: list[tuple[tuple[float, float], float]],
) -> None:
    everything = pts + extra
    lat = np.array([p[0] for p in everything], dtype=np.float64)
    lon = np.array([p[1] for p in everything], dtype=np.float64)
    n0 = len(pts)
    index = GridIndex(lat[:n0], lon[:n0])
    # Rows added after the build land in the delta; some are then removed.
    index.set_coordinates(lat, lon)
    index.add(np.arange(n0, len(everything)))
    gone = [r for r in removed if r < len(everything)]
    index.remove(gone)
    alive = np.ones(len(everything), dtype=bool)
    alive[gone] = False
    assert len(index) == int(alive.sum())
    for p, r in queries:
        rows, dist = index.within(p[0], p[1], r)
        want_rows, want_dist = brute_force(lat, lon, alive, p, r)
        assert rows.tolist() == want_rows.tolist()
        np.testing.assert_allclose(dist, want_dist, rtol=0, atol=1e-3)


def test_rebuild_after_many_additions_keeps_answers() -> None:
    rng = np.random.default_rng(7)
    lat = rng.uniform(55.5, 56.5, 12_000)
    lon = rng.uniform(9.5, 10.5, 12_000)
    index = GridIndex(lat[:1_000], lon[:1_000])
    index.set_coordinates(lat, lon)
    for start in range(1_000, 12_000, 500):  # crosses the delta bound: rebuilds
        index.add(np.arange(start, start + 500))
    index.remove(np.arange(0, 12_000, 3))
    alive = np.ones(12_000, dtype=bool)
    alive[::3] = False
    for _ in range(20):
        p = (float(rng.uniform(55.5, 56.5)), float(rng.uniform(9.5, 10.5)))
        rows, _ = index.within(*p, 5_000)
        assert rows.tolist() == brute_force(lat, lon, alive, p, 5_000)[0].tolist()


def test_removed_row_added_back_is_found_once() -> None:
    lat, lon = np.array([56.15, 56.16]), np.array([10.20, 10.21])
    index = GridIndex(lat, lon)
    index.remove([0])
    assert index.within(56.15, 10.20, 10.0)[0].tolist() == []
    index.add([0])
    assert index.within(56.15, 10.20, 10.0)[0].tolist() == [0]


@pytest.mark.parametrize("bad", [(float("nan"), 10.0, 1.0), (56.0, 10.0, float("inf"))])
def test_refuses_non_finite_queries(bad: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError):
        GridIndex(np.array([56.0]), np.array([10.0])).within(*bad)


def test_distances_agree_with_postgis_sphere(database_url: str) -> None:
    """The replica must rank and cut exactly where PostGIS would."""
    rng = np.random.default_rng(3)
    lat = rng.uniform(54.6, 57.7, 200)
    lon = rng.uniform(8.1, 12.6, 200)
    p = (56.1535, 10.2039)
    mine = haversine_m(p[0], p[1], lat, lon)
    with psycopg.connect(_libpq(database_url)) as conn:
        theirs = conn.execute(
            """SELECT ST_Distance(ST_MakePoint(%s, %s)::geography,
                                  ST_MakePoint(x, y)::geography, false)
               FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS t(x, y, i)
               ORDER BY i""",
            (p[1], p[0], lon.tolist(), lat.tolist()),
        ).fetchall()
    np.testing.assert_allclose(mine, [r[0] for r in theirs], rtol=0, atol=0.01)
