"""A JSON response rendered with orjson, for the routes that build their body
by hand (GeoJSON, idempotent replays, errors); routes with a response model let
FastAPI serialise through Pydantic."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
