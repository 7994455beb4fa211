"""Autocomplete and occupation-profile responses (matcher/esco/autocomplete.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, Field

from api.schemas.common import NOT_BLANK
from matcher.esco.autocomplete import MAX_QUERY_CHARS

Lang = Literal["da", "en"]

QQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        pattern=NOT_BLANK,  # at least one character that is not a space
        description="What has been typed so far: a few letters, typos and inflections welcome.",
        examples=["baarista"],
    ),
]
LangQuery = Annotated[
    Lang,
    Query(
        description="Language of the labels wanted. In Danish, skills of everyday jobs "
        "have our easy-Danish labels, the rest English: "
        "each item's `lang` says which language its label is in."
    ),
]
LimitQuery = Annotated[int, Query(ge=1, le=50, description="At most this many concepts")]


class Suggestion(BaseModel):
    uri: str = Field(description="ESCO concept URI")
    label: str = Field(description="The concept's preferred label in `lang`")
    lang: str = Field(description="Language of `label`: the asked one, or `en` as a fallback")
    matched_label: str = Field(description="The label (preferred, alternative or hidden) matched")
    matched_lang: str
    score: float = Field(description="Ranking score; comparable within one response only")


class Suggestions(BaseModel):
    query: str
    lang: Lang
    items: list[Suggestion]


class LabelledConcept(BaseModel):
    uri: str
    label: str
    lang: str = Field(description="Language of `label`: the asked one, or `en` as a fallback")


class OccupationSkillsOut(BaseModel):
    occupation: LabelledConcept
    essential: list[LabelledConcept] = Field(description="ESCO's essential skills, to preselect")
    optional: list[LabelledConcept] = Field(description="ESCO's optional skills, to offer")
