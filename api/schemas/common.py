"""Shared request/response pieces."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import types
import typing
from typing import Annotated, Any, ClassVar, get_args, get_origin

from fastapi import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from matcher import profile
from matcher.certificates import CERTIFICATES


def _to_centimetres(x: float) -> float:
    """Round to 7 decimals (about 1 cm). No phone is more precise, and it keeps
    denormal inputs like 1e-300 away from PostGIS, whose geography KNN index
    fails on them ("index returned tuples in wrong order")."""
    return round(x, 7)


def _to_centimetres_or_none(x: float | None) -> float | None:
    return None if x is None else _to_centimetres(x)


# Numbers in JSON bodies: finite only (Python's JSON reader accepts NaN and
# Infinity), and a JSON boolean is never read as 1 or 0, nor a string as a number.
# Every numeric field of every request body is one of these two.
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
# JSON has one number type: 15.0 is the integer 15, as JSON Schema's `integer` (what
# the document says) has it, so `Strict` turns integral floats into ints first;
# 15.5, "15" and true stay errors.
Integer = Annotated[int, Field(strict=True)]

_ROUND = AfterValidator(_to_centimetres)
Lat = Annotated[Number, Field(ge=-90.0, le=90.0, description="WGS84 latitude, degrees"), _ROUND]
Lon = Annotated[Number, Field(ge=-180.0, le=180.0, description="WGS84 longitude, degrees"), _ROUND]
# Query parameters arrive as text, so they cannot be strict; finite still.
LatQuery = Annotated[
    float, Query(ge=-90, le=90, allow_inf_nan=False, description="WGS84 latitude"), _ROUND
]
LonQuery = Annotated[
    float, Query(ge=-180, le=180, allow_inf_nan=False, description="WGS84 longitude"), _ROUND
]
OptionalLatQuery = Annotated[
    float | None,
    Query(ge=-90, le=90, allow_inf_nan=False, description="WGS84 latitude"),
    AfterValidator(_to_centimetres_or_none),
]
OptionalLonQuery = Annotated[
    float | None,
    Query(ge=-180, le=180, allow_inf_nan=False, description="WGS84 longitude"),
    AfterValidator(_to_centimetres_or_none),
]
SkillUri = Annotated[
    str, Field(min_length=1, max_length=255, examples=["http://data.europa.eu/esco/skill/..."])
]
OccupationUri = Annotated[
    str,
    Field(min_length=1, max_length=255, examples=["http://data.europa.eu/esco/occupation/..."]),
]


# One character that is not a space in any regex engine the pattern meets: Python's
# `\s` also covers \x1c-\x1f and \x85, JavaScript's (JSON Schema's) covers \ufeff,
# Rust's (pydantic's) \x85; naming them all makes the schema and the server agree.
NOT_BLANK = r"[^\s\x1c-\x1f\x85\ufeff]"


def has_text(value: str) -> bool:
    """Whether `value` has a character matching NOT_BLANK (what the schema says)."""
    return re.search(NOT_BLANK, value) is not None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _not_null_in_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Say in the JSON schema what `_check_raw` enforces: a NOT_NULL field may be
    left out but is never null (no `{"type": "null"}` branch, no null default)."""
    not_null: frozenset[str] = getattr(model, "NOT_NULL", frozenset())
    for name, prop in schema.get("properties", {}).items():
        if name not in not_null:
            continue
        branches = [b for b in prop.get("anyOf", []) if b.get("type") != "null"]
        if "anyOf" in prop and len(branches) == 1:
            del prop["anyOf"]
            prop.update(branches[0])
        elif "anyOf" in prop:
            prop["anyOf"] = branches
        if prop.get("default", 0) is None:
            del prop["default"]


_UNIONS = (typing.Union, types.UnionType)
# JSON types as the document states them (numbers: `Number`, `Integer` above);
# dates and times travel as strings.
_KINDS: dict[type, str] = {
    bool: "true or false", int: "an integer",
    dt.date: "a date string", dt.datetime: "a date-time string", dt.time: "a time string",
}  # fmt: skip


def _unwrap(annotation: Any) -> Any:
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


@functools.cache
def _scalar_fields(model: type[BaseModel]) -> dict[str, type]:
    """Fields whose JSON type is a boolean or a date/time string."""
    out = {}
    for name, info in model.model_fields.items():
        args = get_args(info.annotation) if get_origin(info.annotation) in _UNIONS else ()
        kinds = [_unwrap(a) for a in args or (info.annotation,) if a is not type(None)]
        if len(kinds) == 1 and kinds[0] in _KINDS:
            out[name] = kinds[0]
    return out


def _json_type_ok(kind: type, value: Any) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return True  # `Integer` is strict; integral floats were made ints before
    return isinstance(value, str | kind)


def _integral_ints(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    fix = {
        name: int(value)
        for name, kind in _scalar_fields(model).items()
        if kind is int
        and isinstance(value := data.get(name), float)
        and math.isfinite(value)
        and value.is_integer()
    }
    return {**data, **fix} if fix else data


def _wrong_json_types(model: type[BaseModel], data: dict[str, Any]) -> str | None:
    """Pydantic's lax mode would take 0 for false and a Unix time for a date; the
    document says boolean and string, so the server does too. (Its strict mode
    would refuse dates as strings, as JSON carries them.)"""
    for name, kind in _scalar_fields(model).items():
        value = data.get(name)
        if value is not None and not _json_type_ok(kind, value):
            return f"{name} must be {_KINDS[kind]}, not {type(value).__name__} {value!r:.40}"
    return None


class Strict(BaseModel):
    """Unknown fields are an error, not silently dropped: a typo must not pass.

    Fields in `NOT_NULL` are optional to send (PATCH) but may not be sent as
    null: their columns always hold a value ("send [] to clear a list").
    """

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_not_null_in_schema
    )
    NOT_NULL: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _check_raw(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = sorted(k for k in cls.NOT_NULL if k in data and data[k] is None)
            if nulls:
                raise ValueError(f"{', '.join(nulls)} cannot be null")
            # PostgreSQL text cannot hold NUL; say so instead of failing at the database.
            if _has_nul(data):
                raise ValueError("text must not contain NUL (\\u0000) characters")
            wrong = _wrong_json_types(cls, data)
            if wrong:
                raise ValueError(wrong)
            data = _integral_ints(cls, data)
        return data


class Point(Strict):
    lat: Lat
    lon: Lon


class WorkProfile(Strict):
    """Twelve values in [0, 1]; omitted dimensions are neutral (0.5). See docs/matching.md."""

    realistic: Number | None = Field(default=None, ge=0, le=1)
    investigative: Number | None = Field(default=None, ge=0, le=1)
    artistic: Number | None = Field(default=None, ge=0, le=1)
    social: Number | None = Field(default=None, ge=0, le=1)
    enterprising: Number | None = Field(default=None, ge=0, le=1)
    conventional: Number | None = Field(default=None, ge=0, le=1)
    teamwork: Number | None = Field(default=None, ge=0, le=1)
    customer_contact: Number | None = Field(default=None, ge=0, le=1)
    physical_work: Number | None = Field(default=None, ge=0, le=1)
    variety: Number | None = Field(default=None, ge=0, le=1)
    early_hours: Number | None = Field(default=None, ge=0, le=1)
    late_hours: Number | None = Field(default=None, ge=0, le=1)

    def as_vector(self) -> list[float]:
        given = {k: v for k, v in self.model_dump().items() if v is not None}
        return profile.from_mapping(given)


def profile_out(values: list[float] | None) -> dict[str, float] | None:
    return profile.to_mapping(values)


def check_certificates(codes: list[str]) -> list[str]:
    unknown = [c for c in codes if c not in CERTIFICATES]
    if unknown:
        raise ValueError(
            f"unknown certificates: {', '.join(unknown)}; known: {', '.join(CERTIFICATES)}"
        )
    return unique_list(codes, "certificates")


class SkillRef(BaseModel):
    uri: str
    label: str


class OccupationRef(BaseModel):
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
