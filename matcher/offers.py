"""Offers beyond jobs: leisure activities and volunteering (issue #15, part 3).

Every offer is a row of `vacancies` with a `kind`. Jobs stay the default
everywhere: a row, a request or a seeker that says nothing is about jobs.

What differs by kind (docs/matching.md, "Offer kinds"):
- a job has a job type and hours a week (required); leisure and volunteering
  offers have no job type and may leave hours out;
- a leisure offer may say what it costs (`cost_dkk`, 0 = free, `cost_note`
  "per måned", "per sæson");
- any offer may have an upper age (`max_age`) beside `min_age`;
- the youth work rules (matcher/youth_rules.py) bind jobs, and volunteering
  that is work (`volunteering_is_work`, by default true); never leisure.
- a seeker hears about a kind only if it is in their `offer_kinds` ({job} by
  default): a hard rule in matcher/matching/eligibility.py, so every path (matches,
  push, reach, guidance, "why not") agrees.

Pure functions, no web imports: the API and the importer call `settle`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matcher.errors import Invalid

JOB, LEISURE, VOLUNTEERING = "job", "leisure", "volunteering"
OFFER_KINDS: tuple[str, ...] = (JOB, LEISURE, VOLUNTEERING)
DEFAULT_OFFER_KINDS: tuple[str, ...] = (JOB,)
OFFER_KIND_CODE = {k: i for i, k in enumerate(OFFER_KINDS)}
# Who posts: the words the pages use for the poster (a forening is not an "employer").
ORG_KINDS: tuple[str, ...] = ("business", "association", "volunteer_centre", "club")

# Unpaid volunteering with a fixed rota, instruction and real use to the
# organisation is work in the law's sense, and the rules on young people's
# work apply to it; a club activity the young person may drop at will is not.
# We cannot tell the two apart from the form, so volunteering counts as work
# unless the poster says otherwise: the safe side for a 13-year-old.
VOLUNTEERING_IS_WORK_DEFAULT = True


def youth_rules_apply(kind: str, volunteering_is_work: bool) -> bool:
    """Whether the youth work rules bind an offer of this kind."""
    return kind == JOB or (kind == VOLUNTEERING and volunteering_is_work)


def _stored(stored: Any, key: str) -> Any:
    return getattr(stored, key, None) if stored is not None else None


def settle(columns: dict[str, Any], stored: Any = None) -> dict[str, Any]:
    """Check and complete an offer's columns against its kind; returns the columns
    to write (a copy). `stored` is the row a PATCH changes (None on create).

    Raises Invalid (422) with a message naming the field. Clearing what a new
    kind does not have (a job type when a job becomes a leisure offer, a cost
    when it becomes a job) is done here, not left to the client.
    """
    out = dict(columns)
    kind = out.get("kind") or _stored(stored, "kind") or JOB
    if kind not in OFFER_KINDS:
        raise Invalid(f"kind must be one of {', '.join(OFFER_KINDS)}")
    out["kind"] = kind

    def value(key: str) -> Any:
        return out[key] if key in out else _stored(stored, key)

    if kind == JOB:
        if value("job_type") is None:
            raise Invalid("job_type is required for a job (kind job)")
        if value("hours_per_week") is None:
            raise Invalid(
                "hours_per_week is required for a job (kind job); only leisure and "
                "volunteering offers may leave it out"
            )
        for key in ("cost_dkk", "cost_note"):
            if out.get(key) is not None:
                raise Invalid(f"{key} is for leisure offers, not jobs")
            out[key] = None
    else:
        if out.get("job_type") is not None:
            raise Invalid(f"job_type is only for jobs; a {kind} offer has none (leave it out)")
        out["job_type"] = None
        if kind == VOLUNTEERING:
            for key in ("cost_dkk", "cost_note"):
                if out.get(key) is not None:
                    raise Invalid(f"{key} is for leisure offers, not volunteering")
                out[key] = None
    if kind == VOLUNTEERING:
        if out.get("volunteering_is_work") is None:
            previous = _stored(stored, "volunteering_is_work")
            was_volunteering = _stored(stored, "kind") == VOLUNTEERING
            out["volunteering_is_work"] = (
                bool(previous) if was_volunteering else VOLUNTEERING_IS_WORK_DEFAULT
            )
    else:
        if out.get("volunteering_is_work"):
            raise Invalid("volunteering_is_work is only for volunteering offers")
        out["volunteering_is_work"] = False
    max_age, min_age = value("max_age"), value("min_age")
    if max_age is not None and max_age < (min_age if min_age is not None else 15):
        raise Invalid("max_age must be at least min_age")
    return out


def wanted_kinds(kinds: list[str] | None) -> frozenset[str]:
    """A seeker's stored opt-in, read defensively: unknown kinds dropped, jobs if empty."""
    out = frozenset(k for k in kinds or () if k in OFFER_KIND_CODE)
    return out or frozenset(DEFAULT_OFFER_KINDS)


def kind_of(row: Mapping[str, Any]) -> str:
    return str(row.get("kind") or JOB)
