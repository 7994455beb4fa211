"""Domain errors. Each carries the HTTP status it means; api/errors.py renders
them all in one place, so services never build HTTP responses themselves."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Invalid(DomainError):
    """Well-formed input that the domain rejects (unknown skill URI, bad range)."""

    status_code = 422
    code = "invalid"
