"""A JSON response rendered with orjson, for the routes that build their body
by hand (GeoJSON, idempotent replays, errors); routes with a response model let
FastAPI serialise through Pydantic."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


# A JSONResponse subclass so that FastAPI documents a route's response_model for it.
class JSON(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class GeoJSON(JSON):
    """RFC 7946's media type, so map libraries and clients know what they got."""

    media_type = "application/geo+json"
