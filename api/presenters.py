"""ORM rows -> response shapes. Kept apart from routes so every route that shows
a vacancy shows it the same way."""

from __future__ import annotations

import math
from typing import Any

from api.schemas.common import Point, SkillRef
from api.schemas.vacancies import (
    OccupationOut,
    Shift,
    VacancyOwner,
    VacancyPublic,
    WeightedSkillOut,
)
from matcher import profile
from matcher.matching import eligibility, geo
from matcher.matching.geo import lat_lon
from matcher.matching.matches import today_in_denmark
from matcher.models import Jobseeker, Vacancy


def _skills(taxonomy: Any, ids: list[int], lang: str) -> list[SkillRef]:
    return [
        SkillRef(uri=taxonomy.skill_uri(i), label=taxonomy.skill_label(i, lang))
        for i in ids
        if taxonomy.has_skill(i)  # a stored array may hold anything (matcher/matching/geo.py)
    ]


def _required(v: Vacancy, taxonomy: Any, lang: str) -> list[WeightedSkillOut]:
    """Required skills with usable weights. A row written around the API (NULL or
    unknown ids, non-finite weights, arrays of different lengths) shows what can
    be shown; the rest is counted, as on the hot path, never a 500."""
    ids, weights = v.required_skill_ids, v.required_skill_weights
    out = [
        WeightedSkillOut(uri=taxonomy.skill_uri(i), label=taxonomy.skill_label(i, lang), weight=w)
        for i, w in zip(ids, weights, strict=False)
        if taxonomy.has_skill(i) and w is not None and math.isfinite(w) and 0.0 < w <= 1.0
    ]
    if len(out) != len(ids) or len(ids) != len(weights):
        geo.report_unusable(v.id, "required_skill_ids", skipped=False)
    return out


def vacancy_public(
    v: Vacancy, employer_name: str, taxonomy: Any, lang: str = "en"
) -> VacancyPublic:
    """`lang`: the language of skill labels (Danish: our easy-Danish ones)."""
    lat, lon = lat_lon(v.location)
    occupation = (
        OccupationOut(
            uri=taxonomy.occupation_uri(v.occupation_id),
            label=taxonomy.occupation_label(v.occupation_id),
        )
        if v.occupation_id is not None
        else None
    )
    return VacancyPublic(
        id=v.id,
        title=v.title,
        description=v.description,
        employer_name=employer_name,
        occupation=occupation,
        location=Point(lat=lat, lon=lon),
        location_precision=v.location_precision,
        address=v.address,
        required_skills=_required(v, taxonomy, lang),
        optional_skills=_skills(taxonomy, v.optional_skill_ids, lang),
        required_certificates=list(v.required_certificates),
        kind=v.kind,
        job_type=v.job_type,
        hours_per_week=v.hours_per_week,
        max_age=v.max_age,
        cost_dkk=v.cost_dkk,
        cost_note=v.cost_note,
        volunteering_is_work=v.volunteering_is_work,
        shift=Shift(start=v.shift_start, end=v.shift_end)
        if v.shift_start and v.shift_end
        else None,
        min_age=v.min_age,
        walk_in=v.walk_in
        and v.employer_verified,  # employer trust: matcher/matching/geo.py _WALK_IN
        opening_hours=v.opening_hours if geo.sound_opening_hours(v.opening_hours) else None,
        start_date=v.start_date,
        expires_at=v.expires_at,
        apply=v.apply,
        pay=v.pay,
        age_limit=age_limit(v),
        workplace_kind=v.workplace_kind,
        schedule=v.schedule,
        alcohol_served=v.alcohol_served,
        may_work_alone=v.may_work_alone,
    )


def vacancy_owner(v: Vacancy, employer_name: str, taxonomy: Any, lang: str = "en") -> VacancyOwner:
    public = vacancy_public(v, employer_name, taxonomy, lang)
    return VacancyOwner(
        **public.model_dump(),
        employer_id=v.employer_id,
        status=v.status,
        source=v.source,
        work_profile=profile.to_mapping(v.work_profile),
        hazardous=v.hazardous,
        hazards=list(v.hazards),
        light_work=v.light_work,
        openings=v.openings,
        created_at=v.created_at,
        updated_at=v.updated_at,
    )


def age_limit(v: Vacancy) -> int:
    """The youngest who may take the vacancy under the youth rules in force today
    (18 while its employer is not verified: employer trust)."""
    cols = eligibility.columns_of([v], [v.employer_verified])
    return int(eligibility.implied_min_age(cols, today_in_denmark())[0])


def seeker_skills(seeker: Jobseeker, taxonomy: Any) -> list[SkillRef]:
    """A seeker's skills in the seeker's own language."""
    return _skills(taxonomy, seeker.skill_ids, seeker.language)
