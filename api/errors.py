"""One place that turns every error into `{"error": {code, message, details}}`.

Validation errors become 422 with the offending fields; malformed JSON 400; the
database out of reach 503 with `Retry-After`; anything else unexpected 500 with
no internals (and a log line with the trace).
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import orjson
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.responses import JSON
from matcher.errors import DomainError

log = logging.getLogger("jotr.api")

# asyncpg's own words for "the server is gone or not there yet" (SQLSTATE class 08,
# 57P01-57P03 shutdown/starting up, 53300 too many connections).
_DB_GONE: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable, timed out (TimeoutError is an OSError)
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    sqlalchemy.exc.TimeoutError,  # the pool had no connection to give in time
)


def database_unavailable(exc: BaseException) -> bool:
    """Whether an error means the database is out of reach (a 503), not a bug (a 500).

    Looks through SQLAlchemy's wrapping (`.orig`) and the exception chain, since
    an outage surfaces as asyncpg's error, SQLAlchemy's wrapper of it, or an
    OSError from connect, depending on where the request was when it hit.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, _DB_GONE):
            return True
        if isinstance(e, sqlalchemy.exc.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(e, asyncpg.exceptions.InterfaceError) and "closed" in str(e):
            return True
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return False


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

    retry_after_s = app.state.settings.retry_after_s
    app.add_middleware(UnhandledErrors, retry_after_s=retry_after_s)


def install_test_faults(app: FastAPI) -> None:
    """Test only (JOTR_TEST_FAULTS=1, never in production): a route that fails
    like a bug would, so tests can see how an unhandled error is answered."""

    @app.get("/_test/fault", include_in_schema=False)
    async def _fault() -> None:
        raise RuntimeError("a deliberate fault for tests")


class UnhandledErrors:
    """Renders what no handler took: 503 for a database outage, else 500.

    Pure ASGI, and it does not re-raise. Starlette's ServerErrorMiddleware (where an
    `exception_handler(Exception)` would run) sends its response and then raises
    again, so that the server sees the error; uvicorn then closes the keep-alive
    connection and the client's next request on it fails. Here the response
    completes and the connection stays usable. Only an error after the response
    has started is passed on: then closing the connection is the only honest end.
    """

    def __init__(self, app: ASGIApp, retry_after_s: int) -> None:
        self.app = app
        self.retry_after = str(retry_after_s).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except StarletteHTTPException:
            raise  # e.g. the body cap's 413, answered by the observability middleware
        except Exception as exc:
            if started:
                raise
            route = getattr(scope.get("route"), "path", "<unmatched>")
            if database_unavailable(exc):
                # Expected during an outage: one line, no trace per request.
                log.warning(
                    "database unavailable", extra={"route": route, "error": type(exc).__name__}
                )
                await _send_error(
                    send, 503, "unavailable",
                    "the database is out of reach; try again shortly",
                    [(b"retry-after", self.retry_after)],
                )  # fmt: skip
                return
            log.exception("unhandled error", extra={"route": route})
            await _send_error(send, 500, "internal_error", "internal error; it has been logged")


async def _send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = orjson.dumps({"error": {"code": code, "message": message, "details": []}})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
