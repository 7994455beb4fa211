"""Candidate rows around a patch of the map, shared by one worker's connections.

A connection's candidate cache (push/candidates.py) is rebuilt when its phone
leaves the margin. Measured on the push bench, a rebuild that runs its own
candidate query spends ~40 ms of worker CPU decoding ~2,000-4,000 rows with
their skill arrays, for one person. People cluster (a city centre, a school, a
station), so this worker asks PostGIS once per *area* (a grid cell of about
1 km and a radius class) and every connection rebuilding in that cell scores
the same rows for its own seeker in NumPy.

With the worker's replica of open vacancies (matcher/matching/replica.py, set as
`AreaCache.replica` by api/app.py) an area is read from memory instead, every
open vacancy within reach and no cap; without one (a hub built alone, the
benchmark's baseline) it is the result of the indexed PostGIS query, capped.
Either way it is held for `TTL_S` and dropped when a vacancy event lands in it.
Certificates are checked here per seeker, not in SQL, since the rows are shared.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
import uuid
from dataclasses import dataclass, field

import asyncpg
import numpy as np

from matcher.matching import geo
from matcher.matching.replica import VacancyReplica
from matcher.matching.scoring import CandidateBatch
from push.candidates import haversine_many

# Grid cell: 0.01 degree of latitude (1.1 km) by 0.02 of longitude (1.2 km at 56 N).
CELL_LAT, CELL_LON = 0.01, 0.02
# Half the cell's diagonal, rounded up: the farthest a phone in the cell is from its centre.
CELL_REACH_M = 900.0
# Fine steps: every metre of radius is paid for in rows decoded (a 5 km seeker's
# radius + margin is 5.5 km; a 10 km class would fetch three times the rows).
RADIUS_CLASSES = (
    1_000.0, 1_500.0, 2_000.0, 2_500.0, 3_000.0, 4_000.0, 5_500.0, 7_500.0,
    10_000.0, 15_000.0, 20_000.0, 30_000.0, 50_000.0,
)  # fmt: skip
# Rows per area: the nearest this many around the cell's centre, as many as one
# matching request considers (matcher.matching.matches.CANDIDATE_CAP): a dense area costs
# ~40 ms of database and decoding, paid by the first phone that rebuilds there.
AREA_CAP = 2_000
TTL_S = 120.0
# Dropped areas held for `AreaCache.release` at most.
RETIRED_KEPT = 1_000
# No age filter in SQL: the rows serve seekers of every age; the hard rules decide.
ANY_AGE = 200


@dataclass(slots=True)
class Area:
    batch: CandidateBatch  # distance_m is meaningless here: each seeker has their own
    lats: np.ndarray
    lons: np.ndarray
    needs_certificates: np.ndarray  # bool
    required: dict[int, frozenset[str]]  # row -> certificates, for the rows that need some
    ids: frozenset[uuid.UUID]
    centre: tuple[float, float]
    reach_m: float  # every open vacancy within this distance of the centre is here
    fetched_at: float = field(default_factory=time.monotonic)

    def complete_within(self, lat: float, lon: float, radius_m: float) -> bool:
        """Whether every open vacancy within `radius_m` of (lat, lon) is here."""
        d = haversine_many(*self.centre, np.array([lat]), np.array([lon]))[0]
        return bool(d + radius_m <= self.reach_m)

    def for_seeker(
        self, lat: float, lon: float, radius_m: float, certificates: frozenset[str]
    ) -> tuple[CandidateBatch, np.ndarray]:
        """The area's rows as this seeker sees them (the phone's distances, the
        seeker's certificates; a view, the rows are not copied), and which of
        them lie within `radius_m` of the phone."""
        dist = haversine_many(lat, lon, self.lats, self.lons)
        ok = ~self.needs_certificates
        for r, needed in self.required.items():
            ok[r] = needed <= certificates
        view = dataclasses.replace(
            self.batch,
            distance_m=dist,
            eligibility=dataclasses.replace(self.batch.eligibility, certificates_ok=ok),
        )
        return view, dist <= radius_m


class AreaCache:
    def __init__(
        self, ttl_s: float = TTL_S, cap: int = AREA_CAP, replica: VacancyReplica | None = None
    ) -> None:
        self.ttl_s = ttl_s
        self.cap = cap  # the SQL path's only: the replica's areas are never capped
        self.replica = replica
        self._areas: dict[tuple[int, int, float], Area] = {}
        self._loading: dict[tuple[int, int, float], asyncio.Future[Area]] = {}
        # Areas `changed` dropped, freed by `release`: a new vacancy in a city
        # centre makes dozens of dense areas stale, and handing their arrays
        # back (tens of MiB, munmap) took ~10 ms, before the phones were told.
        self._retired: list[Area] = []
        self.fetches = 0

    @staticmethod
    def key(lat: float, lon: float, radius_m: float) -> tuple[int, int, float]:
        radius_class = next((r for r in RADIUS_CLASSES if r >= radius_m), radius_m)
        return math.floor(lat / CELL_LAT), math.floor(lon / CELL_LON), radius_class

    def peek(self, lat: float, lon: float, radius_m: float) -> Area | None:
        """The area if this worker holds it fresh, without asking the database."""
        area = self._areas.get(self.key(lat, lon, radius_m))
        if area is not None and time.monotonic() - area.fetched_at <= self.ttl_s:
            return area
        return None

    @property
    def in_memory(self) -> bool:
        """Whether areas come from the replica (`get` needs no connection)."""
        return self.replica is not None and self.replica.loaded

    async def get(
        self, raw: asyncpg.Connection | None, lat: float, lon: float, radius_m: float
    ) -> Area:
        """The area around (lat, lon) holding every open vacancy within
        `radius_m` of any point of its cell (or the nearest `cap`). `raw` may be
        None while the areas are `in_memory`."""
        area = self.peek(lat, lon, radius_m)
        if area is not None:
            return area
        key = self.key(lat, lon, radius_m)
        pending = self._loading.get(key)
        if pending is not None:  # another connection in the cell is fetching it
            return await asyncio.shield(pending)
        future: asyncio.Future[Area] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            area = await self._fetch(raw, key)
            self._areas[key] = area
            future.set_result(area)
            return area
        except BaseException as e:
            future.set_exception(e)
            future.exception()  # retrieved: waiters get it, nobody logs it as lost
            raise
        finally:
            del self._loading[key]

    async def _fetch(self, raw: asyncpg.Connection | None, key: tuple[int, int, float]) -> Area:
        i, j, radius_class = key
        centre = ((i + 0.5) * CELL_LAT, (j + 0.5) * CELL_LON)
        reach = radius_class + CELL_REACH_M
        if self.replica is not None and self.replica.loaded:
            return self._from_replica(self.replica, centre, reach)
        if raw is None:
            raise RuntimeError("an area from the database needs a connection")
        rows = await raw.fetch(
            geo.AREA_CANDIDATES_SQL, centre[1], centre[0], [], reach, ANY_AGE, self.cap
        )
        self.fetches += 1
        rows, batch = geo.sound_rows(rows)  # unusable stored rows left out
        lats, lons = geo.points_of(rows)
        required = {
            r: frozenset(row["required_certificates"])
            for r, row in enumerate(rows)
            if row["required_certificates"]
        }
        needs = np.zeros(len(rows), dtype=bool)
        needs[list(required)] = True
        if len(rows) >= self.cap:  # capped: complete only up to the farthest row
            reach = float(batch.distance_m[-1])
        return Area(
            batch=batch,
            lats=lats,
            lons=lons,
            needs_certificates=needs,
            required=required,
            ids=frozenset(batch.ids),  # type: ignore[arg-type]
            centre=centre,
            reach_m=reach,
        )

    def _from_replica(
        self, replica: VacancyReplica, centre: tuple[float, float], reach: float
    ) -> Area:
        # Every certificate set counts as held here: each seeker's are checked
        # in `for_seeker` against `required`.
        hits = replica.within(*centre, reach, age=ANY_AGE)
        self.fetches += 1
        needy = np.fromiter((bool(c) for c in hits.cert_sets), bool, len(hits.cert_sets))
        needs = needy[hits.cert_set] if len(hits) else np.zeros(0, dtype=bool)
        required = {r: hits.cert_sets[hits.cert_set[r]] for r in np.flatnonzero(needs).tolist()}
        return Area(
            batch=hits.batch,
            lats=hits.lats,
            lons=hits.lons,
            needs_certificates=needs,
            required=required,
            ids=frozenset(hits.batch.ids),  # type: ignore[arg-type]
            centre=centre,
            reach_m=reach,
        )

    def changed(self, vacancy_id: uuid.UUID, lat: float | None, lon: float | None) -> None:
        """A vacancy was created, changed or closed: drop the areas it is or
        would be in, so the next rebuild there reads it afresh."""
        if not self._areas:
            return
        # Every area at once: a worker holds hundreds after phones have moved,
        # and this runs for each changed vacancy before anyone is told of it.
        keys, areas = list(self._areas), list(self._areas.values())
        drop = np.fromiter((vacancy_id in a.ids for a in areas), bool, len(areas))
        if lat is not None and lon is not None:
            centres = np.array([a.centre for a in areas])
            reach = np.fromiter((a.reach_m for a in areas), np.float64, len(areas))
            d = haversine_many(centres[:, 0], centres[:, 1], np.array([lat]), np.array([lon]))  # type: ignore[arg-type]
            drop |= d <= reach
        self._retired.extend(self._areas.pop(keys[k]) for k in np.flatnonzero(drop).tolist())
        if len(self._retired) > RETIRED_KEPT:  # a caller that never releases
            self.release()

    def release(self) -> None:
        """Free the areas `changed` dropped (the hub calls it after pushing)."""
        self._retired.clear()

    def clear(self) -> None:
        self._areas.clear()

    def expire(self) -> None:
        now = time.monotonic()
        for key, area in list(self._areas.items()):
            if now - area.fetched_at > self.ttl_s:
                del self._areas[key]

    def __len__(self) -> int:
        return len(self._areas)
