"""Interest ("Jeg er interesseret"): requests and responses (matcher/people/applications.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from api.schemas.common import SkillUri, Strict, unique_list
from matcher.people.applications import MAX_MESSAGE
from matcher.posting import apply_info

Reply = Literal["come_by", "call_me", "no_thanks"]


class ShareChoice(Strict):
    """What to share with the employer. Phone and e-mail are typed here (the profile
    holds neither); at least one of them is needed, so the employer can answer."""

    first_name: bool = Field(default=False, description="The first word of your name")
    age: bool = Field(default=False, description="Your age today")
    phone: str | None = Field(default=None, max_length=40, description="A Danish number")
    email: str | None = Field(default=None, max_length=254)
    skills: list[SkillUri] = Field(
        default_factory=list, max_length=30, description="Some of your own skills (URIs)"
    )

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        try:
            return apply_info.check_phone(v) if v else None
        except apply_info.BadApply as exc:  # the same rule, without the "apply." prefix
            raise ValueError(str(exc).removeprefix("apply.")) from None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        try:
            return apply_info.check_email(v) if v else None
        except apply_info.BadApply as exc:
            raise ValueError(str(exc).removeprefix("apply.")) from None

    @field_validator("skills")
    @classmethod
    def _skills(cls, v: list[str]) -> list[str]:
        return unique_list(v, "skills")


class InterestCreate(Strict):
    share: ShareChoice
    message: str | None = Field(default=None, max_length=MAX_MESSAGE)


class ReplyCreate(Strict):
    reply: Reply = Field(description="come_by: kom forbi; call_me: ring til mig; no_thanks")
    message: str | None = Field(default=None, max_length=MAX_MESSAGE)


class SharedOut(BaseModel):
    first_name: str | None = None
    age: int | None = None
    phone: str | None = None
    email: str | None = None
    skills: list[dict[str, str]] = Field(default_factory=list, description="{uri, label}")


class InterestOut(BaseModel):
    id: uuid.UUID
    vacancy_id: uuid.UUID
    shared: SharedOut
    message: str
    reply: Reply | None
    reply_message: str | None
    created_at: dt.datetime
    replied_at: dt.datetime | None


class MyInterestOut(InterestOut):
    title: str
    employer_name: str


class InterestList(BaseModel):
    items: list[InterestOut]


class MyInterestList(BaseModel):
    items: list[MyInterestOut]


class InterestCount(BaseModel):
    vacancy_id: uuid.UUID
    total: int
    unanswered: int = Field(description="Not answered yet: what the employer page shows as new")


class InterestCounts(BaseModel):
    vacancies: list[InterestCount]
