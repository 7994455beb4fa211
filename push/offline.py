"""Alerts while the app is closed: a new or changed vacancy, matched against the
home areas of people with no live websocket, reaches them by Web Push.

The hub calls `OfflineAlerts.on_vacancy` after its own geofence over the
connected phones (push/hub.py `after_vacancy`). One query finds the people
whose home area (matcher/people/home_area.py) lies within their radius of the
vacancy, who have a Web Push subscription, no live connection anywhere
(`push_presence`) and no match of this vacancy yet. They then pass the same
rules as a websocket push, the one policy (matcher/matching/push_policy.py
`may_tell`): the hard eligibility rules and the score (push/rules.py
`score_states`), their wishes, threshold, paused, quiet hours and once per
vacancy, walk-in places only when near and open. A
match is recorded like any other (push/delivery.py: the unique
(seeker, vacancy, kind) row is what "once" means, across workers too: of
several workers handling the same change only the one whose insert wins
sends), so the app shows it on its next connect; after the commit the alert
goes to the sender's queue (push/webpush.py), never sent from here.

The alert itself is small and holds no position:
`{"type": "match", "vacancy_id", "title", "distance_m"}`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from matcher.esco.taxonomy import Taxonomy
from matcher.matching import geo
from matcher.matching import matches as matching
from matcher.matching.push_policy import may_tell, walk_in_now
from matcher.matching.replica import VacancyReplica, open_candidate_for_all
from matcher.models import Jobseeker
from matcher.settings import Settings
from push import candidates, delivery, metrics, subscriptions
from push.hub import PushHub
from push.payloads import match_payload
from push.rules import score_states
from push.session import state_of
from push.webpush import Job, WebPushSender, application_server_key, load_or_create_key

log = logging.getLogger("jotr.webpush")

# People whose home area is within their radius of the vacancy, who can be
# reached by Web Push and are not connected now. The index on the home point
# narrows by the largest radius; each person's own radius is then exact.
AWAY_AND_NEAR_SQL = """
SELECT h.jobseeker_id, ST_Distance(h.point, v.location) AS distance_m
FROM vacancies v
JOIN jobseeker_home_areas h ON ST_DWithin(h.point, v.location, $2)
JOIN jobseekers j ON j.id = h.jobseeker_id
WHERE v.id = $1 AND v.status = 'open'
  AND NOT j.push_paused
  AND ST_Distance(h.point, v.location) <= LEAST(j.radius_m, $2)
  AND EXISTS (SELECT 1 FROM webpush_subscriptions w WHERE w.jobseeker_id = j.id)
  AND NOT EXISTS (SELECT 1 FROM push_presence p WHERE p.jobseeker_id = j.id
                  AND p.refreshed_at > now() - make_interval(secs => $3))
  AND NOT EXISTS (SELECT 1 FROM push_deliveries d WHERE d.jobseeker_id = j.id
                  AND d.vacancy_id = $1 AND d.kind = 'match')
"""


def alert(vacancy_id: uuid.UUID, title: str, distance_m: float) -> dict[str, Any]:
    """What the service worker is told (api/static/sw.js): no position."""
    return {
        "type": "match",
        "vacancy_id": str(vacancy_id),
        "title": title,
        "distance_m": round(distance_m / 100) * 100,  # from the home area, coarse anyway
    }


class OfflineAlerts:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        taxonomy: Taxonomy,
        settings: Settings,
        sender: WebPushSender,
        stale_s: float,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.taxonomy = taxonomy
        self.settings = settings
        self.sender = sender
        self.stale_s = stale_s  # a presence row older than this is a dead worker's
        # The worker's replica of open vacancies (matcher/matching/replica.py; set by api/app.py).
        self.replica: VacancyReplica | None = None

    async def on_vacancy(self, vacancy_id: uuid.UUID) -> int:
        """The hub's hook; never raises (a failure must not undo the websocket
        pushes of the same change). Returns how many alerts were queued."""
        try:
            return await self._on_vacancy(vacancy_id)
        except Exception:
            log.exception("alerts for people with the app closed failed")
            return 0

    async def _on_vacancy(self, vacancy_id: uuid.UUID) -> int:
        jobs: list[Job] = []
        now = dt.datetime.now(dt.UTC)
        async with self.sessionmaker() as session, session.begin():
            raw = await geo.raw_connection(session)
            rows = await raw.fetch(
                AWAY_AND_NEAR_SQL, vacancy_id, self.settings.max_radius_m, self.stale_s
            )
            if not rows:
                return 0
            found = await open_candidate_for_all(self.replica, raw, vacancy_id)
            if found is None:
                return 0
            batch, vlat, vlon, required_certificates = found
            distance = {r["jobseeker_id"]: float(r["distance_m"]) for r in rows}
            seekers = list(
                (await session.scalars(select(Jobseeker).where(Jobseeker.id.in_(distance)))).all()
            )
            if not seekers:
                return 0
            states = [state_of(s, self.taxonomy, self.settings.max_radius_m) for s in seekers]
            dists = np.array([distance[s.id] for s in seekers], dtype=np.float64)
            scores, eligible = score_states(states, batch, dists, required_certificates)
            pushable = matching.pushable(scores)
            cards = await geo.vacancy_cards(session, [vacancy_id], vlat, vlon, open_only=True)
            card = cards.get(vacancy_id)
            if card is None:
                return 0
            for k, (seeker, state) in enumerate(zip(seekers, states, strict=True)):
                d = float(dists[k])
                total = float(scores.total[k])
                if may_tell(
                    eligible=bool(eligible[k]), pushable=bool(pushable[k]), score=total,
                    wishes=state.wishes, told=False, now=now, walk_in=card.walk_in,
                    distance_m=d, walk_in_m=self.settings.push_walk_in_m,
                    opening_hours=card.opening_hours,
                ) is not None:  # fmt: skip
                    continue  # outside their wishes or hours, weak, or a closed door
                pick = candidates.Pick(
                    candidates.Candidate(
                        vacancy_id=vacancy_id, lat=vlat, lon=vlon, static=total,
                        walk_in=card.walk_in, batch=batch,
                        scores=scores.take(np.array([k])), row=0,
                    ),
                    total,
                    d,
                )  # fmt: skip
                now_walk_in = walk_in_now(
                    card.walk_in, d, card.opening_hours, now, self.settings.push_walk_in_m
                )
                explanation = pick.explanation(self.taxonomy, state.ctx)
                payload = match_payload(card, total, d, now_walk_in, explanation)
                new = await delivery.record(
                    raw, seeker.id, delivery.MATCH, [(vacancy_id, payload, round(total, 4))]
                )
                if not new:  # another worker (or the websocket path) was first
                    continue
                metrics.WEBPUSH_MATCHES.inc()
                for sub in await subscriptions.of_seekers(raw, [seeker.id]):
                    jobs.append(Job(sub, alert(vacancy_id, card.title, d)))
        # Committed: only now may a phone be told.
        queued = sum(self.sender.offer(job) for job in jobs)
        return queued

    async def forget(self, sub: subscriptions.Subscription) -> None:
        """The push service said this subscription is gone (404/410)."""
        async with self.sessionmaker() as session, session.begin():
            await subscriptions.gone(await geo.raw_connection(session), sub.id, sub.endpoint)


async def start(hub: PushHub) -> tuple[OfflineAlerts, str]:
    """Load (or make) the VAPID key, start the sender and hook the alerts into
    the hub. Returns them and the public key (`applicationServerKey`)."""
    key = await asyncio.to_thread(load_or_create_key, hub.settings)
    holder: list[OfflineAlerts] = []

    async def on_gone(sub: subscriptions.Subscription) -> None:
        await holder[0].forget(sub)

    sender = WebPushSender(key, hub.settings, on_gone)
    alerts = OfflineAlerts(hub.sessionmaker, hub.taxonomy, hub.settings, sender, hub.stale_s)
    holder.append(alerts)
    sender.start()
    hub.after_vacancy = alerts.on_vacancy
    return alerts, application_server_key(key)
