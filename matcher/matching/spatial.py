"""An in-memory spatial index: "the rows within r metres of p, nearest first".

This is the geo part of the per-worker replica of open vacancies (issue #11):
exact great-circle distances, no candidate cap, and cheap incremental change.

Structure (chosen by measurement, `python -m bench.spatial_index`, figures in
docs/benchmarks.md): a uniform grid of about 1 km cells over latitude/longitude,
stored as row numbers sorted by cell key. A query
visits the cells that overlap the circle's bounding box: one contiguous slice
per grid row, so a 5 km query is about ten slices, then one vectorised
haversine over what they hold, a mask and an argsort. A KD-tree on unit-sphere
vectors (scipy's cKDTree) answers sparse queries as fast, but turning its
result lists into arrays costs more than the grid's slices where circles are
dense (central Copenhagen: tens of thousands of rows within 5 km), which is
exactly where the tail latency lives.

Change is incremental without rebuilding on every write: rows added since the
last build sit in a small delta that every query scans directly, removed rows
are masked out, and the grid is rebuilt (a sort, ~20 ms per 100k rows) when the
delta grows past a bound. The index stores row numbers of the caller's arrays;
it never owns the vacancies themselves.

Distances are on the sphere of radius 6,371,008.8 m, the mean Earth radius
PostGIS uses for `ST_Distance(geography, false)`, so the replica and PostGIS
agree to the centimetre (tests/test_spatial.py).
"""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180.0
# The grid's cell height in degrees of latitude (~1.1 km); widths are set per
# index from the latitude of its rows, so cells are about square in Denmark.
CELL_DEG_LAT = 0.01
# Rebuild the grid once this many rows wait in the delta (and at least this
# share of the indexed rows): queries scan the delta in full.
DELTA_ROWS = 2_000
DELTA_SHARE = 0.02


def haversine_m(
    lat1: float | np.ndarray, lon1: float | np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distances in metres (vectorised over the second point)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points as unit vectors (n x 3): distances then need no trigonometry per row."""
    p, lmb = np.radians(lat), np.radians(lon)
    cos_p = np.cos(p)
    return np.column_stack([cos_p * np.cos(lmb), cos_p * np.sin(lmb), np.sin(p)])


def chord_to_m(chord2: np.ndarray) -> np.ndarray:
    """Great-circle metres from squared chord lengths of unit vectors.

    The chord is taken from coordinate differences, so it stays precise at
    short range (where 1 - dot product would lose it to rounding)."""
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(np.sqrt(chord2) / 2, 1.0))


def m_to_chord2(radius_m: float) -> float:
    half = min(radius_m / (2 * EARTH_RADIUS_M), math.pi / 2)
    return (2 * math.sin(half)) ** 2


class GridIndex:
    """A grid index over row numbers 0..n-1 of caller-held `lat`/`lon` arrays.

    The caller owns the coordinate arrays and may grow them; it tells the index
    about rows it adds (`add`) and removes (`remove`). Coordinates of a row must
    not change in place: remove it and add it again under a new row number.
    """

    def __init__(self, lat: np.ndarray, lon: np.ndarray, rows: np.ndarray | None = None) -> None:
        self._lat = np.asarray(lat, dtype=np.float64)
        self._lon = np.asarray(lon, dtype=np.float64)
        self._xyz = unit_vectors(self._lat, self._lon)
        n = len(self._lat)
        self._alive = np.zeros(n, dtype=bool)
        self._alive[np.arange(n) if rows is None else rows] = True
        self._delta: list[int] = []
        self._in_grid = np.zeros(n, dtype=bool)
        self._build()

    # --- changes -----------------------------------------------------------

    def set_coordinates(self, lat: np.ndarray, lon: np.ndarray) -> None:
        """Hand over grown coordinate arrays (the old rows keep their coordinates)."""
        old = len(self._lat)
        if len(lat) < old:
            raise ValueError("coordinate arrays may only grow")
        self._lat = np.asarray(lat, dtype=np.float64)
        self._lon = np.asarray(lon, dtype=np.float64)
        if len(self._lat) > old:
            fresh = unit_vectors(self._lat[old:], self._lon[old:])
            self._xyz = np.concatenate([self._xyz, fresh])
            self._alive = _grown(self._alive, len(self._lat))
            self._in_grid = _grown(self._in_grid, len(self._lat))

    def add(self, rows: np.ndarray | list[int]) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return
        if rows.max() >= len(self._lat):
            raise IndexError("row beyond the coordinate arrays: call set_coordinates first")
        fresh = rows[~self._alive[rows]]
        self._alive[fresh] = True
        # A row removed and added back under the same number still sits in its
        # cell (same coordinates, by contract); only new rows go to the delta.
        self._delta.extend(fresh[~self._in_grid[fresh]].tolist())
        if len(self._delta) > max(DELTA_ROWS, DELTA_SHARE * len(self._sorted_rows)):
            self._build()

    def remove(self, rows: np.ndarray | list[int]) -> None:
        self._alive[np.asarray(rows, dtype=np.int64)] = False

    def __len__(self) -> int:
        return int(self._alive.sum())

    def cell_order(self) -> np.ndarray:
        """The live rows in the grid's cell order (as of the last build): a
        caller that stores its rows in this order reads a query's rows from
        nearby memory."""
        rows = self._sorted_rows
        return rows[self._alive[rows]]

    # --- queries -----------------------------------------------------------

    def within(
        self, lat: float, lon: float, radius_m: float, nearest_first: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows within `radius_m` of (lat, lon) and their distances in metres,
        nearest first (ties by row number, so equal inputs give equal outputs)."""
        if not (math.isfinite(lat) and math.isfinite(lon) and math.isfinite(radius_m)):
            raise ValueError("lat, lon and radius must be finite")
        if radius_m < 0:
            raise ValueError("radius must not be negative")
        q = unit_vectors(np.array([lat]), np.array([lon]))[0]
        rows, xs, ys, zs = self._near(lat, lon, radius_m)
        if self._delta:
            delta = np.asarray(self._delta, dtype=np.int64)
            rows = np.concatenate([rows, delta])
            xs, ys, zs = (
                np.concatenate([c, self._xyz[delta, k]]) for k, c in enumerate((xs, ys, zs))
            )
        # One coordinate at a time over contiguous arrays: several times faster
        # than the same sums over an (n x 3) block, and the same numbers.
        chord2 = np.square(xs - q[0])
        chord2 += np.square(ys - q[1])
        chord2 += np.square(zs - q[2])
        keep = (chord2 <= m_to_chord2(radius_m)) & self._alive[rows]
        rows, dist = rows[keep], chord_to_m(chord2[keep])
        if nearest_first:
            order = np.lexsort((rows, dist))
            rows, dist = rows[order], dist[order]
        return rows, dist

    # --- the grid ----------------------------------------------------------

    def _build(self) -> None:
        rows = np.flatnonzero(self._alive)
        lat, lon = self._lat[rows], self._lon[rows]
        if len(rows):
            mid = float(np.median(lat))
            self._lat0, self._lon0 = float(lat.min()), float(lon.min())
        else:
            mid, self._lat0, self._lon0 = 56.0, 0.0, 0.0
        self._dlat = CELL_DEG_LAT
        self._dlon = CELL_DEG_LAT / max(math.cos(math.radians(mid)), 0.05)
        ci = np.floor((lat - self._lat0) / self._dlat).astype(np.int64)
        cj = np.floor((lon - self._lon0) / self._dlon).astype(np.int64)
        self._nrows = int(ci.max()) + 1 if len(rows) else 1
        self._ncols = int(cj.max()) + 1 if len(rows) else 1
        cell = ci * self._ncols + cj
        order = np.argsort(cell, kind="stable")
        self._sorted_rows = rows[order]
        # The rows' unit vectors in cell order, one array per coordinate, so a
        # query reads contiguous slices.
        self._sorted_xyz = tuple(
            np.ascontiguousarray(self._xyz[self._sorted_rows, k]) for k in range(3)
        )
        # Sorted cell keys, one per row: a range of cells is found by binary
        # search, so empty cells cost nothing (vacancies anywhere on Earth).
        self._keys = cell[order]
        self._in_grid = np.zeros(len(self._lat), dtype=bool)
        self._in_grid[rows] = True
        self._delta = []

    def _near(
        self, lat: float, lon: float, radius_m: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Rows (and their unit vectors' x, y, z) in the cells overlapping the
        circle's bounding box."""
        dlat = radius_m / METRES_PER_DEGREE
        i0 = max(math.floor((lat - dlat - self._lat0) / self._dlat), 0)
        i1 = min(math.floor((lat + dlat - self._lat0) / self._dlat), self._nrows - 1)
        # The circle is widest (in degrees of longitude) at its latitude nearest a pole.
        far = abs(lat) + dlat
        dlon = (
            360.0 if far >= 89.0 else radius_m / (METRES_PER_DEGREE * math.cos(math.radians(far)))
        )
        if dlon >= 180.0:
            spans = [(-180.0, 180.0)]
        else:
            spans = [(lon - dlon, lon + dlon)]
            # Across the antimeridian the box continues on the other side.
            if lon - dlon < -180.0:
                spans.append((lon - dlon + 360.0, 180.0))
            if lon + dlon > 180.0:
                spans.append((-180.0, lon + dlon - 360.0))
        slices: list[tuple[int, int]] = []
        band = np.arange(i0, i1 + 1, dtype=np.int64) * self._ncols
        for west, east in spans:
            j0 = max(math.floor((west - self._lon0) / self._dlon), 0)
            j1 = min(math.floor((east - self._lon0) / self._dlon), self._ncols - 1)
            if j0 > j1 or i0 > i1:
                continue
            # Cells of one grid row are contiguous in key order: one slice per row.
            starts = np.searchsorted(self._keys, band + j0, side="left")
            ends = np.searchsorted(self._keys, band + j1 + 1, side="left")
            slices += [(a, b) for a, b in zip(starts.tolist(), ends.tolist(), strict=True) if b > a]
        if not slices:
            return np.empty(0, dtype=np.int64), np.empty(0), np.empty(0), np.empty(0)
        rows = np.concatenate([self._sorted_rows[a:b] for a, b in slices])
        xs, ys, zs = (np.concatenate([c[a:b] for a, b in slices]) for c in self._sorted_xyz)
        return rows, xs, ys, zs


def _grown(mask: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[: len(mask)] = mask
    return out
