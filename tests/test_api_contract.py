"""The published contract says what the server does: error statuses and their one
body, nullability, bounds, the GeoJSON media type, optional auth, operation ids,
CORS on the public reads, and `Location` on idempotent replays."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema_rs
import pytest

from api.schemas.common import Strict
from api.schemas.jobseekers import Preferences, SeekerFields
from api.schemas.vacancies import VacancyFields
from tests.builders import (
    auth,
    new_employer,
    new_seeker,
    new_vacancy,
    next_spot,
    signup_consent,
    vacancy_body,
    verify_employer,
)
from tests.conftest import ServerProcess

OPERATIONS = {
    "getLiveness", "getReadiness", "createEmployer", "listMyVacancies", "getMyVacancyReach",
    "createVacancy", "searchVacancies", "getVacancy", "updateVacancy", "closeVacancy",
    "createJobseeker", "getMe", "deleteMe", "updateMe", "listMyMatches", "listMyCaseload",
    "getJobseeker", "listJobseekerMatches", "createReview", "suggestSkills",
    "suggestOccupations", "getOccupationSkills", "extractFromAd", "createFeedback",
    "listMyFeedback", "createOutcome", "getMyGuidance", "getMyOutcomes", "getMyFairness",
    "suggestPlaces", "rotateMyToken", "rotateMyKey", "reissueSeekerToken",
    "setSubsidyEligibility", "explainWhyNot", "getVapidPublicKey", "createWebPushSubscription",
    "deleteWebPushSubscription", "getMyHomeArea", "setMyHomeArea", "deleteMyHomeArea",
    "getMyEmployer", "createVacancyReport",
    "listEmployers", "verifyEmployer", "listModeration", "moderateVacancy",
    # integrations and caseload links (docs/integrations.md)
    "getMyIntegration", "createWebhook", "listWebhooks", "deleteWebhook", "listDeliveries",
    "replayDelivery", "replayEvent", "listEvents", "linkCaseload", "createInvite",
    "unlinkJobseeker", "getMyConsultant", "linkConsultant", "unlinkConsultant",
    "sendInterest", "listMyInterest",
    "countMyInterest", "listMyVacancyInterest", "replyToInterest", "listJobseekerInterest",
    "getPrivacyNotice", "getMyConsents", "setLocationConsent", "exportMe",
    "passkeyRegistrationOptions", "registerPasskey", "listMyPasskeys", "deleteMyPasskey",
    "passkeyAuthenticationOptions", "authenticateWithPasskey", "setMyMark", "clearMyMark",
    "listMyMarks", "listMySaved",
    "listMyDevices", "signOutMyDevice",
}  # fmt: skip


@pytest.fixture(scope="module")
def spec(server: ServerProcess) -> dict[str, Any]:
    return httpx.get(f"{server.base_url}/openapi.json").json()


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield method.upper(), path, op


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> jsonschema_rs.Draft202012Validator:
    # The document's components as the root, so `#/components/schemas/…` refs resolve.
    root = {**spec, **schema}
    return jsonschema_rs.Draft202012Validator(root)


def test_every_error_status_is_declared_with_the_one_error_body(spec: dict[str, Any]) -> None:
    error_ref = {"$ref": "#/components/schemas/Error"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for method, path, op in _operations(spec):
        where = f"{method} {path}"
        responses = op["responses"]
        errors = {int(s) for s in responses if int(s) >= 400}
        assert {429, 503} <= errors, where
        for status in errors:
            assert responses[str(status)]["content"]["application/json"]["schema"] == error_ref
        assert "Retry-After" in responses["429"]["headers"], where
        if op.get("parameters") or op.get("requestBody"):
            assert 422 in errors, where
        if op.get("requestBody"):
            assert {400, 413} <= errors, where
        if op.get("security") == [{"bearer": []}]:
            assert {401, 403} <= errors, where
        if "{" in path:
            assert 404 in errors, where
    ops = {(m, p): op for m, p, op in _operations(spec)}
    assert "409" in ops["PATCH", "/v1/vacancies/{vacancy_id}"]["responses"]
    assert "409" in ops["GET", "/v1/jobseekers/me/guidance"]["responses"]
    assert "404" in ops["POST", "/v1/reviews"]["responses"]


def test_operation_ids_are_short_and_unique(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in _operations(spec)]
    assert len(ids) == len(set(ids))
    assert set(ids) == OPERATIONS


def test_vacancy_by_id_is_optional_auth_and_search_is_geojson(spec: dict[str, Any]) -> None:
    get_vacancy = spec["paths"]["/v1/vacancies/{vacancy_id}"]["get"]
    assert get_vacancy["security"] == [{}, {"bearer": []}]
    search = spec["paths"]["/v1/vacancies"]["get"]
    content = search["responses"]["200"]["content"]
    assert list(content) == ["application/geo+json"]
    ref = content["application/geo+json"]["schema"]["$ref"].rsplit("/", 1)[1]
    collection = spec["components"]["schemas"][ref]
    assert collection["properties"]["type"]["const"] == "FeatureCollection"
    radius = next(p for p in search["parameters"] if p["name"] == "radius_m")
    assert radius["schema"]["maximum"] == 50_000 and radius["schema"]["exclusiveMinimum"] == 0
    matches = spec["paths"]["/v1/jobseekers/me/matches"]["get"]["parameters"]
    radius = next(p for p in matches if p["name"] == "radius_m")
    assert any(b.get("maximum") == 50_000 for b in radius["schema"]["anyOf"])


def _not_null(model: type[Strict]) -> frozenset[str]:
    return model.NOT_NULL


@pytest.mark.parametrize(
    ("component", "model"),
    [
        ("VacancyUpdate", VacancyFields),
        ("VacancyCreate", VacancyFields),
        ("SeekerUpdate", SeekerFields),
        ("SeekerCreate", SeekerFields),
        ("Preferences", Preferences),
    ],
)
def test_not_null_fields_are_not_nullable_but_optional(
    spec: dict[str, Any], component: str, model: type[Strict]
) -> None:
    schema = spec["components"]["schemas"][component]
    validate = _validator(spec, schema)
    for name in _not_null(model):
        prop = schema["properties"][name]
        branches = prop.get("anyOf", [prop])
        assert all(b.get("type") != "null" for b in branches), (component, name)
        assert prop.get("default", "absent") is not None, (component, name)
        if component.endswith("Update") or component == "Preferences":
            assert name not in schema.get("required", []), (component, name)
            assert not validate.is_valid({name: None}), (component, name)
    # The 21 the review found advertised as nullable, and the youth rules' four; offer
    # kinds (#15) made job_type and hours_per_week nullable (a leisure offer has
    # neither) and added kind, volunteering_is_work and offer_kinds; then interests.
    assert sum(len(m.NOT_NULL) for m in (VacancyFields, SeekerFields, Preferences)) == 27


async def test_the_server_rejects_what_the_document_calls_not_nullable(
    client: httpx.AsyncClient,
) -> None:
    emp = await new_employer(client)
    lat, lon = next_spot()
    v = await new_vacancy(client, emp["api_key"], lat, lon)
    for name in sorted(VacancyFields.NOT_NULL):
        r = await client.patch(
            f"/v1/vacancies/{v['id']}", json={name: None}, headers=auth(emp["api_key"])
        )
        assert r.status_code == 422 and "cannot be null" in r.json()["error"]["message"], name


async def test_geojson_search_answers_its_media_type_and_schema(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    emp = await new_employer(client)
    lat, lon = next_spot()
    await new_vacancy(client, emp["api_key"], lat, lon)
    r = await client.get("/v1/vacancies", params={"lat": lat, "lon": lon, "radius_m": 500})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["features"] and body["features"][0]["geometry"]["type"] == "Point"
    schema = spec["paths"]["/v1/vacancies"]["get"]["responses"]["200"]["content"]
    _validator(spec, schema["application/geo+json"]["schema"]).validate(body)


async def test_errors_match_the_error_schema(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    validate = _validator(spec, {"$ref": "#/components/schemas/Error"})
    answers = [
        await client.post("/v1/vacancies", json={}),  # 401
        await client.get("/v1/vacancies", params={"lat": 100, "lon": 0}),  # 422
        await client.get(f"/v1/vacancies/{uuid.uuid4()}"),  # 404
        await client.post(
            "/v1/employers", content=b"{", headers={"content-type": "application/json"}
        ),  # 400
    ]
    assert [a.status_code for a in answers] == [401, 422, 404, 400]
    for a in answers:
        validate.validate(a.json())
        assert a.json()["error"]["message"]
    assert answers[0].headers["www-authenticate"] == "Bearer"


async def test_an_idempotent_replay_carries_location(client: httpx.AsyncClient) -> None:
    emp = await new_employer(client)
    lat, lon = next_spot()
    headers = {**auth(emp["api_key"]), "Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    body = vacancy_body(lat, lon)
    first = await client.post("/v1/vacancies", json=body, headers=headers)
    again = await client.post("/v1/vacancies", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["location"] == first.headers["location"]
    assert first.headers["location"] == f"/v1/vacancies/{first.json()['id']}"


# --- CORS ---------------------------------------------------------------------------

MAP = "https://kort.example.dk"


@pytest.fixture(scope="module")
def cors_server(database_url: str, esco_loaded: object) -> Iterator[ServerProcess]:
    srv = ServerProcess(database_url, env={"JOTR_CORS_ORIGINS": f"{MAP}, https://other.example"})
    srv.start()
    yield srv
    srv.stop()


def test_public_reads_allow_the_configured_origins(cors_server: ServerProcess) -> None:
    base = cors_server.base_url
    with httpx.Client(base_url=base, timeout=10) as c:
        emp = c.post("/v1/employers", json={"name": "Kort ApS"}).json()
        verify_employer(base, emp["id"])  # its vacancy invites walk-ins
        lat, lon = next_spot()
        v = c.post("/v1/vacancies", json=vacancy_body(lat, lon), headers=auth(emp["api_key"]))
        public = [
            f"/v1/vacancies?lat={lat}&lon={lon}",
            f"/v1/vacancies/{v.json()['id']}",
            "/v1/skills?q=kaffe",
            "/v1/occupations?q=barista",
            "/v1/places?q=viby",
        ]
        for path in public:
            pre = c.options(path, headers={"Origin": MAP, "Access-Control-Request-Method": "GET"})
            assert pre.status_code == 200, (path, pre.text)
            assert pre.headers["access-control-allow-origin"] == MAP
            assert "GET" in pre.headers["access-control-allow-methods"]
            r = c.get(path, headers={"Origin": MAP})
            assert r.status_code == 200, (path, r.text)
            assert r.headers["access-control-allow-origin"] == MAP
            assert "access-control-allow-credentials" not in r.headers
            # An origin not configured gets no permission.
            r = c.get(path, headers={"Origin": "https://evil.example"})
            assert "access-control-allow-origin" not in r.headers
        # Private endpoints and writes: no CORS at all, preflight included.
        seeker = c.post(
            "/v1/jobseekers", json={"birth_date": "2005-05-05", "consent": signup_consent()}
        ).json()
        r = c.get("/v1/jobseekers/me", headers={**auth(seeker["token"]), "Origin": MAP})
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
        for path, method in [("/v1/vacancies", "POST"), ("/v1/jobseekers/me", "GET"),
                             (f"/v1/vacancies/{v.json()['id']}", "PATCH")]:  # fmt: skip
            pre = c.options(path, headers={"Origin": MAP, "Access-Control-Request-Method": method})
            assert "access-control-allow-origin" not in pre.headers, (path, method)


async def test_no_cors_without_the_setting(client: httpx.AsyncClient) -> None:
    r = await client.get("/v1/skills", params={"q": "kaffe"}, headers={"Origin": MAP})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    pre = await client.options(
        "/v1/skills?q=kaffe", headers={"Origin": MAP, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in pre.headers


async def test_seeker_flow_still_answers_its_schema(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    seeker = await new_seeker(client)
    lat, lon = next_spot()
    r = await client.get(
        "/v1/jobseekers/me/matches", params={"lat": lat, "lon": lon}, headers=auth(seeker["token"])
    )
    assert r.status_code == 200
    schema = spec["paths"]["/v1/jobseekers/me/matches"]["get"]["responses"]["200"]["content"]
    _validator(spec, schema["application/json"]["schema"]).validate(r.json())


async def test_preferred_radius_is_bounded_like_the_search(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    prefs = spec["components"]["schemas"]["Preferences"]["properties"]["radius_m"]
    assert prefs["maximum"] == 50_000
    r = await client.post(
        "/v1/jobseekers", json={"birth_date": "2005-05-05", "preferences": {"radius_m": 60_000}}
    )
    assert r.status_code == 422 and "radius_m" in r.json()["error"]["message"]
    seeker = await new_seeker(client, preferences={"radius_m": 50_000})
    r = await client.patch(
        "/v1/jobseekers/me",
        json={"preferences": {"radius_m": 50_001}},
        headers=auth(seeker["token"]),
    )
    assert r.status_code == 422
