"""Request and response of `POST /v1/extract` (skills and occupation from ad text)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from api.schemas.common import NOT_BLANK, Integer, Strict, has_text

MAX_TEXT = 20_000


class ExtractRequest(Strict):
    # What `_something_to_read` enforces, said in the schema (after trimming).
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["title"], "properties": {"title": {"pattern": NOT_BLANK}}},
                {"required": ["text"], "properties": {"text": {"pattern": NOT_BLANK}}},
            ]
        }
    )

    title: str = Field(default="", max_length=300, examples=["Barista"])
    text: str = Field(
        default="",
        max_length=MAX_TEXT,
        description="The ad's description, plain text; lines and sentences are read one by one.",
        examples=["You will prepare espresso and serve customers at the till."],
    )

    @field_validator("title", "text", mode="before")
    @classmethod
    def _raw_length(cls, value: object, info: ValidationInfo) -> object:
        # The schema's maxLength counts the string as sent; whitespace trimming
        # must not let a longer one through (schemathesis: ST201).
        limit = MAX_TEXT if info.field_name == "text" else 300
        if isinstance(value, str) and len(value) > limit:
            raise ValueError(f"at most {limit} characters")
        return value

    lang: Literal["da", "en"] = Field(default="da", description="Language of title and text.")
    top_occupations: Integer = Field(default=5, ge=1, le=20)
    top_skills: Integer = Field(default=10, ge=0, le=50)

    @model_validator(mode="after")
    def _something_to_read(self) -> ExtractRequest:
        if not (has_text(self.title) or has_text(self.text)):
            raise ValueError("title and text are both empty: send at least one of them")
        return self


class SuggestionOut(BaseModel):
    uri: str
    label: str = Field(description="In the request's language where ESCO has it, else English.")
    confidence: float = Field(
        ge=0,
        le=1,
        description="About the share of such suggestions "
        "that were right on our benchmarks (docs/quality.md).",
    )


class ExtractResponse(BaseModel):
    occupations: list[SuggestionOut] = Field(description="Best first.")
    skills: list[SuggestionOut] = Field(description="Best first.")
