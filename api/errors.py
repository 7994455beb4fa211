"""One place that turns every error into `{"error": {code, message, details}}`.

Validation errors become 422 with the offending fields; malformed JSON 400;
anything unexpected 500 with no internals (and a log line with the trace).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.responses import JSON
from matcher.errors import DomainError

log = logging.getLogger("jotr.api")


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSON:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return JSON(body, status_code=status, headers=headers)


def _clean(errors: list[Any]) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        item = {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        out.append(item)
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSON:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return error_response(exc.status_code, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSON:
        details = _clean(list(exc.errors()))
        if any(d["type"] == "json_invalid" for d in details):
            return error_response(400, "malformed_json", "request body is not valid JSON", details)
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(p for p in first["loc"] if p != "body") or "request"
        return error_response(422, "validation_error", f"{where}: {first['msg']}", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSON:
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        return error_response(
            exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSON:
        log.exception("unhandled error", extra={"route": request.url.path})
        return error_response(500, "internal_error", "internal error; it has been logged")
