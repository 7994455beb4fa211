"""Feedback events, competence guidance and consultants' figures."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import Strict

# What a seeker can tell us about a vacancy (matcher.analytics.feedback.SEEKER_ACTIONS).
SeekerAction = Literal["opened", "dismissed", "saved", "applied", "hired"]


class FeedbackCreate(Strict):
    vacancy_id: uuid.UUID
    action: SeekerAction


class OutcomeCreate(Strict):
    vacancy_id: uuid.UUID
    outcome: Literal["hired"]


class EventOut(BaseModel):
    id: int
    vacancy_id: uuid.UUID
    action: str = Field(description="The event's kind, e.g. saved, hired")
    actor: str
    occurred_at: dt.datetime
    score: float = Field(description="The match's score as it was when it happened")
    scorer: str
    features: dict[str, float | None] = Field(
        description="The match as scored then, by feature name (docs/matching.md); "
        "null where unknown"
    )


class FeedbackItem(BaseModel):
    vacancy_id: uuid.UUID
    action: SeekerAction
    occurred_at: dt.datetime
    title: str
    employer_name: str
    open: bool = Field(description="Whether the vacancy is still open")


class FeedbackList(BaseModel):
    items: list[FeedbackItem]


# --- guidance --------------------------------------------------------------------------


class GuidanceExample(BaseModel):
    vacancy_id: uuid.UUID
    title: str
    distance_m: float


class GuidanceCourse(BaseModel):
    title: str
    provider: str
    url: str


class GuidanceSkill(BaseModel):
    uri: str
    label: str
    unlocks: int = Field(description="Jobs nearby that this skill alone would make a match")
    examples: list[GuidanceExample]
    courses: list[GuidanceCourse]


class GuidanceOut(BaseModel):
    skills: list[GuidanceSkill]
    radius_m: float
    current_matches: int


# --- consultants' figures --------------------------------------------------------------


class DayCounts(BaseModel):
    day: dt.date
    pushed: int
    opened: int
    dismissed: int
    saved: int
    applied: int
    hired: int


class Histogram(BaseModel):
    edges: list[float]
    counts: list[int]


class VerdictStats(BaseModel):
    good: int
    bad: int
    agreement: float | None = Field(
        description="Share of verdicts the matcher agreed with (docs/api.md); null without any"
    )


class OutcomesOut(BaseModel):
    days: list[DayCounts]
    score_histogram: Histogram
    verdicts: VerdictStats


class _Cell(BaseModel):
    """Numbers are null when the cell has fewer than 5 seekers (or is the one more
    hidden so that it cannot be derived from the totals)."""

    seekers: int | None
    pushed: int | None
    opened: int | None
    dismissed: int | None
    saved: int | None
    applied: int | None
    hired: int | None
    push_rate: float | None = Field(description="pushes per seeker in the window")
    apply_rate: float | None = Field(description="applications per push")
    hire_rate: float | None = Field(description="hires per seeker")
    suppressed: bool


class BandCell(_Cell):
    band: str


class AreaCell(_Cell):
    area: str | None = Field(description="Locality of the vacancies; null if unknown")


class FairnessOut(BaseModel):
    by_age_band: list[BandCell]
    by_area: list[AreaCell]
    min_cell: int = Field(description="Cells with fewer seekers than this are suppressed")
