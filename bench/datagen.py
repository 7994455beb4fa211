"""Synthetic but realistic data for benchmarks: vacancies, employers, jobseekers.

Everything is drawn from real public data (ESCO occupations and their skills from the
loaded database, Danish postcode centroids) and is deterministic for a given seed.

Where things are placed. We have no population figures, so places are sampled
from the Danish postcode centroids, uniformly per postcode, plus Gaussian jitter
(sigma 1.5 km per axis). Postcode density follows population, so this puts work
where people are: Copenhagen's postcodes below 2500 are 494 of the 1,089 (many
are single streets in the centre), Aarhus has a dozen, a rural postcode covers a
whole parish. It over-weights central Copenhagen: 44 % of all points fall within
5 km of the city hall (measured on 100k), while the whole capital region holds
about a third of the population and 1 % fall within 10 km of Aarhus city hall. So
the dense end of a benchmark is harder than reality and its median pessimistic;
a p99 is the dense case either way. Some jittered points land in the sea; the geo
query does not care.

Used by bench/nearby_match.py and meant for the push benchmark: `sample_points`,
`load_occupations`, `insert_vacancies`, `make_seekers` and `insert_seekers`.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from matcher import profile
from matcher.certificates import CERTIFICATES

ROOT = Path(__file__).resolve().parents[1]
SHARED_POSTCODES = ROOT.parent / "shared" / "data" / "geo_dk" / "dk_postcodes_countrystatecity.csv"
BUNDLED_POSTCODES = ROOT / "matcher" / "data" / "dk_postcodes.csv.gz"
JITTER_M = 1500.0
METRES_PER_DEGREE_LAT = 111_320.0

# Job types as young people meet them (share of vacancies), and typical hours.
JOB_TYPES: dict[str, tuple[float, tuple[float, float]]] = {
    "fritidsjob": (0.30, (4.0, 15.0)),
    "ordinary": (0.25, (15.0, 37.0)),
    "smaajob": (0.13, (2.0, 8.0)),
    "elev_laerling": (0.08, (37.0, 37.0)),
    "virksomhedspraktik": (0.08, (10.0, 37.0)),
    "loentilskud": (0.07, (15.0, 37.0)),
    "igu": (0.05, (20.0, 37.0)),
    "fleksjob": (0.04, (8.0, 25.0)),
}
# Fixed shifts (start, end); None = no fixed shift. The night shift exists so that the
# youth rules have something to exclude.
SHIFTS: list[tuple[dt.time, dt.time] | None] = [
    None,
    (dt.time(6, 0), dt.time(14, 0)),
    (dt.time(8, 0), dt.time(16, 0)),
    (dt.time(15, 0), dt.time(21, 0)),
    (dt.time(17, 0), dt.time(22, 30)),
    (dt.time(22, 0), dt.time(6, 0)),
]
SHIFT_P = [0.40, 0.15, 0.20, 0.12, 0.10, 0.03]
VACANCY_CERTS = ["hygiene", "driving_licence_b", "forklift", "first_aid", "alcohol_serving"]
# Youth jobs cluster in ISCO major groups 5 (service, sales) and 9 (elementary).
ISCO_WEIGHT = {"5": 4.0, "9": 4.0, "4": 2.0, "7": 2.0, "8": 2.0}


@dataclass(frozen=True, slots=True)
class Places:
    """Postcode centroids to sample from."""

    lat: np.ndarray
    lon: np.ndarray
    source: Path

    def __len__(self) -> int:
        return len(self.lat)


def load_places(path: Path | None = None) -> Places:
    """Postcode centroids: the bundled copy if the package ships one, else shared data."""
    path = path or (BUNDLED_POSTCODES if BUNDLED_POSTCODES.exists() else SHARED_POSTCODES)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    lat = np.array([float(r["latitude"]) for r in rows])
    lon = np.array([float(r["longitude"]) for r in rows])
    return Places(lat=lat, lon=lon, source=path)


def sample_points(
    rng: np.random.Generator, places: Places, n: int, jitter_m: float = JITTER_M
) -> tuple[np.ndarray, np.ndarray]:
    """n (lat, lon) points: a random postcode each, jittered by N(0, jitter_m) metres."""
    i = rng.integers(0, len(places), n)
    lat0, lon0 = places.lat[i], places.lon[i]
    dy, dx = rng.normal(0.0, jitter_m, (2, n))
    lat = lat0 + dy / METRES_PER_DEGREE_LAT
    lon = lon0 + dx / (METRES_PER_DEGREE_LAT * np.cos(np.radians(lat0)))
    return lat, lon


# --- ESCO occupations from the loaded database ---------------------------------------


@dataclass(slots=True)
class Occupations:
    """ESCO occupations with enough essential skills to make a vacancy, and their skills."""

    ids: list[int]
    labels: list[str]
    essential: list[list[int]]
    optional: list[list[int]]
    weights: np.ndarray  # sampling probability per occupation (youth-job ISCO groups favoured)
    # skill id -> related or narrower skills, for seekers who know a neighbour of a skill
    neighbours: dict[int, list[int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


def load_occupations(conn: psycopg.Connection[Any], min_essential: int = 3) -> Occupations:
    rows = conn.execute(
        """
        SELECT o.id, o.preferred_label, o.isco_code,
               array_agg(os.skill_id ORDER BY os.skill_id)
                   FILTER (WHERE os.relation_type = 'essential'),
               array_agg(os.skill_id ORDER BY os.skill_id)
                   FILTER (WHERE os.relation_type = 'optional')
        FROM occupations o
        JOIN occupation_skills os ON os.occupation_id = o.id
        JOIN skills s ON s.id = os.skill_id AND s.active
        WHERE o.concept_type = 'Occupation' AND o.active
        GROUP BY o.id ORDER BY o.id
        """
    ).fetchall()
    rows = [r for r in rows if r[3] and len(r[3]) >= min_essential]
    if not rows:
        raise RuntimeError("no ESCO occupations with skills in the database: load ESCO first")
    w = np.array([ISCO_WEIGHT.get((r[2] or " ")[0], 1.0) for r in rows])
    neighbours: dict[int, list[int]] = {}
    for a, b in conn.execute(
        "SELECT skill_id, related_id FROM skill_relations "
        "UNION ALL SELECT broader_id, skill_id FROM skill_broader"
    ):
        neighbours.setdefault(a, []).append(b)
    return Occupations(
        ids=[r[0] for r in rows],
        labels=[r[1] for r in rows],
        essential=[list(r[3]) for r in rows],
        optional=[list(r[4] or []) for r in rows],
        weights=w / w.sum(),
        neighbours=neighbours,
    )


# --- vacancies and employers ---------------------------------------------------------

_VACANCY_COLUMNS = (
    "id, employer_id, source, source_ref, title, description, occupation_id, location, "
    "required_skill_ids, required_skill_weights, optional_skill_ids, required_certificates, "
    "work_profile, job_type, hours_per_week, shift_start, shift_end, hazardous, light_work, "
    "min_age, walk_in, opening_hours, start_date, expires_at, openings, status, hazards"
)
_WALK_IN_HOURS = json.dumps(
    {d: [["10:00", "17:30"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    | {"sat": [["10:00", "14:00"]]}
)


def _uuid(rnd: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rnd.getrandbits(128), version=4)


def _pick(rnd: random.Random, items: list[int], k: int) -> list[int]:
    return rnd.sample(items, min(k, len(items)))


def _profile(rnd: random.Random, share: float = 0.8) -> list[float] | None:
    if rnd.random() >= share:
        return None
    return [round(rnd.random(), 2) for _ in range(profile.SIZE)]


def _min_age(rnd: random.Random, job_type: str) -> int:
    if job_type in ("fritidsjob", "smaajob"):
        return rnd.choices([13, 15, 16, 18], weights=[0.10, 0.60, 0.15, 0.15])[0]
    if job_type == "elev_laerling":
        return rnd.choices([15, 16, 18], weights=[0.4, 0.3, 0.3])[0]
    return rnd.choices([15, 18], weights=[0.3, 0.7])[0]


def _vacancy_rows(
    rnd: random.Random,
    occ: Occupations,
    lat: np.ndarray,
    lon: np.ndarray,
    employer_of: np.ndarray,
    employer_ids: list[uuid.UUID],
    now: dt.datetime,
) -> Iterator[tuple[Any, ...]]:
    # Per-row draws use the stdlib generator: a numpy call per scalar costs ~10x more,
    # and 100k rows x 25 draws is where a generator's time goes.
    types = list(JOB_TYPES)
    type_w = [JOB_TYPES[t][0] for t in types]
    occ_w = occ.weights.tolist()
    for n, o in enumerate(rnd.choices(range(len(occ)), weights=occ_w, k=len(lat))):
        req = _pick(rnd, occ.essential[o], rnd.randint(3, 8))
        weights = [2.0 if rnd.random() < 0.15 else 1.0 for _ in req]
        opt = _pick(rnd, occ.optional[o], rnd.randint(0, 4))
        job_type = rnd.choices(types, weights=type_w)[0]
        lo, hi = JOB_TYPES[job_type][1]
        hours = round(rnd.uniform(lo, hi) * 2) / 2
        min_age = _min_age(rnd, job_type)
        shift = rnd.choices(SHIFTS, weights=SHIFT_P)[0]
        walk_in = rnd.random() < 0.20
        imported = rnd.random() < 0.30
        start = None if rnd.random() < 0.4 else now.date() + dt.timedelta(rnd.randint(0, 120))
        expires = None if rnd.random() < 0.1 else now + dt.timedelta(days=rnd.randint(7, 60))
        yield (
            _uuid(rnd),
            employer_ids[int(employer_of[n])],
            "import" if imported else "api",
            f"jobnet-{n}" if imported else None,
            occ.labels[o][:1].upper() + occ.labels[o][1:200],
            "Synthetic vacancy for benchmarks.",
            occ.ids[o],
            f"SRID=4326;POINT({lon[n]:.6f} {lat[n]:.6f})",
            req,
            weights,
            opt,
            [rnd.choice(VACANCY_CERTS)] if rnd.random() < 0.10 else [],
            _profile(rnd),
            job_type,
            hours,
            shift[0] if shift else None,
            shift[1] if shift else None,
            (hazardous := min_age >= 18 and rnd.random() < 0.10),
            min_age < 15,  # only light work is open to 13-14-year-olds
            min_age,
            walk_in,
            _WALK_IN_HOURS if walk_in else None,
            start,
            expires,
            1 if rnd.random() < 0.8 else rnd.randint(2, 5),
            "open",
            ["other"] if hazardous else [],  # the checklist agrees with the flag
        )


def insert_vacancies(
    conn: psycopg.Connection[Any],
    n: int,
    seed: int,
    places: Places | None = None,
    occupations: Occupations | None = None,
    employers: int | None = None,
) -> int:
    """Insert n open vacancies and their employers with COPY; returns the employer count.

    Employers are single sites (a shop, a café) drawn by population like everything
    else; a vacancy sits at its employer's site. Employer size is heavy-tailed
    (Pareto weights), and the biggest 0.5 % are chains whose vacancies each get a
    branch location of their own.
    """
    rng = np.random.default_rng(seed)
    places = places or load_places()
    occ = occupations or load_occupations(conn)
    n_emp = employers or max(1, int(n * 0.4))
    emp_lat, emp_lon = sample_points(rng, places, n_emp)
    size = rng.pareto(1.5, n_emp) + 1.0
    employer_of = rng.choice(n_emp, n, p=size / size.sum())
    chains = size >= np.quantile(size, 0.995)
    branch_lat, branch_lon = sample_points(rng, places, n)
    at_branch = chains[employer_of]
    lat = np.where(at_branch, branch_lat, emp_lat[employer_of])
    lon = np.where(at_branch, branch_lon, emp_lon[employer_of])

    rnd = random.Random(seed)
    employer_ids = [_uuid(rnd) for _ in range(n_emp)]
    now = dt.datetime.now(dt.UTC)
    with conn.cursor() as cur:
        with cur.copy("COPY employers (id, name, cvr, api_key_hash) FROM STDIN") as cp:
            for i, eid in enumerate(employer_ids):
                key_hash = hashlib.sha256(eid.bytes).digest()  # unique, and no real key exists
                cp.write_row((eid, f"Bench employer {i}", f"{10_000_000 + i}", key_hash))
        with cur.copy(f"COPY vacancies ({_VACANCY_COLUMNS}) FROM STDIN") as cp:
            for row in _vacancy_rows(rnd, occ, lat, lon, employer_of, employer_ids, now):
                cp.write_row(row)
    return n_emp


# --- jobseekers ----------------------------------------------------------------------


@dataclass(slots=True)
class SyntheticSeeker:
    """A jobseeker with the fields matching reads (matcher.matching.matches.SeekerLike)."""

    id: uuid.UUID
    birth_date: dt.date
    skill_ids: list[int]
    certificates: list[str]
    work_profile: list[float] | None
    job_types: list[str]
    hours_min: float | None
    hours_max: float | None
    walk_in_interest: bool
    radius_m: float
    finished_compulsory_school: bool | None = None
    subsidy_eligibility: list[str] = field(default_factory=list)


def _birth_date(rnd: random.Random, today: dt.date) -> dt.date:
    age = rnd.randint(15, 28)
    return today - dt.timedelta(days=int(age * 365.25) + rnd.randint(1, 363))


def _seeker_skills(rnd: random.Random, occ: Occupations, occ_cum: list[float]) -> list[int]:
    o = rnd.choices(range(len(occ)), cum_weights=occ_cum)[0]
    pool = occ.essential[o] + occ.optional[o]
    skills = _pick(rnd, pool, rnd.randint(4, 12))
    # A fifth of what people know is a neighbour of what the occupation lists (a
    # related or narrower skill), which is what the taxonomy's partial credit is for.
    out = []
    for s in skills:
        near = occ.neighbours.get(s)
        out.append(rnd.choice(near) if near and rnd.random() < 0.2 else s)
    return sorted(set(out))


def make_seekers(
    n: int, seed: int, occupations: Occupations, radius_m: float = 5000.0
) -> list[SyntheticSeeker]:
    """n seekers aged 15-28 with skills from a real occupation, a work profile (80 %)
    and preferences (half wish for particular job types, half for particular hours)."""
    rnd = random.Random(seed)
    today = dt.date.today()
    types = list(JOB_TYPES)
    occ_cum = np.cumsum(occupations.weights).tolist()
    out = []
    for _ in range(n):
        birth = _birth_date(rnd, today)
        adult = (today - birth).days >= 18 * 365.25
        certs = [c for c, p in (("hygiene", 0.3), ("first_aid", 0.2)) if rnd.random() < p]
        if adult and rnd.random() < 0.4:
            certs.append("driving_licence_b")
        hours = sorted(rnd.sample([5.0, 10.0, 15.0, 20.0, 30.0, 37.0], 2))
        has_hours = rnd.random() < 0.5
        out.append(
            SyntheticSeeker(
                id=_uuid(rnd),
                birth_date=birth,
                skill_ids=_seeker_skills(rnd, occupations, occ_cum),
                certificates=sorted(c for c in certs if c in CERTIFICATES),
                work_profile=_profile(rnd),
                job_types=sorted(rnd.sample(types, rnd.randint(1, 3)))
                if rnd.random() < 0.5
                else [],
                hours_min=hours[0] if has_hours else None,
                hours_max=hours[1] if has_hours else None,
                walk_in_interest=rnd.random() < 0.7,
                radius_m=radius_m,
                # Under 18: out of 9th grade from 16 (no random draw: the stream stays).
                finished_compulsory_school=None if adult else (today - birth).days >= 16 * 365.25,
            )
        )
    return out


def insert_seekers(
    conn: psycopg.Connection[Any],
    seekers: list[SyntheticSeeker],
    positions: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """COPY seekers into `jobseekers`, optionally with a last position (lat, lon
    arrays; into `push_streams`, where positions live)."""
    now = dt.datetime.now(dt.UTC)
    cols = (
        "id, birth_date, skill_ids, certificates, work_profile, radius_m, "
        "job_types, hours_min, hours_max, walk_in_interest, finished_compulsory_school"
    )
    with conn.cursor() as cur, cur.copy(f"COPY jobseekers ({cols}) FROM STDIN") as cp:
        for s in seekers:
            cp.write_row((
                s.id, s.birth_date, s.skill_ids,
                s.certificates, s.work_profile, s.radius_m, s.job_types, s.hours_min,
                s.hours_max, s.walk_in_interest, s.finished_compulsory_school,
            ))  # fmt: skip
    if positions is not None:
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY push_streams (jobseeker_id, last_position, last_position_at) FROM STDIN"
            ) as cp,
        ):
            for i, s in enumerate(seekers):
                lat, lon = float(positions[0][i]), float(positions[1][i])
                cp.write_row((s.id, f"SRID=4326;POINT({lon:.6f} {lat:.6f})", now))
    # Synthetic people have consented to the service and, for the push load, to
    # location (positions are neither used nor kept without it; docs/privacy.md).
    kinds = ["service", "location"] if positions is not None else ["service"]
    with (
        conn.cursor() as cur,
        cur.copy("COPY consents (jobseeker_id, kind, notice_version) FROM STDIN") as cp,
    ):
        for s in seekers:
            for kind in kinds:
                cp.write_row((s.id, kind, "bench"))
