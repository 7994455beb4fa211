"""The JSON bodies of server frames that carry domain data."""

from __future__ import annotations

import dataclasses
from typing import Any

from matcher.matching import geo
from matcher.models import Jobseeker


def vacancy_card(card: geo.NearbyVacancy) -> dict[str, Any]:
    return {
        "id": str(card.id),
        "title": card.title,
        "employer_name": card.employer_name,
        # job | leisure | volunteering: the app shows each with its own icon and words.
        "kind": card.kind,
        "job_type": card.job_type,
        "hours_per_week": card.hours_per_week,
        "walk_in": card.walk_in,
        "opening_hours": card.opening_hours,
        "lat": card.lat,
        "lon": card.lon,
        "address": card.address,
        "min_age": card.min_age,
        "max_age": card.max_age,
        "cost_dkk": card.cost_dkk,
        "cost_note": card.cost_note,
    }


def match_payload(
    card: geo.NearbyVacancy,
    score: float,
    distance_m: float,
    walk_in_now: bool,
    explanation: dict[str, Any],
) -> dict[str, Any]:
    """A `match` delivery, the same by websocket and Web Push (the app reads it
    on its next connect either way). `distance_m` is from where the person is
    (or, for Web Push, their home area); `walk_in_now` is
    push_policy.walk_in_now."""
    return {
        "type": "match",
        "vacancy": vacancy_card(dataclasses.replace(card, distance_m=distance_m)),
        "score": round(score, 4),
        "distance_m": round(distance_m, 1),
        "walk_in_now": walk_in_now,
        "explanation": explanation,
    }


def settings_view(seeker: Jobseeker) -> dict[str, Any]:
    quiet = (
        {"from": seeker.quiet_from.strftime("%H:%M"), "until": seeker.quiet_until.strftime("%H:%M")}
        if seeker.quiet_from and seeker.quiet_until
        else None
    )
    return {
        "radius_m": seeker.radius_m,
        "paused": seeker.push_paused,
        "min_score": seeker.push_min_score,
        "quiet_hours": quiet,
    }
