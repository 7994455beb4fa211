"""Jobseeker requests and responses."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from api.schemas.common import (
    Number,
    OccupationRef,
    OccupationUri,
    SkillRef,
    SkillUri,
    Strict,
    WorkProfile,
    check_certificates,
    unique_list,
)
from matcher.matching.eligibility import age_on
from matcher.models import JobType
from matcher.settings import get_settings

# The service is for young people: 13 is the lowest legal working age in
# Denmark, and target group A ends at 29.
MIN_AGE, MAX_AGE = 13, 29


class Preferences(Strict):
    NOT_NULL: ClassVar[frozenset[str]] = frozenset(
        {"radius_m", "job_types", "walk_in_interest", "offer_kinds"}
    )
    radius_m: Number | None = Field(
        default=None,
        gt=0,
        description="How far to look, metres; at most the server's maximum radius (50 km)",
    )
    job_types: list[JobType] | None = Field(default=None, max_length=8)
    hours_min: Number | None = Field(default=None, ge=0, le=80)
    hours_max: Number | None = Field(default=None, gt=0, le=80)
    walk_in_interest: bool | None = None
    offer_kinds: list[Literal["job", "leisure", "volunteering"]] | None = Field(
        default=None,
        min_length=1,
        max_length=3,
        description='The kinds of offer to hear about (matches, push); default ["job"]. '
        "Add leisure and volunteering to see those offers too",
    )

    @field_validator("offer_kinds")
    @classmethod
    def _kinds_unique(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else unique_list(v, "offer_kinds")

    @field_validator("radius_m")
    @classmethod
    def _radius(cls, v: float | None) -> float | None:
        # The same bound as a query's radius: a stored preference above it would
        # make the seeker's own default match request fail.
        limit = get_settings().max_radius_m
        if v is not None and v > limit:
            raise ValueError(f"radius_m must be at most {limit:.0f} metres")
        return v

    @model_validator(mode="after")
    def _range(self) -> Preferences:
        if (
            self.hours_min is not None
            and self.hours_max is not None
            and self.hours_min > self.hours_max
        ):
            raise ValueError("hours_min must not exceed hours_max")
        return self


class ParentContact(Strict):
    """A parent the employer can tell about the job (docs/privacy.md, "Parents")."""

    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(
        default=None, min_length=8, max_length=20, pattern=r"^\+?[0-9 ]{8,19}$"
    )
    email: str | None = Field(
        default=None, max_length=254, pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"
    )

    @model_validator(mode="after")
    def _reachable(self) -> ParentContact:
        if self.phone is None and self.email is None:
            raise ValueError("a parent contact needs a phone number or an e-mail address")
        return self


class SignupConsent(Strict):
    """Explicit consent to the privacy notice shown (GET /v1/privacy-notice)."""

    notice_version: str = Field(max_length=32, description="The `version` of the notice shown")
    accepted: bool = Field(description="Must be true: the person said yes")


class SeekerFields(Strict):
    NOT_NULL: ClassVar[frozenset[str]] = frozenset(
        {"birth_date", "language", "skills", "certificates", "preferences", "interests"}
    )
    display_name: str | None = Field(default=None, max_length=100)
    birth_date: dt.date | None = None
    language: Literal["da", "en"] | None = None
    skills: list[SkillUri] | None = Field(default=None, max_length=100)
    certificates: list[str] | None = Field(default=None, max_length=20)
    interests: list[OccupationUri] | None = Field(
        default=None,
        max_length=10,
        description="ESCO occupation URIs the person would like to work as (the "
        "occupation part of the match score)",
    )
    work_profile: WorkProfile | None = None
    preferences: Preferences | None = None
    # --- the youth rules (matcher/youth_rules.py) ---
    finished_compulsory_school: bool | None = Field(
        default=None,
        description="Has the person finished 9th grade (er du færdig med 9. klasse)? "
        "Required under 18: the rules on young people's work depend on it",
    )
    parent_contact: ParentContact | None = Field(
        default=None, description="Optional; null removes it"
    )

    @field_validator("birth_date")
    @classmethod
    def _age(cls, v: dt.date | None) -> dt.date | None:
        if v is not None:
            age = age_on(v, dt.date.today())
            if not MIN_AGE <= age <= MAX_AGE:
                raise ValueError(f"the service is for people aged {MIN_AGE}-{MAX_AGE}")
        return v

    @field_validator("skills")
    @classmethod
    def _skills(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else unique_list(v, "skills")

    @field_validator("interests")
    @classmethod
    def _interests(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else unique_list(v, "interests")

    @field_validator("certificates")
    @classmethod
    def _certs(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else check_certificates(v)


class SeekerCreate(SeekerFields):
    birth_date: dt.date
    consent: SignupConsent | None = Field(
        default=None,
        description='Required: `{"notice_version", "accepted": true}` for the current '
        "privacy notice; without it 422 `consent_required`, an old version 422 `stale_notice`",
    )

    @model_validator(mode="after")
    def _school_status_under_18(self) -> SeekerCreate:
        check_school_status(self.birth_date, self.finished_compulsory_school)
        return self


def check_school_status(birth_date: dt.date, finished: bool | None) -> None:
    """Under 18 the youth rules need to know whether 9th grade is behind them."""
    if finished is None and age_on(birth_date, dt.date.today()) < 18:
        raise ValueError(
            "finished_compulsory_school is required under 18: send true if the person "
            "has finished 9th grade, false if not"
        )


class SeekerUpdate(SeekerFields):
    """A PATCH: any subset; `preferences` keys not sent stay as they are."""


class SeekerCreated(BaseModel):
    id: uuid.UUID
    token: str = Field(description="Shown once. Send as `Authorization: Bearer <token>`.")


class PreferencesOut(BaseModel):
    radius_m: float
    job_types: list[str]
    hours_min: float | None
    hours_max: float | None
    walk_in_interest: bool
    offer_kinds: list[str]


class SeekerOut(BaseModel):
    id: uuid.UUID
    display_name: str | None
    birth_date: dt.date
    age: int
    language: str
    skills: list[SkillRef]
    certificates: list[str]
    interests: list[OccupationRef]
    work_profile: dict[str, float] | None
    preferences: PreferencesOut
    finished_compulsory_school: bool | None
    parent_contact: dict[str, str] | None
    parents_informed: bool = Field(
        description="Under 15 or in compulsory school: the employer must inform the parents"
    )
    created_at: dt.datetime
    updated_at: dt.datetime


class MatchVacancy(BaseModel):
    id: uuid.UUID
    title: str
    employer_name: str
    kind: str = Field(description="job, leisure or volunteering")
    job_type: str | None = Field(description="null for leisure and volunteering offers")
    hours_per_week: float | None
    min_age: int
    max_age: int | None
    cost_dkk: int | None = Field(description="Leisure: what it costs (0 = free)")
    cost_note: str | None
    walk_in: bool
    lat: float
    lon: float
    address: str | None


class MatchOut(BaseModel):
    vacancy: MatchVacancy
    score: float = Field(ge=0, le=1)
    distance_m: float
    explanation: dict[str, Any]


class MatchList(BaseModel):
    radius_m: float
    matches: list[MatchOut]
