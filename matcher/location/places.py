"""Place suggestions for a few typed letters: Danish postcodes and towns, offline.

The employer page and the consultant console use it to move the map to an area
("8000", "aarhus", "Viby"); the exact spot is then a pin on the map. It reads the
bundled postcode centroids (matcher/location/geocode.py; those in the water moved onto
land, LAND_ANCHORS below), so it needs no network and no database.
Matching ignores case and accents and accepts aa/oe/ae for å/ø/æ.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from matcher.location.geocode import postcode_centroids

# Some postcode centroids lie in Aarhus Bugt (postcode areas include water), so
# those places are pinned to spots on land. Aarhus C gets several: a city
# centre is many shopping streets, not one point.
LAND_ANCHORS: dict[str, tuple[tuple[float, float], ...]] = {
    "8000": (
        (56.1566, 10.2108),
        (56.1497, 10.2040),
        (56.1618, 10.2058),
        (56.1695, 10.2112),
        (56.1530, 10.1985),
    ),
    "8240": ((56.1910, 10.2310),),
    "8250": ((56.2150, 10.2650),),
    "8270": ((56.1180, 10.2050),),
    "8330": ((56.0610, 10.2130),),
    "8541": ((56.2620, 10.3060),),
}


@dataclass(frozen=True, slots=True)
class Place:
    postcode: str
    locality: str
    lat: float
    lon: float

    @property
    def label(self) -> str:
        return f"{self.postcode} {self.locality}"


def fold(text: str) -> str:
    """Case, accents and Danish letters folded: 'Århus Ø' -> 'aarhus oe'."""
    text = text.casefold().replace("å", "aa").replace("æ", "ae").replace("ø", "oe")
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).strip()


@lru_cache(maxsize=1)
def _places() -> tuple[tuple[Place, str], ...]:
    rows = postcode_centroids()
    out = []
    for code, (lat, lon, locality) in sorted(rows.items()):
        # Some centroids lie in the water (Aarhus C's is in the bay): a map
        # moved there shows nothing useful, so those go to a spot on land.
        anchors = LAND_ANCHORS.get(code)
        if anchors:
            lat, lon = anchors[0]
        out.append((Place(code, locality, lat, lon), fold(locality)))
    return tuple(out)


def suggest(q: str, limit: int = 8) -> list[Place]:
    """Postcodes starting with the digits typed, or towns whose name (or one of
    its words) starts with the letters typed; exact postcodes and whole-name
    prefixes first."""
    query = fold(q)
    if not query:
        return []
    ranked: list[tuple[int, str, Place]] = []
    for place, name in _places():
        if query.isdigit():
            if place.postcode.startswith(query):
                ranked.append((0 if place.postcode == query else 1, place.postcode, place))
        elif name.startswith(query):
            ranked.append((0, place.postcode, place))
        elif any(word.startswith(query) for word in name.split()):
            ranked.append((1, place.postcode, place))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [p for _, _, p in ranked[:limit]]
