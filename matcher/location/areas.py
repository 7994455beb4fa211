"""A vacancy's coarse area for statistics: the locality of the nearest postcode.

Fairness figures (docs/privacy.md) group events by where the *job* is, never by
where the seeker was. The area is the locality name of the postcode centroid
nearest to the vacancy ("Aarhus C", "Viby J", "København K"): localities merge
Copenhagen's street-level postcodes (1050-1473 are all "København K"), so a cell
is a part of town, not a street. Points farther than `MAX_KM` from every
centroid (at sea, abroad) have no area.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from matcher.location.geocode import postcode_centroids

MAX_KM = 25.0
_KM_PER_DEGREE = 111.32


@lru_cache(maxsize=1)
def _centroids() -> tuple[np.ndarray, np.ndarray, list[str]]:
    rows = sorted(postcode_centroids().items())
    lat = np.array([r[1][0] for r in rows])
    lon = np.array([r[1][1] for r in rows])
    return lat, lon, [r[1][2] for r in rows]


def area_of(lat: float, lon: float) -> str | None:
    """The locality of the nearest postcode centroid (equirectangular distance:
    exact enough to pick the nearest of points a few km apart)."""
    clat, clon, names = _centroids()
    dx = (clon - lon) * np.cos(np.radians(lat))
    d2 = dx * dx + (clat - lat) ** 2
    i = int(np.argmin(d2))
    if np.sqrt(d2[i]) * _KM_PER_DEGREE > MAX_KM:
        return None
    return names[i]
