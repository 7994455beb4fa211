"""Autocomplete over ESCO skills and occupations, and an occupation's skills.

Public and read-only: what a jobseeker app calls on every keystroke. The index is
in memory (matcher/esco/autocomplete.py), so these routes touch no database.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.contract import errors
from api.deps import TaxonomyDep
from api.schemas.common import has_text
from api.schemas.taxonomy import (
    LangQuery,
    LimitQuery,
    OccupationSkillsOut,
    QQuery,
    Suggestion,
    Suggestions,
)
from matcher.errors import Invalid
from matcher.esco.autocomplete import Autocomplete, LabelIndex

router = APIRouter(prefix="/v1", tags=["taxonomy"])


def _index(request: Request) -> Autocomplete:
    index: Autocomplete = request.app.state.autocomplete
    return index


def _suggest(index: LabelIndex, q: str, lang: str, limit: int) -> Suggestions:
    if not has_text(q):
        raise Invalid("q: type at least one letter")
    items = [Suggestion(**asdict(s)) for s in index.search(q, lang, limit)]
    return Suggestions(query=q, lang=lang, items=items)  # type: ignore[arg-type]


@router.get("/skills", response_model=Suggestions, summary="Skills for a few typed letters")
async def suggest_skills(
    request: Request, q: QQuery, lang: LangQuery = "da", limit: LimitQuery = 10
) -> Suggestions:
    return _suggest(_index(request).skills, q, lang, limit)


@router.get(
    "/occupations", response_model=Suggestions, summary="Occupations for a few typed letters"
)
async def suggest_occupations(
    request: Request, q: QQuery, lang: LangQuery = "da", limit: LimitQuery = 10
) -> Suggestions:
    return _suggest(_index(request).occupations, q, lang, limit)


@router.get(
    "/occupations/skills",
    response_model=OccupationSkillsOut,
    summary="The skills of an occupation (ESCO profile), to suggest once it is chosen",
    responses=errors(404),
)
async def occupation_skills(
    request: Request,
    taxonomy: TaxonomyDep,
    uri: Annotated[str, Query(min_length=1, max_length=255, description="ESCO occupation URI")],
    lang: LangQuery = "da",
) -> OccupationSkillsOut:
    profile = _index(request).occupation_skills(taxonomy, uri, lang)
    return OccupationSkillsOut.model_validate(asdict(profile))
