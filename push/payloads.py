"""The JSON bodies of server frames that carry domain data."""

from __future__ import annotations

from typing import Any

from matcher import geo
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
