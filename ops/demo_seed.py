"""Demo data: small Aarhus employers and their vacancies, built on real ESCO.

The businesses are invented, the vocabulary is not: every vacancy is a real ESCO
occupation (ops/demo_catalogue.py lists them) whose skills are drawn from that
occupation's own essential and optional skills, placed a few hundred metres from
a real postcode's centre. So the demo exercises the same code paths and data
shapes as production. It is repeatable: the same seed and day give the same data.

Demo vacancies carry `source_ref = 'demo-NNNN'`, which is how a second run
recognises them (and how `replace=True` removes them with their employers).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy.engine import make_url

from matcher.certificates import CERTIFICATES
from matcher.matching.eligibility import columns_of, implied_min_age
from matcher.people.tokens import Principal, new_secret
from ops import demo_offers
from ops.demo_catalogue import (
    AARHUS_POSTCODES,
    CATEGORIES,
    EMPLOYERS,
    HOURS,
    JOB_TYPES,
    OCCUPATIONS,
    TITLES,
    YOUTH_TYPES,
    Category,
    Occ,
    Place,
    Shift,
    hhmm,
    in_window,
    load_places,
    opening_hours,
    parse_span,
    shift_length,
)

Progress = Callable[[str, int, int], None]

DEMO_REF = "demo-"
JITTER_M = 300.0


class DemoSeedError(RuntimeError):
    """A precondition the user can fix (ESCO not loaded, data already there)."""


@dataclass
class SeedReport:
    employers: int = 0
    vacancies: int = 0
    occupations: int = 0
    missing_occupations: list[str] = field(default_factory=list)
    by_job_type: dict[str, int] = field(default_factory=dict)
    replaced: int = 0
    offers: int = 0  # leisure and volunteering (ops/demo_offers.py)

    def lines(self) -> Iterator[str]:
        yield f"employers: {self.employers}"
        yield f"vacancies: {self.vacancies}"
        yield f"leisure and volunteering offers: {self.offers}"
        yield f"occupations used: {self.occupations}"
        yield "by job type: " + ", ".join(f"{k} {v}" for k, v in sorted(self.by_job_type.items()))
        if self.missing_occupations:
            yield "not in the loaded ESCO (skipped): " + ", ".join(self.missing_occupations)
        if self.replaced:
            yield f"replaced {self.replaced} earlier demo vacancies"


@dataclass(frozen=True)
class _EscoOcc:
    spec: Occ
    id: int
    title: str  # Danish preferred label where ESCO has one
    essential: list[int]
    optional: list[int]


def libpq_url(url: str) -> str:
    """Any SQLAlchemy-style postgres URL as a plain libpq URL for psycopg."""
    u = make_url(url).set(drivername="postgresql")
    return u.render_as_string(hide_password=False)


def count_demo_vacancies(database_url: str) -> int:
    with psycopg.connect(libpq_url(database_url)) as conn:
        return _count_demo(conn)


def seed_demo(
    database_url: str,
    n_vacancies: int = 400,
    seed: int = 7,
    progress: Progress | None = None,
    *,
    replace: bool = False,
    now: dt.datetime | None = None,
) -> SeedReport:
    """Insert demo employers and `n_vacancies` vacancies in one transaction."""
    with psycopg.connect(libpq_url(database_url)) as conn:  # commits on success
        return seed_into(conn, n_vacancies, seed, progress, replace=replace, now=now)


def seed_into(
    conn: psycopg.Connection[Any],
    n_vacancies: int = 400,
    seed: int = 7,
    progress: Progress | None = None,
    *,
    replace: bool = False,
    now: dt.datetime | None = None,
) -> SeedReport:
    """Write the demo data in the caller's transaction (which commits or rolls back)."""
    rng = np.random.default_rng(seed)
    now = now or dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    places = load_places()
    report = SeedReport()
    try:
        existing = _count_demo(conn)
    except psycopg.errors.UndefinedTable:
        raise DemoSeedError("the database has no schema yet: run `jotr migrate`") from None
    if existing and not replace:
        raise DemoSeedError(
            f"demo data is already there ({existing} vacancies); to seed again, replace it "
            "(`jotr seed --demo --replace`)"
        )
    occs = _load_occupations(conn)
    report.missing_occupations = sorted({o.label for o in OCCUPATIONS} - set(occs))
    if existing:
        conn.execute(
            "DELETE FROM employers WHERE id IN "
            "(SELECT employer_id FROM vacancies WHERE source_ref LIKE %s)",
            (DEMO_REF + "%",),
        )
        report.replaced = existing
    demo_offers.delete_offers(conn)
    employers = _employers(rng, occs, places)
    weights = np.array([len(e["sites"]) * e["category"].size for e in employers])
    rows: list[dict[str, Any]] = []
    used: set[uuid.UUID] = set()
    for i in range(n_vacancies):
        employer = employers[rng.choice(len(employers), p=weights / weights.sum())]
        rows.append(_vacancy(rng, i, employer, occs, places, now))
        used.add(employer["id"])
        if progress and (i + 1) % 50 == 0:
            progress("vacancies", i + 1, n_vacancies)
    _insert(conn, [e for e in employers if e["id"] in used], rows)
    report.offers = demo_offers.insert_offers(
        conn, rng, places, now, lambda: new_secret(Principal.EMPLOYER)[1]
    )
    if progress:
        progress("vacancies", n_vacancies, n_vacancies)
    report.employers = len(used)
    report.vacancies = len(rows)
    report.occupations = len({r["occupation_id"] for r in rows})
    for r in rows:
        report.by_job_type[r["job_type"]] = report.by_job_type.get(r["job_type"], 0) + 1
    return report


# --- reading ------------------------------------------------------------------


def _count_demo(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        "SELECT count(*) FROM vacancies WHERE source_ref LIKE %s", (DEMO_REF + "%",)
    ).fetchone()
    return int(row[0]) if row else 0


def _load_occupations(conn: psycopg.Connection[Any]) -> dict[str, _EscoOcc]:
    row = conn.execute("SELECT count(*) FROM occupations").fetchone()
    if not row or not row[0]:
        raise DemoSeedError("ESCO is not loaded: run `jotr esco load` first")
    labels = [o.label for o in OCCUPATIONS]
    found = conn.execute(
        """
        SELECT o.id, o.preferred_label,
               (SELECT min(cl.label) FROM concept_labels cl
                 WHERE cl.concept_uri = o.uri AND cl.lang = 'da' AND cl.label_type = 'preferred')
          FROM occupations o
         WHERE o.preferred_label = ANY(%s) AND o.active AND o.uri LIKE '%%/occupation/%%'
         ORDER BY o.id
        """,
        (labels,),
    ).fetchall()
    ids = [r[0] for r in found]
    skills: dict[tuple[int, str], list[int]] = {}
    for occ_id, skill_id, relation in conn.execute(
        """
        SELECT os.occupation_id, os.skill_id, os.relation_type
          FROM occupation_skills os JOIN skills s ON s.id = os.skill_id
         WHERE os.occupation_id = ANY(%s) AND s.active AND s.skill_type <> 'group'
         ORDER BY os.occupation_id, os.skill_id
        """,
        (ids,),
    ):
        skills.setdefault((occ_id, relation), []).append(skill_id)
    out: dict[str, _EscoOcc] = {}
    specs = {o.label: o for o in OCCUPATIONS}
    for occ_id, label, da in found:
        essential = skills.get((occ_id, "essential"), [])
        if label in out or not essential:
            continue
        title = da or label
        out[label] = _EscoOcc(
            specs[label], occ_id, title, essential, skills.get((occ_id, "optional"), [])
        )
    if not out:
        raise DemoSeedError("none of the demo occupations is in the loaded ESCO data")
    return out


# --- generating ---------------------------------------------------------------


def _uuid(rng: np.random.Generator) -> uuid.UUID:
    return uuid.UUID(bytes=rng.bytes(16), version=4)


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _jitter(rng: np.random.Generator, place: Place, radius_m: float) -> tuple[float, float]:
    # Uniform over a disc: sqrt keeps points from crowding the centre.
    d = radius_m * math.sqrt(rng.random())
    theta = 2 * math.pi * rng.random()
    dlat = d * math.cos(theta) / 111_320.0
    dlon = d * math.sin(theta) / (111_320.0 * math.cos(math.radians(place.lat)))
    return round(place.lat + dlat, 6), round(place.lon + dlon, 6)


def _random_place(rng: np.random.Generator, places: dict[str, list[Place]]) -> Place:
    code = _pick(rng, {c: AARHUS_POSTCODES[c] for c in places})
    options = places[code]
    return options[int(rng.integers(len(options)))]


def _employers(
    rng: np.random.Generator, occs: dict[str, _EscoOcc], places: dict[str, list[Place]]
) -> list[dict[str, Any]]:
    out = []
    for name, category, home in EMPLOYERS:
        cat = CATEGORIES[category]
        if not any(label in occs for label in cat.occupations):
            continue
        if home in places:
            spots = places[home]
            chosen = [spots[int(rng.integers(len(spots)))]]
        else:
            n_sites = int(rng.integers(cat.sites[0], cat.sites[1] + 1))
            chosen = [_random_place(rng, places) for _ in range(n_sites)]
        sites = [(place, _jitter(rng, place, JITTER_M)) for place in chosen]
        _, key_hash = new_secret(Principal.EMPLOYER)  # the key itself is never needed
        out.append(
            {"id": _uuid(rng), "name": name, "category": cat, "sites": sites, "key": key_hash}
        )
    return out


def _min_age(rng: np.random.Generator, occ: Occ, job_type: str, shift: Shift, hours: float) -> int:
    adult_only = occ.min_age >= 18 or occ.hazardous or not in_window(shift, 6 * 60, 22 * 60)
    if adult_only:
        return 18
    if job_type in YOUTH_TYPES:
        # Light jobs such as leaflets are the classic first job at 13-14, within
        # the stricter rules for that age (<= 12 h a week, done by 20:00).
        if occ.light and hours <= 12 and in_window(shift, 6 * 60, 20 * 60) and rng.random() < 0.5:
            return 13
        return 15 if rng.random() < 0.8 else 16
    return int(rng.choice([15, 16, 18], p=[0.35, 0.15, 0.5]))


def _work_profile(rng: np.random.Generator, occ: Occ, shift: Shift) -> list[float]:
    style = np.array(occ.style, dtype=float) / 10.0
    style = np.clip(style + rng.normal(0.0, 0.06, size=style.size), 0.0, 1.0)
    if shift is None:
        early, late = 0.3, 0.3
    else:
        start, end = shift
        # Thresholds: start by 6:00 / 7:30 / before 9:00; end from 22 / 20 / 18.
        early = 1.0 if start <= 360 else 0.8 if start <= 450 else 0.5 if start < 540 else 0.1
        end = end + 1440 if end <= start else end
        late = 1.0 if end >= 1320 else 0.8 if end >= 1200 else 0.5 if end >= 1080 else 0.1
    return [round(float(v), 3) for v in [*style, early, late]]


def _job_type(rng: np.random.Generator, occ: Occ, youth_shifts: list[Shift]) -> str:
    weights = dict(JOB_TYPES)
    if not occ.youth or not youth_shifts:
        for t in YOUTH_TYPES:
            weights.pop(t)
    if not occ.trainee:
        weights.pop("elev_laerling")
    return _pick(rng, weights)


def _vacancy(
    rng: np.random.Generator,
    index: int,
    employer: dict[str, Any],
    occs: dict[str, _EscoOcc],
    places: dict[str, list[Place]],
    now: dt.datetime,
) -> dict[str, Any]:
    cat: Category = employer["category"]
    esco = occs[_pick(rng, {k: w for k, w in cat.occupations.items() if k in occs})]
    occ = esco.spec
    shifts = [parse_span(s) for s in occ.shifts.split()]
    youth_shifts = [s for s in shifts if in_window(s, 6 * 60, 22 * 60)]
    job_type = _job_type(rng, occ, youth_shifts)
    options = youth_shifts if job_type in YOUTH_TYPES else shifts
    lo, hi = HOURS[job_type]
    if lo >= 20:  # (nearly) full time: prefer shifts long enough to add up to it
        options = [s for s in options if shift_length(s) >= 6 * 60] or options
    shift = options[int(rng.integers(len(options)))]
    # At most five or six shifts a week.
    hi = min(hi, shift_length(shift) * 5.5 / 60) if shift else hi
    hours = max(1.0, round(float(rng.uniform(min(lo, hi), hi)) * 2) / 2)
    min_age = _min_age(rng, occ, job_type, shift, hours)

    if cat.mobile:
        place = _random_place(rng, places)
        lat, lon = _jitter(rng, place, JITTER_M)
    else:
        place, (lat, lon) = employer["sites"][int(rng.integers(len(employer["sites"])))]
    k = min(len(esco.essential), int(rng.integers(3, 7)))
    required = sorted(int(s) for s in rng.choice(esco.essential, size=k, replace=False))
    pool = esco.optional or [s for s in esco.essential if s not in required]
    n_opt = min(len(pool), int(rng.integers(1, 4)))
    optional = sorted(int(s) for s in rng.choice(pool, size=n_opt, replace=False)) if n_opt else []
    certificates = [c for c in occ.certificates if c != "alcohol_serving" or rng.random() < 0.5]
    walk_in = bool(cat.hours) and job_type in (*YOUTH_TYPES, "ordinary")
    walk_in = walk_in and rng.random() < cat.walk_in

    starts_in = int(rng.integers(0, 29))
    label = esco.title
    title = TITLES[job_type].format(l=label, L=label[:1].upper() + label[1:])
    text = [cat.blurb, f"{employer['name']} søger {label} i {place.locality}."]
    when = f", typisk kl. {hhmm(shift[0])}-{hhmm(shift[1])}" if shift else ""
    text.append(f"{hours:g} timer om ugen{when}. Du skal være mindst {min_age} år.")
    if certificates:
        text.append("Krav: " + ", ".join(CERTIFICATES[c]["da"] for c in certificates) + ".")
    if walk_in:
        text.append("Kig forbi og sig hej - du er velkommen uden aftale.")
    row = {
        "id": _uuid(rng),
        "employer_id": employer["id"],
        "source_ref": f"{DEMO_REF}{index + 1:04d}",
        "title": title[:200],
        "description": " ".join(text),
        "occupation_id": esco.id,
        "lon": lon,
        "lat": lat,
        "address": f"{place.postcode} {place.locality}",
        "required_skill_ids": required,
        "required_skill_weights": [1.0] * len(required),
        "optional_skill_ids": optional,
        "required_certificates": certificates,
        "work_profile": _work_profile(rng, occ, shift),
        "job_type": job_type,
        "hours_per_week": hours,
        "shift_start": dt.time(shift[0] // 60 % 24, shift[0] % 60) if shift else None,
        "shift_end": dt.time(shift[1] // 60 % 24, shift[1] % 60) if shift else None,
        "hazardous": occ.hazardous,
        "light_work": occ.light,
        "min_age": min_age,
        "walk_in": walk_in,
        "opening_hours": Jsonb(opening_hours(cat.hours)) if walk_in and cat.hours else None,
        "start_date": (now + dt.timedelta(days=starts_in)).date(),
        # Ads stay up a few weeks past the start date, as they do on Jobnet.
        "expires_at": now + dt.timedelta(days=starts_in + int(rng.integers(14, 46))),
        "openings": int(rng.choice([1, 2, 3, 4], p=[0.7, 0.18, 0.08, 0.04])),
        "hazards": ["other"] if occ.hazardous else [],
    }
    # Never below what the youth rules allow for this job as posted.
    row["min_age"] = max(min_age, _rules_min_age(row, job_type, now.date()))
    row["description"] = row["description"].replace(
        f"mindst {min_age} år", f"mindst {row['min_age']} år"
    )
    return row


def _rules_min_age(row: dict[str, Any], job_type: str, day: dt.date) -> int:
    job = SimpleNamespace(
        **{k: row[k] for k in ("min_age", "hours_per_week", "shift_start", "shift_end")},
        schedule=None, workplace_kind="other", alcohol_served=False, may_work_alone=False,
        hazards=row["hazards"], light_work=row["light_work"], job_type=job_type,
    )  # fmt: skip
    return int(implied_min_age(columns_of([job]), day)[0])


# --- writing ------------------------------------------------------------------

_INSERT_VACANCY = """
INSERT INTO vacancies (
    id, employer_id, source, source_ref, title, description, occupation_id, location, address,
    required_skill_ids, required_skill_weights, optional_skill_ids, required_certificates,
    work_profile, job_type, hours_per_week, shift_start, shift_end, hazardous, light_work,
    min_age, walk_in, opening_hours, start_date, expires_at, openings, status, hazards
) VALUES (
    %(id)s, %(employer_id)s, 'api', %(source_ref)s, %(title)s, %(description)s,
    %(occupation_id)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(address)s,
    %(required_skill_ids)s::integer[], %(required_skill_weights)s::real[],
    %(optional_skill_ids)s::integer[], %(required_certificates)s::varchar[],
    %(work_profile)s::real[], %(job_type)s::job_type, %(hours_per_week)s, %(shift_start)s,
    %(shift_end)s, %(hazardous)s, %(light_work)s, %(min_age)s, %(walk_in)s, %(opening_hours)s,
    %(start_date)s, %(expires_at)s, %(openings)s, 'open', %(hazards)s::varchar[]
)
"""


def _insert(
    conn: psycopg.Connection[Any], employers: list[dict[str, Any]], rows: list[dict[str, Any]]
) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            # Seeded by an operator, so verified (employer trust, docs/security.md).
            "INSERT INTO employers (id, name, api_key_hash, verification_status,"
            " verified_by_type, verified_at) VALUES (%s, %s, %s, 'verified', 'operator', now())",
            [(e["id"], e["name"], e["key"]) for e in employers],
        )
        cur.executemany(_INSERT_VACANCY, rows)
