"""Alerts while the app is closed: the VAPID key, Web Push subscriptions and the
home area (docs/push-protocol.md "Web Push", docs/privacy.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api.contract import errors
from api.deps import CurrentSeeker, SessionDep
from api.schemas.webpush import (
    HomeAreaIn,
    HomeAreaOut,
    SubscriptionIn,
    UnsubscribeIn,
    VapidKeyOut,
    check_endpoint,
)
from matcher.errors import Invalid, NotFound
from matcher.matching import geo
from matcher.people import caseload, home_area
from push import subscriptions

router = APIRouter(tags=["push"])


@router.get("/v1/push/vapid-public-key", response_model=VapidKeyOut)
async def vapid_public_key(request: Request) -> VapidKeyOut:
    return VapidKeyOut(application_server_key=request.app.state.vapid_public_key)


@router.post(
    "/v1/jobseekers/me/webpush",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Send alerts to this browser while the app is closed",
)
async def subscribe_webpush(
    request: Request, body: SubscriptionIn, seeker: CurrentSeeker, session: SessionDep
) -> Response:
    why = check_endpoint(body.endpoint, request.app.state.settings.webpush_allow_loopback_http)
    if why is not None:
        raise Invalid(why)
    raw = await geo.raw_connection(session)
    await subscriptions.add(raw, seeker.id, body.endpoint, body.keys.p256dh, body.keys.auth)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/v1/jobseekers/me/webpush",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop alerts to a browser (no body: to all of mine)",
)
async def unsubscribe_webpush(
    seeker: CurrentSeeker, session: SessionDep, body: UnsubscribeIn | None = None
) -> Response:
    raw = await geo.raw_connection(session)
    await subscriptions.remove(raw, seeker.id, body.endpoint if body else None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _out(area: home_area.HomeArea) -> HomeAreaOut:
    return HomeAreaOut(
        lat=area.lat,
        lon=area.lon,
        source=area.source,
        postcode=area.postcode,
        grid_m=home_area.GRID_M if area.source == "position" else None,
        consent_by=area.consent_by,
        consented_at=area.consented_at,
    )


@router.get("/v1/jobseekers/me/home-area", response_model=HomeAreaOut, responses=errors(404))
async def my_home_area(seeker: CurrentSeeker, session: SessionDep) -> HomeAreaOut:
    area = await home_area.get(session, seeker.id)
    if area is None:
        raise NotFound("no home area set")
    return _out(area)


@router.put(
    "/v1/jobseekers/me/home-area",
    response_model=HomeAreaOut,
    summary="Set my home area, by consent (a postcode, or a position rounded to 500 m)",
)
async def set_my_home_area(
    body: HomeAreaIn, seeker: CurrentSeeker, session: SessionDep
) -> HomeAreaOut:
    if body.postcode is not None:
        point = home_area.postcode_point(body.postcode)
        if point is None:
            raise Invalid("unknown postcode")
        area = await home_area.put(session, seeker.id, *point, "postcode", body.postcode)
    else:
        assert body.lat is not None and body.lon is not None
        lat, lon = home_area.snap(body.lat, body.lon)
        area = await home_area.put(session, seeker.id, lat, lon, "position", None)
    await caseload.audit(session, "jobseeker", seeker.id, "home_area.set", seeker.id)
    return _out(area)


@router.delete(
    "/v1/jobseekers/me/home-area",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove my home area (withdraws the consent)",
)
async def delete_my_home_area(seeker: CurrentSeeker, session: SessionDep) -> Response:
    if await home_area.delete(session, seeker.id):
        await caseload.audit(session, "jobseeker", seeker.id, "home_area.delete", seeker.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
