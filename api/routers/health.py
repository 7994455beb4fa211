"""Liveness, readiness and metrics."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from pydantic import BaseModel, Field

from api import readiness
from api.errors import error_response
from api.responses import JSON

router = APIRouter(tags=["operations"])


class Readiness(BaseModel):
    status: str = Field(description="`ready`")
    checks: dict[str, str] = Field(description="What each check found, by name")
    schema_revision: str = Field(description="The database's migration revision")
    esco_skills_loaded: bool


@router.get("/healthz", summary="Liveness: the process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: database with PostGIS, schema at the migrations' head, ESCO loaded",
    response_model=Readiness,
)
async def readyz(request: Request) -> Response:
    state = request.app.state
    checks = await readiness.run_checks(state)
    failed = [c for c in checks if not c.ok]
    if failed:
        return error_response(
            503,
            "not_ready",
            "; ".join(f"{c.name}: {c.detail}" for c in failed),
            [{"check": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
            headers={"Retry-After": "5"},
        )
    body = Readiness(
        status="ready",
        checks={c.name: c.detail for c in checks},
        schema_revision=next(c.detail for c in checks if c.name == "schema"),
        esco_skills_loaded=True,
    )
    return JSON(body.model_dump())


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics() -> Response:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
