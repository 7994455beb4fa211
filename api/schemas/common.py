"""Shared request/response pieces."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from matcher import profile

Lat = Annotated[float, Field(ge=-90.0, le=90.0, description="WGS84 latitude, degrees")]
Lon = Annotated[float, Field(ge=-180.0, le=180.0, description="WGS84 longitude, degrees")]
SkillUri = Annotated[
    str, Field(min_length=1, max_length=255, examples=["http://data.europa.eu/esco/skill/..."])
]


class Strict(BaseModel):
    """Unknown fields are an error, not silently dropped: a typo must not pass."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Point(Strict):
    lat: Lat
    lon: Lon


class WorkProfile(Strict):
    """Twelve values in [0, 1]; omitted dimensions are neutral (0.5). See docs/matching.md."""

    realistic: float | None = Field(default=None, ge=0, le=1)
    investigative: float | None = Field(default=None, ge=0, le=1)
    artistic: float | None = Field(default=None, ge=0, le=1)
    social: float | None = Field(default=None, ge=0, le=1)
    enterprising: float | None = Field(default=None, ge=0, le=1)
    conventional: float | None = Field(default=None, ge=0, le=1)
    teamwork: float | None = Field(default=None, ge=0, le=1)
    customer_contact: float | None = Field(default=None, ge=0, le=1)
    physical_work: float | None = Field(default=None, ge=0, le=1)
    variety: float | None = Field(default=None, ge=0, le=1)
    early_hours: float | None = Field(default=None, ge=0, le=1)
    late_hours: float | None = Field(default=None, ge=0, le=1)

    def as_vector(self) -> list[float]:
        given = {k: v for k, v in self.model_dump().items() if v is not None}
        return profile.from_mapping(given)


def profile_out(values: list[float] | None) -> dict[str, float] | None:
    return profile.to_mapping(values)


class SkillRef(BaseModel):
    uri: str
    label: str


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] = []


class ErrorResponse(BaseModel):
    error: ErrorBody


def unique_list(values: list[str], what: str) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} must not repeat")
    return values
