"""Distances come from PostGIS on the ellipsoid; check them against GeographicLib."""

from __future__ import annotations

import numpy as np
from geographiclib.geodesic import Geodesic
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

AARHUS_CITY_HALL = (56.1535, 10.2039)


async def test_sphere_distance_within_half_a_percent_of_geodesic(session: AsyncSession) -> None:
    rng = np.random.default_rng(11)
    lat0, lon0 = AARHUS_CITY_HALL
    worst = 0.0
    for _ in range(200):
        # Points from 50 m to 60 km away in every direction.
        lat = lat0 + float(rng.uniform(-0.5, 0.5))
        lon = lon0 + float(rng.uniform(-0.9, 0.9))
        expected = Geodesic.WGS84.Inverse(lat0, lon0, lat, lon)["s12"]
        got = await session.scalar(
            text(
                # The expression matcher/matching/geo.py uses: sphere, not spheroid.
                "SELECT ST_Distance(ST_SetSRID(ST_MakePoint(:lon0, :lat0), 4326)::geography,"
                " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, false)"
            ),
            {"lon0": lon0, "lat0": lat0, "lon": lon, "lat": lat},
        )
        worst = max(worst, abs(got - expected) / expected)
    assert worst < 0.005
