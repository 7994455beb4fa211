"""What the demo knows about young people's jobs in Aarhus, and where Aarhus is.

ops/demo_seed.py turns these tables into employers and vacancies; this
module holds the tables, the small notation they are written in, and the
postcode places. Labels are ESCO preferred labels (English), looked up in the
loaded taxonomy, so a bundled ESCO subset must contain every occupation in
`OCCUPATIONS` (listed in `DEMO_OCCUPATIONS`).

Conventions that keep the tables short:
- `style`: the first ten work-profile values (realistic, investigative,
  artistic, social, enterprising, conventional, teamwork, customer_contact,
  physical_work, variety) in tenths; early/late hours come from the shift.
- `shifts`: "start-end" in hours with optional minutes ("6:30-13", "18-1" runs
  past midnight); "-" means no fixed shift (e.g. leaflets: any time that day).
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from matcher.location.places import LAND_ANCHORS


@dataclass(frozen=True)
class Occ:
    """How a youth-relevant ESCO occupation looks as a job in Aarhus."""

    label: str
    style: tuple[int, ...]
    shifts: str
    min_age: int = 15
    youth: bool = True  # offered as fritidsjob/småjob
    certificates: tuple[str, ...] = ()
    hazardous: bool = False
    light: bool = False  # light work, so allowed from 13
    trainee: bool = False  # elev/lærling possible


@dataclass(frozen=True)
class Category:
    occupations: dict[str, float]  # ESCO label -> weight
    sites: tuple[int, int]  # branches per employer (min, max)
    walk_in: float  # share of vacancies that welcome walk-ins
    hours: str | None  # opening hours: weekdays, Saturday, Sunday ("-" = closed)
    blurb: str
    mobile: bool = False  # work happens around town, not at the branch
    size: float = 1.0  # openings per branch, relative (a warehouse hires more than a salon)


# fmt: off
OCCUPATIONS: tuple[Occ, ...] = (
    Occ("shop assistant", (4, 2, 2, 6, 6, 6, 6, 9, 6, 4), "8-16 10-18 15-19 16-20 12-20",
        trainee=True),
    Occ("sales assistant", (2, 2, 4, 7, 8, 4, 6, 9, 4, 5), "10-18 15-18 10-16", trainee=True),
    Occ("cashier", (2, 2, 1, 6, 4, 9, 4, 10, 3, 3), "7-15 15-19 16-21 14-22"),
    Occ("shelf filler", (8, 1, 1, 3, 1, 8, 5, 3, 8, 2), "6-10 15-18 16-20 18-21", light=True),
    Occ("fruit and vegetables specialised seller", (5, 2, 2, 6, 7, 4, 5, 9, 6, 4), "8-16 15-18"),
    Occ("bakery specialised seller", (4, 1, 3, 7, 5, 6, 6, 10, 5, 3),
        "6-12 6:30-13 12-18 14-18 7-14", light=True),
    Occ("baker", (8, 3, 6, 2, 3, 6, 6, 1, 8, 4), "3-10 4-11:30 5-12", youth=False, trainee=True,
        certificates=("hygiene",)),
    Occ("barista", (5, 2, 6, 7, 5, 4, 7, 9, 6, 5), "6:30-13 7-15 12-18 15-19"),
    Occ("waiter/waitress", (4, 1, 2, 8, 6, 3, 8, 10, 7, 6), "11-17 16-22 17-23:30 18-1",
        trainee=True),
    Occ("bartender", (4, 1, 5, 8, 7, 3, 7, 10, 6, 7), "20-2 18-0 21-3", min_age=18, youth=False,
        certificates=("alcohol_serving",)),
    Occ("kitchen assistant", (8, 2, 3, 4, 2, 5, 8, 1, 8, 4), "7-15 10-18 16-21:30 17-23"),
    Occ("kitchen porter", (9, 1, 1, 2, 1, 6, 6, 0, 9, 2), "16-21:30 17-23 10-16"),
    Occ("pizzaiolo", (7, 2, 6, 4, 3, 4, 7, 4, 7, 5), "15-21:30 16-22 17-23"),
    Occ("cook", (8, 3, 7, 3, 3, 4, 8, 1, 8, 6), "7-15 15-22 16-23", youth=False, trainee=True,
        certificates=("hygiene",)),
    Occ("hairdresser assistant", (6, 2, 8, 7, 5, 3, 6, 9, 6, 5), "9-17 10-18 15-18:30",
        trainee=True),
    Occ("receptionist", (1, 2, 2, 8, 5, 9, 6, 10, 2, 4), "7-15 15-23 9-17"),
    Occ("bicycle mechanic", (10, 6, 2, 4, 3, 4, 3, 6, 6, 6), "9-17 10-17:30 15-18", trainee=True),
    Occ("bicycle courier", (8, 2, 1, 3, 3, 3, 1, 4, 9, 7), "11-14 17-21 16-21:30"),
    Occ("car and van delivery driver", (8, 2, 1, 3, 3, 5, 2, 5, 6, 5), "7-15 10-18 16-22",
        min_age=18, youth=False, certificates=("driving_licence_b",)),
    Occ("leaflet distributor", (6, 1, 1, 2, 1, 6, 0, 1, 8, 3), "15-18 16-19 -", light=True),
    Occ("warehouse worker", (9, 2, 1, 2, 2, 6, 6, 1, 9, 3), "6-14 14-22 22-6 7-15:30"),
    Occ("warehouse order picker", (8, 2, 1, 2, 2, 8, 4, 0, 9, 2), "6-14 14-22 22-6"),
    Occ("hand packer", (8, 1, 1, 2, 1, 9, 5, 0, 7, 1), "6-14 14-22 16-20"),
    Occ("forklift operator", (10, 2, 1, 1, 1, 6, 5, 0, 5, 3), "6-14 14-22", min_age=18,
        youth=False, certificates=("forklift",), hazardous=True),
    Occ("building cleaner", (8, 1, 1, 2, 1, 7, 4, 1, 8, 3), "5-8 6-9 16-20 17-21"),
    Occ("domestic cleaner", (8, 1, 1, 5, 1, 7, 2, 4, 8, 3), "8-12 9-15 15-18"),
    Occ("window cleaner", (9, 1, 1, 3, 2, 5, 4, 3, 9, 5), "7-15 8-14"),
    Occ("room attendant", (7, 1, 1, 3, 1, 8, 5, 1, 8, 2), "8-14 9-15"),
    Occ("hotel porter", (6, 1, 1, 8, 4, 4, 6, 9, 7, 5), "7-15 15-23"),
    Occ("usher", (3, 1, 4, 8, 4, 4, 7, 10, 4, 6), "17-21:30 18-23 16-20", light=True),
    Occ("vehicle cleaner", (9, 1, 2, 3, 2, 6, 5, 4, 8, 3), "8-16 15-19"),
    Occ("landscape gardener", (10, 3, 5, 2, 2, 3, 7, 2, 10, 6), "7-15 7-15:30", trainee=True),
)
DEMO_OCCUPATIONS: tuple[str, ...] = tuple(o.label for o in OCCUPATIONS)

CATEGORIES: dict[str, Category] = {
    "bakery": Category(
        {"bakery specialised seller": 6, "baker": 2, "barista": 1, "kitchen porter": 1},
        (1, 3), .6, "6:30-17:30 6:30-15 7-14",
        "Vi er et lokalt bageri med morgenfriske brød, kager og god kaffe."),
    "cafe": Category(
        {"barista": 4, "waiter/waitress": 3, "kitchen assistant": 2, "kitchen porter": 2},
        (1, 2), .6, "8-21 9-21 9-17", "Hyggelig café med brunch, sandwich og hjemmebag."),
    "restaurant": Category(
        {"waiter/waitress": 3, "kitchen porter": 3, "kitchen assistant": 2, "pizzaiolo": 2,
         "cook": 1, "bartender": 1},
        (1, 2), .4, "11:30-22 12-22 12-21", "Travl restaurant med et ungt og sjovt personale."),
    "supermarket": Category(
        {"shelf filler": 5, "cashier": 4, "shop assistant": 3,
         "fruit and vegetables specialised seller": 1, "warehouse worker": 1},
        (2, 5), .5, "7-22 7-22 8-22", "Lokal dagligvarebutik, hvor kunderne kender os ved navn.",
        size=1.5),
    "bikes": Category(
        {"bicycle mechanic": 3, "shop assistant": 2, "sales assistant": 1},
        (1, 2), .6, "10-17:30 10-14 -", "Cykelbutik og værksted, der holder byen kørende."),
    "clothing": Category(
        {"sales assistant": 4, "shop assistant": 2, "cashier": 1},
        (1, 3), .5, "10-18 10-16 -", "Tøj og sko til unge og voksne, midt i byen."),
    "cleaning": Category(
        {"building cleaner": 4, "domestic cleaner": 2, "window cleaner": 2, "room attendant": 1},
        (1, 2), 0, None, "Rengøringsfirma med faste kunder i hele Aarhus.", mobile=True,
        size=2),
    "warehouse": Category(
        {"warehouse worker": 4, "warehouse order picker": 3, "hand packer": 3,
         "forklift operator": 1, "car and van delivery driver": 2},
        (1, 2), 0, None, "Lager og distribution med varer til butikker i Østjylland.", size=2),
    "courier": Category(
        {"bicycle courier": 3, "leaflet distributor": 3, "car and van delivery driver": 2},
        (1, 1), 0, None, "Vi bringer aviser, reklamer og pakker ud i hele kommunen.",
        mobile=True, size=2),
    "salon": Category(
        {"hairdresser assistant": 3, "receptionist": 1},
        (1, 1), .5, "9-17:30 9-13 -", "Frisørsalon med plads til nye talenter.", size=.5),
    "hotel": Category(
        {"room attendant": 3, "hotel porter": 1, "receptionist": 1, "kitchen porter": 1,
         "waiter/waitress": 1},
        (1, 1), .2, "7-23 7-23 7-23", "Hotel med 120 værelser tæt på byens liv.", size=1.5),
    "venue": Category(
        {"usher": 3, "bartender": 1, "cashier": 1},
        (1, 1), .3, "15-22 12-23 12-21", "Biograf og spillested med film, koncerter og events.",
        size=.5),
    "carwash": Category(
        {"vehicle cleaner": 3, "cashier": 1},
        (1, 2), .5, "8-18 9-16 10-16", "Bilvask og klargøring, hvor bilerne skinner.", size=.5),
    "garden": Category(
        {"landscape gardener": 1},
        (1, 1), 0, None, "Anlægsgartner, der passer haver og grønne områder.", mobile=True,
        size=.7),
}

# (name, category, home postcode). Businesses named after a place have one
# branch there; the others get branches around the municipality.
EMPLOYERS: tuple[tuple[str, str, str | None], ...] = (
    ("Frederiksbjerg Bageri", "bakery", "8000"), ("Mettes Brødhus", "bakery", None),
    ("Bager Holm & Søn", "bakery", None), ("Risskov Brød & Kage", "bakery", "8240"),
    ("Café Nordlys", "cafe", None), ("Bønne & Bryg Kaffebar", "cafe", None),
    ("Café Solsikken", "cafe", None), ("Kaffestuen ved Åen", "cafe", "8000"),
    ("Café Latinerkvarteret", "cafe", "8000"), ("Pizzeria Bella Viby", "restaurant", "8260"),
    ("Spisehuset Mårslet", "restaurant", "8320"), ("Brabrand Grill & Pizza", "restaurant", "8220"),
    ("Restaurant Havnekanten", "restaurant", "8000"), ("Købmand Larsen", "supermarket", None),
    ("Viby Dagligvarer", "supermarket", "8260"),
    ("Kvartersbutikken Trøjborg", "supermarket", "8000"),
    ("Hasselager Super", "supermarket", "8361"), ("Egå Købmandsgård", "supermarket", "8250"),
    ("Tranbjerg Minimarked", "supermarket", "8310"), ("Lystrup Super", "supermarket", "8520"),
    ("Nærkøb Østjylland", "supermarket", None), ("Cykelhuset Aarhus", "bikes", None),
    ("Viby Cykler", "bikes", "8260"), ("Pedal & Dæk", "bikes", None),
    ("Tøjkassen", "clothing", None), ("Sneakerstuen", "clothing", "8000"),
    ("Rent & Klart ApS", "cleaning", None), ("Aarhus Rengøringsservice", "cleaning", None),
    ("Glans Vinduespolering", "cleaning", None), ("Skinnende Rent Østjylland", "cleaning", None),
    ("Østjysk Lager & Logistik", "warehouse", None),
    ("Tilst Distributionscenter", "warehouse", "8381"),
    ("Skejby Pakkecenter", "warehouse", "8200"), ("Cykelbudene Aarhus", "courier", "8000"),
    ("Aarhus Omdeling", "courier", None), ("Salon Saks & Stil", "salon", None),
    ("Frisør Hårmoni", "salon", None), ("Hotel Bugten", "hotel", "8000"),
    ("Biografen Nordlyset", "venue", "8000"), ("Vaskehallen Viby", "carwash", "8260"),
    ("Grønne Hænder Anlægsgartner", "garden", None),
)

# Aarhus municipality postcodes, weighted by roughly how much business is there.
AARHUS_POSTCODES: dict[str, float] = {
    "8000": 10, "8200": 4, "8210": 3, "8220": 3, "8230": 2, "8240": 2, "8250": 1, "8260": 4,
    "8270": 3, "8310": 2, "8320": 1, "8330": 1, "8340": 1, "8355": 1, "8361": 1, "8362": 1,
    "8380": 1, "8381": 2, "8382": 1, "8462": 1, "8471": 1, "8520": 2, "8530": 1, "8541": 1,
}

# Job types a young person meets, and how often (renormalised per occupation).
JOB_TYPES: dict[str, float] = {
    "fritidsjob": .34, "smaajob": .18, "ordinary": .30, "virksomhedspraktik": .06,
    "loentilskud": .03, "elev_laerling": .05, "igu": .02, "fleksjob": .02,
}
YOUTH_TYPES = ("fritidsjob", "smaajob")
HOURS: dict[str, tuple[float, float]] = {
    "fritidsjob": (6, 15), "smaajob": (3, 10), "ordinary": (25, 37),
    "virksomhedspraktik": (15, 30), "loentilskud": (20, 37), "elev_laerling": (37, 37),
    "igu": (25, 37), "fleksjob": (10, 20),
}
TITLES: dict[str, str] = {
    "fritidsjob": "Fritidsjob som {l}", "smaajob": "Småjob som {l}", "ordinary": "{L} søges",
    "virksomhedspraktik": "Virksomhedspraktik som {l}", "loentilskud": "{L} i løntilskud",
    "elev_laerling": "Elev som {l}", "igu": "IGU-stilling som {l}", "fleksjob": "Fleksjob som {l}",
}
# fmt: on


# --- the notation ---------------------------------------------------------------

Shift = tuple[int, int] | None  # minutes after midnight; end <= start runs past midnight
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_span(text: str) -> Shift:
    if text == "-":
        return None
    start, end = text.split("-")
    return minutes(start), minutes(end)


def minutes(text: str) -> int:
    h, _, m = text.partition(":")
    return int(h) * 60 + int(m or 0)


def shift_length(shift: Shift) -> int:
    if shift is None:
        return 0
    start, end = shift
    return (end - start) % 1440 or 1440


def hhmm(value: int) -> str:
    return f"{value // 60 % 24:02d}:{value % 60:02d}"


def in_window(shift: Shift, earliest: int, latest: int) -> bool:
    """Whether a fixed shift lies within [earliest, latest] on one day."""
    if shift is None:
        return True
    start, end = shift
    return end > start and start >= earliest and end <= latest


def opening_hours(spec: str) -> dict[str, list[list[str]]]:
    weekday, sat, sun = spec.split()
    out: dict[str, list[list[str]]] = {}
    for day, text in zip(DAYS, [weekday] * 5 + [sat, sun], strict=True):
        span = parse_span(text)
        if span is not None:
            out[day] = [[hhmm(span[0]), hhmm(span[1])]]
    return out


# --- places -------------------------------------------------------------------

BUNDLED_POSTCODES = Path(__file__).resolve().parents[1] / "matcher" / "data" / "dk_postcodes.csv.gz"
# A source checkout beside the project's shared data (development and tests).
SHARED_POSTCODES = (
    Path(__file__).resolve().parents[2] / "shared/data/geo_dk/dk_postcodes_countrystatecity.csv"
)


@dataclass(frozen=True)
class Place:
    postcode: str
    locality: str
    lat: float
    lon: float


def load_places() -> dict[str, list[Place]]:
    """Aarhus postcodes -> points on land to place businesses around."""
    if BUNDLED_POSTCODES.is_file():
        with gzip.open(BUNDLED_POSTCODES, "rt", encoding="utf-8", newline="") as fh:
            rows = _read_postcodes(fh)
    elif SHARED_POSTCODES.is_file():
        with SHARED_POSTCODES.open(encoding="utf-8", newline="") as fh:
            rows = _read_postcodes(fh)
    else:
        raise FileNotFoundError(f"postcode data not found (expected {BUNDLED_POSTCODES})")
    places: dict[str, list[Place]] = {}
    for code in AARHUS_POSTCODES:
        if code not in rows:
            continue
        locality, lat, lon = rows[code]
        points = LAND_ANCHORS.get(code, ((lat, lon),))
        places[code] = [Place(code, locality, a, b) for a, b in points]
    if not places:
        raise FileNotFoundError("no Aarhus postcodes in the postcode data")
    return places


def _read_postcodes(fh: TextIO) -> dict[str, tuple[str, float, float]]:
    return {
        r["postcode"]: (r["locality"], float(r["latitude"]), float(r["longitude"]))
        for r in csv.DictReader(fh)
    }
