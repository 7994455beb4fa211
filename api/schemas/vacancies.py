"""Vacancy requests and responses."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from api.schemas.common import (
    Integer,
    Number,
    Point,
    SkillRef,
    SkillUri,
    Strict,
    WorkProfile,
    check_certificates,
    unique_list,
)
from matcher.matching.matches import today_in_denmark
from matcher.models import JobType, VacancySource, VacancyStatus
from matcher.posting import apply_info
from matcher.posting import pay as pay_rules
from matcher.posting import vacancies as vacancy_rules

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class RequiredSkill(Strict):
    uri: SkillUri
    weight: Number = Field(default=1.0, gt=0, le=5, description="Relative importance, 1 = normal")


def _local(value: dt.time) -> dt.time:
    if value.tzinfo is not None:
        raise ValueError("shift times are local time in Denmark, without an offset")
    return value


# Local wall-clock time. Not JSON Schema's `format: time`, which demands an offset.
LocalTime = Annotated[
    dt.time,
    AfterValidator(_local),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$",
            "examples": ["06:00"],
        }
    ),
]


class Shift(Strict):
    """Working hours of the day as Danish wall-clock time (Europe/Copenhagen), without
    an offset: a shift starts at 08:00 in summer and in winter alike, which no fixed
    offset can say. `end` before `start` means overnight."""

    start: LocalTime
    end: LocalTime


_SPAN = {
    "type": "array",
    "minItems": 2,
    "maxItems": 2,
    "items": {"type": "string", "pattern": _HHMM.pattern},
    "description": '["HH:MM", "HH:MM"], the first before the second',
}
# {"mon": [["06:00", "14:00"]], ...}: days by their three-letter names, at most
# four spans a day.
OpeningHours = Annotated[
    dict[str, list[list[str]]],
    WithJsonSchema(
        {
            "type": "object",
            "properties": {d: {"type": "array", "maxItems": 4, "items": _SPAN} for d in DAYS},
            "additionalProperties": False,
            "examples": [{"sat": [["06:00", "14:00"]]}],
        }
    ),
]


def _check_opening_hours(
    value: dict[str, list[list[str]]] | None,
) -> dict[str, list[list[str]]] | None:
    if value is None:
        return None
    for day, spans in value.items():
        if day not in DAYS:
            raise ValueError(f"opening_hours: unknown day {day!r}; use {', '.join(DAYS)}")
        if len(spans) > 4:
            raise ValueError("opening_hours: at most 4 spans a day")
        for span in spans:
            if len(span) != 2 or not all(_HHMM.match(t) for t in span):
                raise ValueError(f'opening_hours[{day}]: each span is ["HH:MM", "HH:MM"]')
            if span[0] >= span[1]:
                raise ValueError(f"opening_hours[{day}]: {span[0]}-{span[1]} ends before it starts")
    return value


class ApplyContact(Strict):
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)


class Apply(Strict):
    """How to apply; every part optional. Checked by matcher/posting/apply_info.py: `url` must
    be http(s), `email` plausible, phone numbers Danish (8 digits, +45 optional)."""

    url: str | None = Field(default=None, max_length=apply_info.MAX_URL)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    how: str | None = Field(default=None, max_length=apply_info.MAX_HOW)
    walk_in: bool | None = None
    contacts: list[ApplyContact] | None = Field(default=None, max_length=apply_info.MAX_CONTACTS)

    @model_validator(mode="after")
    def _plausible(self) -> Apply:
        apply_info.check(self.model_dump(exclude_none=True))  # BadApply is a ValueError: 422
        return self

    def stored(self) -> dict[str, object] | None:
        """The normalised JSON kept on the vacancy (phones as +45 and 8 digits)."""
        return apply_info.check(self.model_dump(exclude_none=True))


class PayHourly(Strict):
    kind: Literal["hourly"]
    dkk: Number = Field(ge=pay_rules.MIN_DKK, le=pay_rules.MAX_DKK, description="Kroner an hour")


class PayRange(Strict):
    kind: Literal["range"]
    min_dkk: Number = Field(ge=pay_rules.MIN_DKK, le=pay_rules.MAX_DKK)
    max_dkk: Number = Field(ge=pay_rules.MIN_DKK, le=pay_rules.MAX_DKK)

    @model_validator(mode="after")
    def _ordered(self) -> PayRange:
        if self.min_dkk > self.max_dkk:
            raise ValueError("pay.min_dkk must not be above pay.max_dkk")
        return self


class PayAgreement(Strict):
    """Pay by the collective agreement ("efter overenskomst")."""

    kind: Literal["agreement"]


Pay = Annotated[PayHourly | PayRange | PayAgreement, Field(discriminator="kind")]


# --- What the youth rules need (matcher/youth_rules.py, docs/matching.md) -----------
WorkplaceKind = Literal[
    "shop", "office", "service_station", "kiosk", "restaurant", "hotel", "grill_bar",
    "cinema", "theatre", "concert_venue", "bar", "bakery", "farm_stable",
    "newspaper_delivery", "other",
]  # fmt: skip
Hazard = Literal[
    "machines", "chemicals", "heavy_lifting", "heights", "heat_cold", "noise_vibration",
    "radiation", "biological", "violence_risk", "confined_spaces", "animals", "other",
]  # fmt: skip
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
OfferKind = Literal["job", "leisure", "volunteering"]  # matcher.offers.OFFER_KINDS


class ScheduleEntry(Strict):
    """Working hours on the given weekdays (local time); `end` at or before
    `start` runs past midnight."""

    days: list[Day] = Field(min_length=1, max_length=7)
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["16:00"])
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["20:00"])

    @model_validator(mode="after")
    def _span(self) -> ScheduleEntry:
        if self.start == self.end:
            raise ValueError(f"schedule: {self.start}-{self.end} is no time at all")
        unique_list(list(self.days), "schedule days")
        return self


class WorkplaceFields(Strict):
    """The youth rules' questions; every field optional (a PATCH sends a subset)."""

    workplace_kind: WorkplaceKind | None = Field(
        default=None, description="The kind of workplace; the youth rules' hours depend on it"
    )
    schedule: list[ScheduleEntry] | None = Field(
        default=None,
        max_length=7,
        description="Weekly working hours, each weekday at most once; `shift` is shorthand "
        "for the same hours every day",
    )
    alcohol_served: bool | None = Field(
        default=None, description="Alcohol is served where the work is done"
    )
    may_work_alone: bool | None = Field(
        default=None, description="The employee may be alone at the workplace"
    )
    hazards: list[Hazard] | None = Field(
        default=None,
        max_length=12,
        description="Hazardous work on the checklist; `hazardous` is true when any is ticked",
    )

    @field_validator("schedule")
    @classmethod
    def _one_span_a_day(cls, v: list[ScheduleEntry] | None) -> list[ScheduleEntry] | None:
        if v is not None:
            days = [d for e in v for d in e.days]
            if len(days) != len(set(days)):
                raise ValueError("schedule: each day at most once")
        return v

    @field_validator("hazards")
    @classmethod
    def _hazards_unique(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else unique_list(v, "hazards")

    @model_validator(mode="after")
    def _hazard_flag_agrees(self) -> WorkplaceFields:
        flag = getattr(self, "hazardous", None)
        if flag is not None and self.hazards is not None and flag != bool(self.hazards):
            raise ValueError("hazardous must be true exactly when hazards lists something")
        return self


WORKPLACE_NOT_NULL = frozenset({"workplace_kind", "alcohol_served", "may_work_alone", "hazards"})
# --- end of the youth rules' fields ------------------------------------------------


class VacancyFields(WorkplaceFields):
    """Fields shared by create and update; on update every field is optional."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset(
        {
            "title", "description", "location", "required_skills", "optional_skills",
            "required_certificates", "hazardous", "light_work", "min_age", "walk_in",
            "openings", "kind", "volunteering_is_work",
        }
    ) | WORKPLACE_NOT_NULL  # fmt: skip

    kind: OfferKind | None = Field(
        default=None,
        description="job (the default), leisure or volunteering (docs/api.md, Offer kinds)",
    )
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    occupation_uri: SkillUri | None = None
    location: Point | None = None
    address: str | None = Field(default=None, max_length=300)
    required_skills: list[RequiredSkill] | None = Field(default=None, max_length=30)
    optional_skills: list[SkillUri] | None = Field(default=None, max_length=30)
    required_certificates: list[str] | None = Field(default=None, max_length=10)
    work_profile: WorkProfile | None = None
    job_type: JobType | None = Field(
        default=None, description="Required for a job; leisure and volunteering have none"
    )
    hours_per_week: Number | None = Field(
        default=None, gt=0, le=80, description="Required for a job; optional for other kinds"
    )
    max_age: Integer | None = Field(
        default=None, ge=13, le=99, description="The oldest who may join, e.g. 17 for a youth club"
    )
    cost_dkk: Integer | None = Field(
        default=None, ge=0, le=100_000, description="Leisure only: what it costs, 0 = free"
    )
    cost_note: str | None = Field(
        default=None, max_length=100, description='Leisure only: per what, e.g. "per sæson"'
    )
    volunteering_is_work: bool | None = Field(
        default=None,
        description="Volunteering only: the rules on young people's work apply (default "
        "true; false for a club activity the young person may leave at will)",
    )
    shift: Shift | None = None
    hazardous: bool | None = None
    light_work: bool | None = Field(
        default=None, description="Light work that 13-14-year-olds may do"
    )
    min_age: Integer | None = Field(default=None, ge=13, le=99)
    walk_in: bool | None = Field(default=None, description="Walk-ins welcome (stik hovedet ind)")
    opening_hours: OpeningHours | None = None
    start_date: dt.date | None = None
    expires_at: dt.datetime | None = None
    openings: Integer | None = Field(default=None, ge=1, le=1000)
    apply: Apply | None = Field(default=None, description="How to apply; null clears it")
    pay: Pay | None = Field(default=None, description="Hourly pay in DKK; null clears it")

    @field_validator("required_certificates")
    @classmethod
    def _certs(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else check_certificates(v)

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, v: dict[str, list[list[str]]] | None) -> dict[str, list[list[str]]] | None:
        return _check_opening_hours(v)

    @field_validator("optional_skills")
    @classmethod
    def _opt_unique(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else unique_list(v, "optional_skills")

    @field_validator("required_skills")
    @classmethod
    def _req_unique(cls, v: list[RequiredSkill] | None) -> list[RequiredSkill] | None:
        if v is not None:
            unique_list([s.uri for s in v], "required_skills")
        return v

    @field_validator("expires_at")
    @classmethod
    def _expiry(cls, v: dt.datetime | None) -> dt.datetime | None:
        if v is None:
            return None
        if v.tzinfo is None:
            raise ValueError("expires_at needs a time zone, e.g. 2026-12-31T23:59:00+01:00")
        problem = vacancy_rules.expiry_problem(v, dt.datetime.now(dt.UTC))
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("start_date")
    @classmethod
    def _start(cls, v: dt.date | None) -> dt.date | None:
        if v is not None:
            problem = vacancy_rules.start_date_problem(v, today_in_denmark())
            if problem:
                raise ValueError(problem)
        return v


class VacancyCreate(VacancyFields):
    """A new offer. A job (the default kind) needs `job_type` and `hours_per_week`;
    matcher/offers.py checks what each kind needs and answers 422 otherwise."""

    title: str = Field(min_length=1, max_length=200)
    location: Point


class VacancyUpdate(VacancyFields):
    """A PATCH: any subset of the fields; those sent replace the stored ones."""


class WeightedSkillOut(SkillRef):
    weight: float


class OccupationOut(BaseModel):
    uri: str
    label: str


class VacancyPublic(BaseModel):
    """What anyone may see about an open vacancy."""

    id: uuid.UUID
    title: str
    description: str
    employer_name: str
    occupation: OccupationOut | None
    location: Point
    location_precision: str = Field(
        description="given (by the poster), address, street or postcode (centroid)"
    )
    address: str | None
    required_skills: list[WeightedSkillOut]
    optional_skills: list[SkillRef]
    required_certificates: list[str]
    kind: OfferKind
    job_type: JobType | None = Field(description="null for leisure and volunteering offers")
    hours_per_week: float | None = Field(description="null when a non-job offer gives none")
    max_age: int | None
    cost_dkk: int | None
    cost_note: str | None
    volunteering_is_work: bool
    shift: Shift | None
    min_age: int
    walk_in: bool
    opening_hours: OpeningHours | None
    start_date: dt.date | None
    expires_at: dt.datetime | None
    apply: dict[str, object] | None = Field(
        default=None,
        description='How to apply: {"url"?, "email"?, "phone"?, "how"?, "walk_in"?, "contacts"?}',
    )
    pay: dict[str, object] | None = Field(
        default=None,
        description='{"kind": "hourly", "dkk"} | {"kind": "range", "min_dkk", "max_dkk"} | '
        '{"kind": "agreement"} (efter overenskomst); kroner an hour',
    )
    # The youth rules' view (public: a seeker may see why a job is not for them).
    age_limit: int = Field(
        description="The youngest who may take the job: the higher of min_age and the "
        "age the youth rules imply for it (docs/matching.md)"
    )
    workplace_kind: str
    schedule: list[ScheduleEntry] | None
    alcohol_served: bool
    may_work_alone: bool


class VacancyOwner(VacancyPublic):
    """The owning employer's view: adds the private and bookkeeping fields."""

    employer_id: uuid.UUID
    status: VacancyStatus
    source: VacancySource
    work_profile: dict[str, float] | None
    hazardous: bool
    hazards: list[str]
    light_work: bool
    openings: int
    created_at: dt.datetime
    updated_at: dt.datetime
