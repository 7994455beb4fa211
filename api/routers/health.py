"""Liveness, readiness and metrics."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from sqlalchemy import text

from api.errors import error_response
from api.responses import JSON
from push.bus import readiness_problem

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: database reachable, schema migrated, ESCO loaded")
async def readyz(request: Request) -> Response:
    try:
        async with request.app.state.sessionmaker() as session:
            await session.execute(text("SELECT postgis_version()"))
            version = await session.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception as exc:  # any failure means "not ready", with the reason
        return error_response(503, "not_ready", f"database not ready: {type(exc).__name__}")
    if (problem := bus_problem(request)) is not None:
        return error_response(503, "not_ready", problem)
    skills = request.app.state.taxonomy.n_slots
    body = {"status": "ready", "schema": version, "esco_skills_loaded": skills > 1}
    return JSON(body)


def bus_problem(request: Request) -> str | None:
    """The push bus of the worker answering: not ready once its listener has
    been down for longer than the grace period (a reconnect is tolerated;
    catch-up covers it). The reason says which bus and why (docs/operations.md)."""
    bus = request.app.state.bus
    grace = request.app.state.settings.push_bus_grace_s
    return readiness_problem(bus.status(), grace)


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics() -> Response:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
