"""CORS for the public read endpoints only, so a municipality's web map on
another origin can call the nearby search, a vacancy, and the autocompletes.

Origins come from `JOTR_CORS_ORIGINS` (comma-separated; `*` for any; empty, the
default: no CORS at all). Only GET (and its preflight) on the public paths get
the headers; every other path and method is answered as if CORS did not exist,
so a browser on another origin cannot use a bearer secret against the private
API. No credentials are allowed: the public endpoints need none.
"""

from __future__ import annotations

import re

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# The public read endpoints (GET). `/v1/vacancies/{id}` answers its public view
# to anyone without a secret.
PUBLIC_PATHS = re.compile(
    r"^/v1/(vacancies|vacancies/[^/]+|skills|occupations|occupations/skills|places)/?$"
)
# What a map needs to read besides the simple headers.
EXPOSE = ("Retry-After", "Location")


def parse_origins(value: str) -> list[str]:
    return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]


class PublicCORS:
    """Pure ASGI: requests outside the public reads go straight to the app."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=("GET",),
            allow_headers=(),
            allow_credentials=False,
            expose_headers=EXPOSE,
            max_age=3600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _public_read(scope):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _public_read(scope: Scope) -> bool:
    if not PUBLIC_PATHS.match(scope["path"]):
        return False
    method = scope["method"]
    if method == "OPTIONS":
        # A preflight for anything but a read (a POST, a PATCH on the same
        # paths) gets no CORS headers at all, not even a refusal that names us.
        wanted = dict(scope["headers"]).get(b"access-control-request-method", b"")
        return wanted in (b"GET", b"HEAD")
    return method in ("GET", "HEAD")
