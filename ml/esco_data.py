"""ESCO in memory for evaluation: a `Taxonomy`, occupation profiles, and synthetic
vacancies as the matcher's own candidate batches.

Used by the ESCO ranking tasks (ml/esco_tasks.py) and the feedback simulator
(ml/simulate.py). Nothing here touches a database: the ESCO CSVs are read with
the importer's own reader (matcher/esco/esco_read.py), ids are handed out in file
order, and the `Taxonomy` is built from plain rows, so skill credit is exactly
what the service computes.

Data: `../shared/data/esco_en` (ESCO v1.2.0 with
occupation_skill_relations_v1.2.0.csv.gz) when it is there, else the ESCO
bundle the product ships (matcher/data/esco, the same content).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from matcher import profile
from matcher.esco.esco_import import bundled_esco_dir
from matcher.esco.esco_read import discover, read
from matcher.esco.taxonomy import Taxonomy
from matcher.matching.eligibility import build_columns
from matcher.matching.scoring import CandidateBatch, SeekerContext, SkillCredit, occupation_fit

SHARED_ESCO = Path(__file__).resolve().parents[2] / "shared" / "data" / "esco_en"


def default_esco_dir() -> Path:
    return SHARED_ESCO if SHARED_ESCO.is_dir() else bundled_esco_dir()


@dataclass(frozen=True, slots=True)
class Occupation:
    id: int
    label: str
    isco: str  # 4-digit ISCO-08 unit group
    essential: tuple[int, ...]
    optional: tuple[int, ...]


@dataclass(slots=True)
class Esco:
    taxonomy: Taxonomy
    occupations: list[Occupation]  # with a 4-digit group and at least MIN_ESSENTIAL skills
    substitutes: dict[int, tuple[int, ...]]  # skill -> related or narrower skills
    directory: Path


MIN_ESSENTIAL = 4


@lru_cache(maxsize=2)
def load_esco(directory: Path | None = None) -> Esco:
    directory = directory or default_esco_dir()
    sets, _ = discover([directory])
    data = read(sets, [])
    skill_id = {uri: i for i, uri in enumerate(data.skills)}
    occ_uris = [u for u, v in data.occupations.items() if v[0] == "Occupation"]
    occ_id = {uri: i for i, uri in enumerate(occ_uris)}
    links = [
        (occ_id[o], skill_id[s], rt)
        for (o, s), rt in data.occupation_skills.items()
        if o in occ_id and s in skill_id
    ]
    related = [(skill_id[a], skill_id[b], rt) for (a, b), rt in data.related.items()]
    broader = [(skill_id[c], skill_id[p]) for c, p in data.broader]
    taxonomy = Taxonomy(
        skills=[(i, uri, row[2]) for uri, i in skill_id.items() for row in (data.skills[uri],)],
        broader=broader,
        related=related,
        occupations=[(i, uri, data.occupations[uri][2]) for uri, i in occ_id.items()],
        occupation_skills=links,
        occupation_isco={i: data.occupations[uri][1] for uri, i in occ_id.items()},
    )
    occupations = []
    for uri, i in occ_id.items():
        essential, optional = taxonomy.occupation_skills(i)
        isco = data.occupations[uri][1]
        if len(essential) >= MIN_ESSENTIAL and len(isco) == 4 and isco.isdigit():
            occupations.append(
                Occupation(i, data.occupations[uri][2], isco, tuple(essential), tuple(optional))
            )
    # What a person might hold instead of a skill an occupation lists: a related
    # skill (either direction of ESCO's skill-skill relation) or a narrower one.
    subs: dict[int, set[int]] = {}
    for a, b, _ in related:
        subs.setdefault(a, set()).add(b)
        subs.setdefault(b, set()).add(a)
    for child, parent in broader:
        subs.setdefault(parent, set()).add(child)
    substitutes = {k: tuple(sorted(v)) for k, v in subs.items()}
    return Esco(taxonomy, occupations, substitutes, directory)


def sample(rng: np.random.Generator, items: Sequence[int], k: int) -> list[int]:
    k = min(k, len(items))
    return [int(x) for x in rng.choice(np.asarray(items), size=k, replace=False)] if k else []


@dataclass(frozen=True, slots=True)
class SyntheticVacancy:
    occupation: Occupation
    required: tuple[int, ...]
    optional: tuple[int, ...]
    distance_m: float
    hours: float = 15.0
    job_type: str = "fritidsjob"
    start_in_days: float = float("nan")
    walk_in: bool = False
    profile: np.ndarray | None = None


def vacancy_for(
    rng: np.random.Generator, occ: Occupation, distance_m: float, max_required: int = 8
) -> SyntheticVacancy:
    """A vacancy of an occupation: a sample of its essential skills as required (an ad
    names a handful, not ESCO's whole profile) and a few optional ones."""
    return SyntheticVacancy(
        occ, tuple(sample(rng, occ.essential, max_required)), tuple(sample(rng, occ.optional, 4)),
        distance_m,
    )  # fmt: skip


def batch_of(vacancies: Sequence[SyntheticVacancy]) -> CandidateBatch:
    """The candidate batch the matcher would fetch for these vacancies (all eligible)."""
    n = len(vacancies)

    def flat(lists: list[tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray]:
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum([len(x) for x in lists], out=offsets[1:])
        return np.asarray([v for x in lists for v in x], dtype=np.int32), offsets

    req, req_off = flat([v.required for v in vacancies])
    opt, opt_off = flat([v.optional for v in vacancies])
    profiles = np.full((n, profile.SIZE), np.nan, dtype=np.float32)
    for i, v in enumerate(vacancies):
        if v.profile is not None:
            profiles[i] = v.profile
    hours = np.asarray([v.hours for v in vacancies], dtype=np.float32)
    return CandidateBatch(
        ids=list(range(n)),
        distance_m=np.asarray([v.distance_m for v in vacancies], dtype=np.float64),
        req_ids=req,
        req_weights=np.ones(len(req), dtype=np.float32),
        req_offsets=req_off,
        opt_ids=opt,
        opt_offsets=opt_off,
        profiles=profiles,
        eligibility=build_columns(
            min_age=[15] * n,
            hours_per_week=hours.tolist(),
            schedules=[None] * n,
            shift_start_min=[None] * n,
            shift_end_min=[None] * n,
            kinds=["other"] * n,
            alcohol=[False] * n,
            alone=[False] * n,
            hazards=[[]] * n,
            light_work=[False] * n,
            job_types=[v.job_type for v in vacancies],
            certificates_ok=[True] * n,
            employer_verified=[True] * n,
        ),
        job_types=np.asarray([v.job_type for v in vacancies], dtype=object),
        hours_per_week=hours,
        start_in_days=np.asarray([v.start_in_days for v in vacancies], dtype=np.float32),
        walk_in=np.asarray([v.walk_in for v in vacancies], dtype=bool),
        occupation_ids=np.asarray([v.occupation.id for v in vacancies], dtype=np.int64),
    )


def seeker_for(
    esco: Esco,
    held: Sequence[int],
    radius_m: float = 5000.0,
    work_profile: np.ndarray | None = None,
    job_types: frozenset[str] = frozenset(),
    hours: tuple[float | None, float | None] = (None, None),
    interests: Sequence[int] = (),
) -> SeekerContext:
    credit = esco.taxonomy.credit_vector(held)
    return SeekerContext(
        age=19,
        credit=SkillCredit.from_dense(credit),
        certificates=frozenset(),
        work_profile=work_profile,
        radius_m=radius_m,
        job_types=job_types,
        hours_min=hours[0],
        hours_max=hours[1],
        today=dt.date(2026, 1, 1),
        occupations=occupation_fit(esco.taxonomy.occupation_index, credit, interests),
    )


def held_skills(
    rng: np.random.Generator,
    esco: Esco,
    occ: Occupation,
    keep: float = 0.5,
    substitute: float = 0.3,
    extra: int = 2,
) -> tuple[list[int], int]:
    """What a person who fits `occ` might list: a share `keep` of its essential skills
    and one optional one, each replaced with probability `substitute` by a related or
    narrower skill (people describe what they can in their own terms, which is
    rarely ESCO's exact concept), plus `extra` skills of some other occupation.
    Returns (skills, how many were substituted)."""
    k = max(2, round(keep * len(occ.essential)))
    base = sample(rng, occ.essential, k) + sample(rng, occ.optional, 1)
    held, swapped = [], 0
    for s in base:
        alternatives = esco.substitutes.get(s, ())
        if alternatives and rng.random() < substitute:
            held.append(int(rng.choice(np.asarray(alternatives))))
            swapped += 1
        else:
            held.append(s)
    other = esco.occupations[int(rng.integers(len(esco.occupations)))]
    held += sample(rng, other.essential + other.optional, extra)
    return sorted(set(held)), swapped
