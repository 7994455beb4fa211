"""Health, readiness, metrics and the published contract."""

from __future__ import annotations

import httpx


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["status"] == "ready" and r.json()["esco_skills_loaded"] is True


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/v1/vacancies", params={"lat": 56.1535, "lon": 10.2039, "radius_m": 500})
    text = (await client.get("/metrics")).text
    assert 'jotr_http_requests_total{method="GET",route="/v1/vacancies",status="200"}' in text
    assert "jotr_match_seconds" in text
    assert "56.1535" not in text


async def test_openapi_and_docs(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in [
        "/v1/employers",
        "/v1/vacancies",
        "/v1/vacancies/{vacancy_id}",
        "/v1/jobseekers",
        "/v1/jobseekers/me",
        "/v1/jobseekers/me/matches",
        "/v1/consultants/me/caseload",
        "/v1/jobseekers/{jobseeker_id}/matches",
        "/v1/reviews",
    ]:
        assert path in paths, path
    assert "ESCO classification of the European Commission" in spec["info"]["description"]
    r = await client.get("/docs")
    assert r.status_code == 200 and "swagger" in r.text.lower()
