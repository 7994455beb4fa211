"""Durable messages to one person besides matches: an employer's answer to their
interest (`interest_reply`).

The answer is a `push_deliveries` row in the person's own seq stream, written in
the replying transaction, so it is acked per device and replayed on resume exactly
like a match (push/delivery.py). After commit the caller rings the workers with the
same doorbell as deliveries (`deliver:…`): each reads the row and sends it to the
person's connections; a missed doorbell is healed by catch-up (push/hub.py).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import asyncpg

from push import delivery
from push.hub import PushHub

INTEREST_REPLY = "interest_reply"
# Doorbells from a REST request; any id that is no worker's own, and no ':'.
ORIGIN = "rest"

log = logging.getLogger("jotr.push")


def interest_reply_payload(
    application_id: uuid.UUID,
    vacancy_id: uuid.UUID,
    title: str,
    employer_name: str,
    reply: str,
    message: str | None,
) -> dict[str, Any]:
    return {
        "type": INTEREST_REPLY,
        "interest_id": str(application_id),
        "vacancy": {"id": str(vacancy_id), "title": title, "employer_name": employer_name},
        "reply": reply,
        "message": message,
    }


async def record_interest_reply(
    conn: asyncpg.Connection,
    jobseeker_id: uuid.UUID,
    vacancy_id: uuid.UUID,
    payload: dict[str, Any],
) -> list[delivery.Delivery]:
    """Record the answer in the caller's transaction; [] if one was recorded before."""
    return await delivery.record(conn, jobseeker_id, INTEREST_REPLY, [(vacancy_id, payload, None)])


async def ring(hub: PushHub, jobseeker_id: uuid.UUID, found: list[delivery.Delivery]) -> None:
    """After commit: this worker's connections through its own queue, then the
    other workers over the bus. The stored row is what counts; this only hurries it."""
    if not found:
        return
    doorbell = f"deliver:{ORIGIN}:{jobseeker_id}:{found[0].seq}:{found[-1].seq}"
    hub.ring(doorbell)
    try:
        await hub.bus.publish([doorbell])
    except Exception:  # catch-up reads it from the database within push_catchup_s
        log.warning("ringing workers for an interest reply failed")
