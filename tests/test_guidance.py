"""Competence guidance: which single skill opens the most jobs nearby.

A constructed scenario through the API (exact unlock counts, order, examples,
courses, access and errors), and the vectorised counterfactual against the
plain way on a larger synthetic batch: re-scoring with each skill added.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.competence.courses import CourseRow, load_rows
from matcher.competence.guidance import skill_unlocks
from matcher.esco.taxonomy import Taxonomy
from matcher.matching import matches as matching
from matcher.matching.geo import batch_from_rows
from matcher.matching.scoring import score_batch
from tests.builders import (
    auth,
    birth_date_for_age,
    new_employer,
    new_seeker,
    new_vacancy,
    next_spot,
    occupation,
)
from tests.conftest import _libpq
from tests.test_api_vacancies import offset

SKILL = "http://data.europa.eu/esco/skill/"
FORKLIFT = SKILL + "28cb374e-6261-4133-8371-f9a5470145da"  # operate forklift
FIRST_AID = SKILL + "1d21f6ad-340f-45da-a0a3-4e83867f47a6"  # provide first aid


@pytest.fixture
async def esco(esco_loaded: object, session: AsyncSession) -> Taxonomy:
    return await Taxonomy.load(session)


def _no_credit_between(tax: Taxonomy, uris: list[str]) -> bool:
    ids = tax.resolve_skills(uris)
    for a in ids:
        credit = tax.credit_vector([a])
        if any(credit[b] > 0 for b in ids if b != a):
            return False
    return True


async def test_guidance_counts_what_one_skill_unlocks(
    client: httpx.AsyncClient, database_url: str, esco: Taxonomy
) -> None:
    held = occupation("barista")["essential"][:3]
    software = occupation("software developer")["essential"][:4]
    # The scenario needs skills that earn no credit from one another.
    assert _no_credit_between(esco, [*held, FORKLIFT, FIRST_AID, *software])

    lat, lon = next_spot()
    emp = await new_employer(client)
    key = emp["api_key"]

    async def place(title: str, required: list[str], metres: float, **kw: Any) -> str:
        v = await new_vacancy(
            client, key, *offset(lat, lon, metres, 90), title=title,
            required_skills=[{"uri": u} for u in required], optional_skills=[],
            occupation_uri=None, **kw,
        )  # fmt: skip
        return str(v["id"])

    # No occupation on these ads, so only the listed skills move the score (the
    # occupation part is neutral): without the skill each scores ~0.52 (required 0),
    # with it ~0.77.
    near = await place("Forklift near", [FORKLIFT], 100)
    far = await place("Forklift farther", [FORKLIFT], 800)
    aid = await place("First aid", [FIRST_AID], 300)
    await place("Forklift, adults only", [FORKLIFT], 200, min_age=25)  # hard rule: not counted
    await place("Forklift, out of reach", [FORKLIFT], 5000)  # outside the radius
    await place("Software", software, 200)  # one of four skills: +0.1, not enough
    await place("Already a match", held[:1], 200)

    s = await new_seeker(
        client, birth_date=birth_date_for_age(19), skills=held, preferences={"radius_m": 3000}
    )
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute("UPDATE jobseekers SET push_min_score = 0.7 WHERE id = %s", (s["id"],))
        load_rows(
            conn,
            [
                CourseRow(f"test-{uuid.uuid4().hex[:8]}", "Forklift course", "Test school",
                          "https://example.org/forklift", "da", 20.0, (FORKLIFT,)),
                CourseRow(f"test-{uuid.uuid4().hex[:8]}", "Forklift, English", "Test school",
                          "https://example.org/forklift-en", "en", 5.0, (FORKLIFT,)),
            ],
        )  # fmt: skip
    h = auth(s["token"])

    r = await client.get("/v1/jobseekers/me/guidance", params={"lat": lat, "lon": lon}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["radius_m"] == 3000 and body["current_matches"] == 1
    got = [(sk["uri"], sk["unlocks"]) for sk in body["skills"]]
    assert got == [(FORKLIFT, 2), (FIRST_AID, 1)]
    forklift = body["skills"][0]
    assert forklift["label"] == "Køre truck"  # the seeker's language: our easy Danish
    assert [e["vacancy_id"] for e in forklift["examples"]] == [near, far]
    assert [e["title"] for e in forklift["examples"]] == ["Forklift near", "Forklift farther"]
    assert forklift["examples"][0]["distance_m"] == pytest.approx(100, abs=2)
    # The seeker's language (da) first, then the shorter course. Other tests may have
    # loaded the sample catalogue into this database: look at this test's courses only.
    ours = {"Forklift course", "Forklift, English"}
    titles = [c["title"] for c in forklift["courses"] if c["title"] in ours]
    assert titles == ["Forklift course", "Forklift, English"]
    assert body["skills"][1]["examples"][0]["vacancy_id"] == aid
    assert not [c for c in body["skills"][1]["courses"] if c["title"] in ours]

    r = await client.get(
        "/v1/jobseekers/me/guidance", params={"lat": lat, "lon": lon, "limit": 1}, headers=h
    )
    assert [sk["uri"] for sk in r.json()["skills"]] == [FORKLIFT]

    # Without lat/lon: the last known position, else a 409 saying why.
    r = await client.get("/v1/jobseekers/me/guidance", headers=h)
    assert r.status_code == 409 and "position" in r.json()["error"]["message"]
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute(
            "INSERT INTO push_streams (jobseeker_id, last_position, last_position_at)"
            " VALUES (%s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), now())",
            (s["id"], lon, lat),
        )
    r = await client.get("/v1/jobseekers/me/guidance", headers=h)
    assert r.status_code == 200 and [sk["unlocks"] for sk in r.json()["skills"]] == [2, 1]


async def test_guidance_rejects_bad_input_and_others(client: httpx.AsyncClient) -> None:
    s = await new_seeker(client)
    h = auth(s["token"])
    for params in ({"lat": 56.1}, {"lon": 10.2}, {"lat": 91, "lon": 10}, {"limit": 0},
                   {"limit": 21}, {"lat": "x", "lon": 10}):  # fmt: skip
        r = await client.get("/v1/jobseekers/me/guidance", params=params, headers=h)
        assert r.status_code == 422, (params, r.text)
    assert (await client.get("/v1/jobseekers/me/guidance")).status_code == 401
    emp = await new_employer(client)
    r = await client.get("/v1/jobseekers/me/guidance", headers=auth(emp["api_key"]))
    assert r.status_code == 403


def _synthetic_batch(tax: Taxonomy, n: int, seed: int) -> Any:
    """n candidate rows with real ESCO skills of a few related occupations, so that
    the taxonomy's partial credit is in play."""
    rnd = random.Random(seed)
    pools = [
        tax.resolve_skills(occupation(o)["essential"] + occupation(o)["optional"])
        for o in ("barista", "waiter/waitress", "kitchen porter", "shop assistant")
    ]
    rows = []
    for _ in range(n):
        pool = rnd.choice(pools)
        req = rnd.sample(pool, rnd.randint(0, 6))
        opt = rnd.sample([p for p in pool if p not in req], rnd.randint(0, 3))
        profile = [rnd.random() for _ in range(12)] if rnd.random() < 0.7 else None
        rows.append((
            uuid.uuid4(), rnd.uniform(0, 3000), req, [rnd.choice([1.0, 1.0, 2.0]) for _ in req],
            opt, profile, rnd.choice(["fritidsjob", "ordinary"]), rnd.uniform(4, 37),
            rnd.choice([None, 3, 60]), rnd.random() < 0.3, 15, None, None, False, None, "other",
            False, False, [], "job", False, None, rnd.random() < 0.9, True, None,
        ))  # fmt: skip
    return batch_from_rows(rows)  # type: ignore[arg-type]


class _Seeker:
    def __init__(self, skill_ids: list[int]) -> None:
        import datetime as dt

        self.birth_date = dt.date(2005, 3, 1)
        self.skill_ids = skill_ids
        self.certificates: list[str] = []
        self.work_profile = [0.6] * 12
        self.job_types = ["fritidsjob"]
        self.hours_min, self.hours_max = 5.0, 20.0
        self.walk_in_interest = True
        self.finished_compulsory_school: bool | None = None
        self.subsidy_eligibility: list[str] = []


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_vectorised_unlocks_equal_rescoring_with_each_skill(
    esco: Taxonomy, seed: int
) -> None:
    batch = _synthetic_batch(esco, 400, seed)
    held = esco.resolve_skills(occupation("barista")["essential"][seed : seed + 4])
    seeker = _Seeker(held)
    ctx = matching.seeker_context(seeker, esco, 3000.0)
    scored = matching.score(ctx, batch)
    threshold = 0.6
    current, unlocks, tried = skill_unlocks(scored, esco, threshold)
    assert current == int((scored.eligible & (scored.scores.total >= threshold)).sum())
    assert tried > 0 and unlocks

    # The plain way: every candidate skill added in turn, the whole batch re-scored.
    below = scored.eligible & (scored.scores.total < threshold)
    expected: dict[int, set[int]] = {}
    entries: set[int] = set()
    for r in np.flatnonzero(below).tolist():
        entries.update(batch.req_ids[batch.req_offsets[r] : batch.req_offsets[r + 1]].tolist())
        entries.update(batch.opt_ids[batch.opt_offsets[r] : batch.opt_offsets[r + 1]].tolist())
    for s in sorted(x for x in entries if ctx.credit.at([x])[0] < 1.0):
        plus = matching.seeker_context(_Seeker([*held, s]), esco, 3000.0)
        total = score_batch(plus, batch).total
        newly = set(np.flatnonzero(below & (total >= threshold)).tolist())
        if newly:
            expected[s] = newly
    got = {u.skill_id: set(u.rows.tolist()) for u in unlocks}
    assert got == expected
    # Best first: by unlocks, then score gained.
    counts = [u.unlocks for u in unlocks]
    assert counts == sorted(counts, reverse=True)
    for u in unlocks[:5]:
        plus = matching.seeker_context(_Seeker([*held, u.skill_id]), esco, 3000.0)
        total = score_batch(plus, batch).total
        np.testing.assert_allclose(u.new_scores, total[u.rows], atol=1e-6)
