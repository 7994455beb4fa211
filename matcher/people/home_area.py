"""A coarse home area, set by the person's consent, for alerts while the app is closed.

Two ways to give one, and only a coarse point is ever stored:

- a Danish postcode: its centroid from the bundled postcode file
  (matcher/location/geocode.py `postcode_centroids`), a public point a few km from
  most homes in it;
- a position: snapped to a 500 m grid before it is stored (`snap`), so the
  stored point is at most ~355 m (half the cell's diagonal) from where the
  phone was, and every home in a cell looks the same. What the phone sent is
  not kept anywhere.

The grid: latitude in steps of 500 m (500 / 111 195 degrees), then longitude
in steps of 500 m at the *snapped* latitude, so a cell's corners depend only
on the cell and not on where in it the phone was.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.location.geocode import postcode_centroids

GRID_M = 500.0
# Metres per degree of latitude on the mean Earth sphere (R = 6 371 008.8 m).
_M_PER_DEG = 6_371_008.8 * math.pi / 180
# Who gave the consent: today only the person themselves, in the app.
CONSENT_SELF = "jobseeker"

Source = Literal["postcode", "position"]


@dataclass(frozen=True, slots=True)
class HomeArea:
    lat: float
    lon: float
    source: Source
    postcode: str | None
    consent_by: str
    consented_at: dt.datetime


def snap(lat: float, lon: float, grid_m: float = GRID_M) -> tuple[float, float]:
    """The centre of the grid cell (about `grid_m` on a side) that holds the point."""
    lat_step = grid_m / _M_PER_DEG
    cell_lat = (math.floor(lat / lat_step) + 0.5) * lat_step
    lon_step = grid_m / (_M_PER_DEG * math.cos(math.radians(cell_lat)))
    cell_lon = (math.floor(lon / lon_step) + 0.5) * lon_step
    return round(cell_lat, 6), round(cell_lon, 6)


def postcode_point(postcode: str) -> tuple[float, float] | None:
    """The centroid of a Danish postcode, or None if there is no such postcode."""
    found = postcode_centroids().get(postcode)
    return None if found is None else (found[0], found[1])


async def get(session: AsyncSession, jobseeker_id: uuid.UUID) -> HomeArea | None:
    row = (
        await session.execute(
            text(
                "SELECT ST_Y(point::geometry) AS lat, ST_X(point::geometry) AS lon, source,"
                " postcode, consent_by, consented_at"
                " FROM jobseeker_home_areas WHERE jobseeker_id = :id"
            ),
            {"id": jobseeker_id},
        )
    ).one_or_none()
    if row is None:
        return None
    return HomeArea(row.lat, row.lon, row.source, row.postcode, row.consent_by, row.consented_at)


async def put(
    session: AsyncSession,
    jobseeker_id: uuid.UUID,
    lat: float,
    lon: float,
    source: Source,
    postcode: str | None,
) -> HomeArea:
    """Store (or replace) the home area; `lat`/`lon` must already be coarse
    (a postcode centroid or `snap`ped). Setting it is the consent: who and when
    are stored with it."""
    await session.execute(
        text(
            """
            INSERT INTO jobseeker_home_areas
                (jobseeker_id, point, source, postcode, consent_by, consented_at)
            VALUES (:id, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography,
                    :source, :postcode, :by, now())
            ON CONFLICT (jobseeker_id) DO UPDATE SET
                point = EXCLUDED.point, source = EXCLUDED.source,
                postcode = EXCLUDED.postcode, consent_by = EXCLUDED.consent_by,
                consented_at = EXCLUDED.consented_at
            """
        ),
        {
            "id": jobseeker_id,
            "lat": lat,
            "lon": lon,
            "source": source,
            "postcode": postcode,
            "by": CONSENT_SELF,
        },
    )
    found = await get(session, jobseeker_id)
    assert found is not None
    return found


async def delete(session: AsyncSession, jobseeker_id: uuid.UUID) -> bool:
    """Withdraw the consent: the home area is gone. True if there was one."""
    result = await session.execute(
        text("DELETE FROM jobseeker_home_areas WHERE jobseeker_id = :id"), {"id": jobseeker_id}
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
