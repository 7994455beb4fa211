"""The published contract: what `/openapi.json` says about every operation.

FastAPI documents the success answer and its own `HTTPValidationError`; the
server really answers with more (auth, not found, conflicts, body caps, rate
limits, outages) and every error is `{"error": {code, message, details}}`
(api/errors.py). Here each operation gets the error answers it can give,
decided from what the route is rather than written out per route:

* every operation: 429 and 503 (both with `Retry-After`);
* parameters or a body: 422; a body: 400 (malformed JSON) and 413 (body cap);
* a bearer secret required: 401 and 403 (the wrong kind of user);
  optional (`MaybeEmployer`): 401 for a bad secret, and `security` lists "none";
* a path parameter: 404 (unknown, or not yours: the same answer);
* anything else a route raises (a 404 for an id in the body, a 409) is declared
  on its decorator with `responses=errors(404)`; this fills in the body.

Operation ids are short camelCase names (`createVacancy`, `listMyMatches`) for
generated clients; runtime bounds from settings (`JOTR_MAX_RADIUS_M`) are
written into the parameters' schemas.
"""

from __future__ import annotations

import http
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_params
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from api import deps
from api.errors import error_response
from matcher.settings import Settings

ERROR_SCHEMA = "Error"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}

# The one error body every 4xx/5xx carries (api/errors.py renders it).
ERROR_COMPONENT: dict[str, Any] = {
    "title": ERROR_SCHEMA,
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "additionalProperties": False,
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable machine-readable reason, e.g. `validation_error`, "
                    "`not_found`, `unauthorized`, `conflict`",
                    "examples": ["validation_error"],
                },
                "message": {
                    "type": "string",
                    "description": "What went wrong, for a person to read",
                    "examples": ["radius_m: Input should be greater than 0"],
                },
                "details": {
                    "type": "array",
                    "description": "For validation errors one item per problem "
                    "(`loc`, `msg`, `type`); often empty",
                    "items": {"type": "object", "additionalProperties": True},
                },
            },
        }
    },
}

RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 0},
    }
}
WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": "`Bearer`",
        "required": True,
        "schema": {"type": "string"},
    }
}

DESCRIPTIONS = {
    400: "Malformed JSON body",
    401: "Missing, invalid or revoked bearer secret",
    403: "Authenticated, but as the wrong kind of user for this operation",
    404: "Not found, or not yours (the same answer, so ids cannot be probed)",
    409: "The resource's state does not allow this",
    413: "Request body over the size cap (`JOTR_MAX_BODY_BYTES`)",
    422: "Invalid values: the message says which and why",
    429: "Too many requests: wait `Retry-After` seconds",
    503: "Temporarily unavailable (e.g. the database): wait `Retry-After` seconds",
}
HEADERS = {401: WWW_AUTHENTICATE, 429: RETRY_AFTER, 503: RETRY_AFTER}

# Names FastAPI would derive from the function names read poorly in a client
# (`me`, `sign_up`); the rest are the function name in camelCase.
OPERATION_IDS = {
    "healthz": "getLiveness",
    "readyz": "getReadiness",
    "my_vacancies": "listMyVacancies",
    "vacancy_reach": "getMyVacancyReach",
    "search_nearby": "searchVacancies",
    "sign_up": "createJobseeker",
    "me": "getMe",
    "erase_me": "deleteMe",
    "my_matches": "listMyMatches",
    "my_caseload": "listMyCaseload",
    "seeker_profile": "getJobseeker",
    "seeker_matches": "listJobseekerMatches",
    "review_match": "createReview",
    "occupation_skills": "getOccupationSkills",
    "extract": "extractFromAd",
    "give_feedback": "createFeedback",
    "my_feedback": "listMyFeedback",
    "report_outcome": "createOutcome",
    "my_guidance": "getMyGuidance",
    "my_outcomes": "getMyOutcomes",
    "my_fairness": "getMyFairness",
    "set_eligibility": "setSubsidyEligibility",
    "why_not": "explainWhyNot",
    "vapid_public_key": "getVapidPublicKey",
    "subscribe_webpush": "createWebPushSubscription",
    "unsubscribe_webpush": "deleteWebPushSubscription",
    "my_home_area": "getMyHomeArea",
    "my_employer": "getMyEmployer",
    "report_vacancy": "createVacancyReport",
    "list_employers": "listEmployers",
    "verify_employer": "verifyEmployer",
    "moderation_list": "listModeration",
    "moderate_vacancy": "moderateVacancy",
    "my_integration": "getMyIntegration",
    "my_consultant": "getMyConsultant",
    "my_interest": "listMyInterest",
    "my_interest_counts": "countMyInterest",
    "vacancy_interest": "listMyVacancyInterest",
    "reply_interest": "replyToInterest",
    "seeker_interest": "listJobseekerInterest",
    "privacy_notice": "getPrivacyNotice",
    "my_consents": "getMyConsents",
    "set_location_consent": "setLocationConsent",
    "export_me": "exportMe",
    "list_my_devices": "listMyDevices",
    "sign_out_my_device": "signOutMyDevice",
}

# Query parameters and request-body fields whose upper bound is a setting,
# checked at run time.
RUNTIME_MAXIMA: dict[str, Callable[[Settings], float]] = {
    "radius_m": lambda s: s.max_radius_m,
}
RUNTIME_BODY_MAXIMA: dict[tuple[str, str], Callable[[Settings], float]] = {
    ("Preferences", "radius_m"): lambda s: s.max_radius_m,
}

_REQUIRED_AUTH = {
    deps.current_employer,
    deps.current_seeker,
    deps.current_device,
    deps.current_consultant,
    deps.current_integration,
}
_OPTIONAL_AUTH = {deps.optional_employer}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for the error answers a route gives beyond the generic ones."""
    return {s: {"description": DESCRIPTIONS[s]} for s in statuses}


def operation_id(route: APIRoute) -> str:
    name = OPERATION_IDS.get(route.name, route.name)
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _calls(dependant: Dependant) -> set[Any]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def _auth(dependant: Dependant) -> str:
    calls = _calls(dependant)
    if calls & _REQUIRED_AUTH:
        return "required"
    if calls & _OPTIONAL_AUTH:
        return "optional"
    return "none"


def error_statuses(route: Any) -> set[int]:
    """The error statuses an operation can answer with (see the module docstring)."""
    dependant: Dependant = route.dependant
    has_body = route.body_field is not None
    # Parameters of sub-dependencies count too; the bearer scheme is not one.
    has_params = bool(get_flat_params(dependant)) or has_body
    statuses = {429, 503}
    if has_params:
        statuses.add(422)
    if has_body:
        statuses |= {400, 413}
    auth = _auth(dependant)
    if auth == "required":
        statuses |= {401, 403}
    elif auth == "optional":
        statuses.add(401)
    if dependant.path_params:
        statuses.add(404)
    statuses |= {int(s) for s in route.responses if str(s).isdigit() and int(s) >= 400}
    return statuses


def _error_response(status: int, declared: dict[str, Any] | None) -> dict[str, Any]:
    description = DESCRIPTIONS.get(status) or http.HTTPStatus(status).phrase
    if declared and declared.get("description") and declared["description"] != description:
        description = declared["description"]
    out: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if status in HEADERS:
        out["headers"] = HEADERS[status]
    return out


def build_openapi(app: FastAPI) -> dict[str, Any]:
    settings: Settings = app.state.settings
    doc = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    for context in iter_route_contexts(app.routes):
        route: Any = context
        if not isinstance(context.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods:
            operation = doc["paths"][route.path_format].get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(error_statuses(route)):
                responses[str(status)] = _error_response(status, responses.get(str(status)))
            if _auth(route.dependant) == "optional":
                # Anyone may call it; a bearer secret changes what is answered.
                operation["security"] = [{}, *operation.get("security", [])]
            for param in operation.get("parameters", []):
                maximum = RUNTIME_MAXIMA.get(param["name"])
                if maximum is not None and param["in"] == "query":
                    _set_maximum(param["schema"], maximum(settings))
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for (component, field), maximum in RUNTIME_BODY_MAXIMA.items():
        _set_maximum(schemas[component]["properties"][field], maximum(settings))
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas[ERROR_SCHEMA] = ERROR_COMPONENT
    _check_unique_ids(doc)
    return doc


def _set_maximum(schema: dict[str, Any], value: float) -> None:
    # An optional parameter is `anyOf: [{number}, {null}]`; bound the number.
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") in ("number", "integer"):
            branch["maximum"] = value


def _check_unique_ids(doc: dict[str, Any]) -> None:
    seen: dict[str, str] = {}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            op_id = operation.get("operationId", "")
            if not re.fullmatch(r"[a-z][A-Za-z0-9]*", op_id) or op_id in seen:
                raise RuntimeError(f"bad or repeated operationId {op_id!r} ({method} {path})")
            seen[op_id] = path


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route serves at `path` (Starlette's 405 names only the
    first route that matched the path, e.g. `GET` for `/v1/jobseekers/me`)."""
    methods: set[str] = set()
    for context in iter_route_contexts(app.routes):
        regex = getattr(context, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= set(getattr(context, "methods", None) or ())
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Replace FastAPI's document builder with ours (cached after the first call),
    and answer 405 with an `Allow` header that lists every method of the path."""

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        allow = allowed_methods(app, request.url.path)
        return error_response(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed here; allowed: {', '.join(allow)}",
            headers={"Allow": ", ".join(allow)},
        )

    app.add_exception_handler(405, method_not_allowed)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
