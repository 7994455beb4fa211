"""The public nearby search's GeoJSON (RFC 7946): a FeatureCollection of Points.

Documentation models: the route builds the body by hand (orjson, no Pydantic on
the hot path); tests check that what it sends validates against these."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field

from matcher.models import JobType


class PointGeometry(BaseModel):
    type: Literal["Point"]
    coordinates: list[float] = Field(
        min_length=2, max_length=2, description="[lon, lat], WGS84 degrees (RFC 7946 order)"
    )


class VacancyProperties(BaseModel):
    title: str
    employer_name: str
    occupation: str | None = Field(description="The ESCO occupation's label, if any")
    kind: Literal["job", "leisure", "volunteering"] = Field(description="The offer's kind")
    job_type: JobType | None = Field(description="null for leisure and volunteering offers")
    hours_per_week: float | None
    walk_in: bool
    opening_hours: dict[str, list[list[str]]] | None
    min_age: int
    start_date: dt.date | None
    expires_at: dt.datetime | None
    address: str | None
    pay: dict[str, object] | None = Field(
        default=None, description="Hourly pay in DKK, as on the vacancy (`pay`)"
    )
    location_precision: str = Field(description="given, address, street or postcode")
    distance_m: float = Field(ge=0, description="Metres from the searched point")
    max_age: int | None = Field(description="The oldest who may join, if the offer says")
    cost_dkk: int | None = Field(description="Leisure: what it costs (0 = free)")
    cost_note: str | None
    org_kind: str = Field(description="business, association, volunteer_centre or club")


class VacancyFeature(BaseModel):
    type: Literal["Feature"]
    id: uuid.UUID = Field(description="The vacancy's id (GET /v1/vacancies/{id})")
    geometry: PointGeometry
    properties: VacancyProperties


class VacancyFeatureCollection(BaseModel):
    """Open vacancies, nearest first."""

    type: Literal["FeatureCollection"]
    features: list[VacancyFeature]
