"""Case systems of municipalities: webhook subscriptions, deliveries, the pull feed,
and linking people to consultants (docs/integrations.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import BaseModel, Field

from api.contract import errors
from api.deps import CurrentIntegration, SessionDep
from api.schemas.common import Strict
from matcher.integrations import integration_events, webhooks
from matcher.people import caseload_links

router = APIRouter(tags=["integrations"])

EventType = Literal[
    "jobseeker.linked",
    "jobseeker.unlinked",
    "jobseeker.consent_withdrawn",
    "match.pushed",
    "interest.sent",
    "verdict.recorded",
    "outcome.recorded",
    "vacancy.created",
    "vacancy.closed",
]


class IntegrationOut(BaseModel):
    id: uuid.UUID
    name: str
    municipality: str


@router.get("/v1/integrations/me", response_model=IntegrationOut, summary="Who am I")
async def my_integration(integration: CurrentIntegration) -> IntegrationOut:
    return IntegrationOut(
        id=integration.id, name=integration.name, municipality=integration.municipality
    )


class WebhookCreate(Strict):
    url: str = Field(min_length=8, max_length=2000, description="https:// only")
    types: list[EventType] = Field(
        default_factory=list, max_length=20, description="Event types to send; [] for all"
    )


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    types: list[str]
    created_at: dt.datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="`whsec_<base64>`: shown once; verify signatures with it")


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]


@router.post(
    "/v1/integrations/me/webhooks",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    summary="Subscribe a webhook (Standard Webhooks, CloudEvents bodies)",
)
async def create_webhook(
    request: Request, body: WebhookCreate, integration: CurrentIntegration, session: SessionDep
) -> WebhookCreated:
    url = webhooks.check_url(body.url, request.app.state.settings.webhook_http_allow)
    sub = await webhooks.subscribe(session, integration.id, url, list(body.types))
    return WebhookCreated(
        id=sub.id, url=sub.url, types=sub.types, created_at=sub.created_at, secret=sub.secret
    )


@router.get("/v1/integrations/me/webhooks", response_model=WebhookList, summary="My webhooks")
async def list_webhooks(integration: CurrentIntegration, session: SessionDep) -> WebhookList:
    subs = await webhooks.subscriptions(session, integration.id)
    return WebhookList(
        webhooks=[
            WebhookOut(id=s.id, url=s.url, types=s.types, created_at=s.created_at) for s in subs
        ]
    )


@router.delete(
    "/v1/integrations/me/webhooks/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unsubscribe a webhook (its pending deliveries go with it)",
)
async def delete_webhook(
    subscription_id: uuid.UUID, integration: CurrentIntegration, session: SessionDep
) -> Response:
    await webhooks.unsubscribe(session, integration.id, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event_type: str
    subscription_id: uuid.UUID
    attempts: int
    status: Literal["pending", "delivered", "dead"]
    next_attempt_at: dt.datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: dt.datetime | None
    dead_at: dt.datetime | None


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]


@router.get(
    "/v1/integrations/me/deliveries",
    response_model=DeliveryList,
    summary="Webhook deliveries, newest first (`status=dead`: the dead letters)",
)
async def list_deliveries(
    integration: CurrentIntegration,
    session: SessionDep,
    delivery_status: Annotated[
        Literal["pending", "delivered", "dead"] | None, Query(alias="status")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryList:
    found = await webhooks.deliveries(session, integration.id, delivery_status, limit)
    return DeliveryList(
        deliveries=[DeliveryOut(**{**asdict(d), "event_id": f"evt_{d.event_id}"}) for d in found]
    )


class Replayed(BaseModel):
    deliveries: list[int] = Field(description="The deliveries that will be sent again now")


@router.post(
    "/v1/integrations/me/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Replayed,
    responses=errors(409),
    summary="Send a delivery again (e.g. a dead letter), from its first attempt",
)
async def replay_delivery(
    delivery_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    integration: CurrentIntegration,
    session: SessionDep,
) -> Replayed:
    ids = await webhooks.replay(
        session, integration.id, integration.municipality, delivery_id=delivery_id
    )
    return Replayed(deliveries=ids)


@router.post(
    "/v1/integrations/me/events/{event_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Replayed,
    responses=errors(409),
    summary="Send an event again to every webhook of mine that got it",
)
async def replay_event(
    event_id: Annotated[str, Path(pattern=r"^evt_[1-9][0-9]{0,17}$")],
    integration: CurrentIntegration,
    session: SessionDep,
) -> Replayed:
    ids = await webhooks.replay(
        session, integration.id, integration.municipality, event_id=int(event_id[4:])
    )
    return Replayed(deliveries=ids)


class CloudEvent(BaseModel):
    specversion: Literal["1.0"]
    id: str
    source: str
    type: str
    time: str
    subject: str
    datacontenttype: Literal["application/json"]
    data: dict[str, Any]


class EventPage(BaseModel):
    events: list[CloudEvent]
    next_cursor: str = Field(description="Pass as `after` for the next page (also when empty)")


@router.get(
    "/v1/events",
    response_model=EventPage,
    tags=["integrations"],
    summary="The event feed: events after a cursor, in commit order",
)
async def list_events(
    request: Request,
    integration: CurrentIntegration,
    session: SessionDep,
    after: Annotated[str | None, Query(max_length=40, pattern=r"^(\d{1,19}-\d{1,19})?$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    source = request.app.state.settings.events_source
    found, cursor = await integration_events.feed(session, integration.municipality, after, limit)
    return EventPage(
        events=[
            CloudEvent(
                **integration_events.cloudevent(
                    source, e.id, e.type, e.subject, e.occurred_at, e.data
                )
            )
            for e in found
        ],
        next_cursor=cursor,
    )


class CaseloadLink(Strict):
    consultant_id: uuid.UUID
    jobseeker_id: uuid.UUID


@router.post(
    "/v1/integrations/me/caseload",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(404),
    summary="Put a person on a consultant's caseload (a consultant of my municipality)",
)
async def link_caseload(
    body: CaseloadLink, integration: CurrentIntegration, session: SessionDep
) -> Response:
    await caseload_links.link_by_integration(
        session, integration, body.consultant_id, body.jobseeker_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
