"""Consultants' outcomes and fairness figures: their caseload only, small cells
suppressed, every read audited."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

from matcher.analytics.feedback import FEATURE_NAMES
from matcher.analytics.insights import Cell, suppress
from tests.builders import (
    auth,
    birth_date_for_age,
    new_consultant,
    new_employer,
    new_seeker,
    new_vacancy,
    next_spot,
)
from tests.conftest import _libpq


def add_event(
    conn: psycopg.Connection,
    seeker: str,
    vacancy: str,
    kind: str,
    score: float = 0.6,
    days_ago: int = 0,
    band: str = "18-24",
    area: str | None = "Aarhus C",
    eligible: bool = True,
) -> None:
    features = [0.5] * len(FEATURE_NAMES)
    features[FEATURE_NAMES.index("eligible")] = 1.0 if eligible else 0.0
    conn.execute(
        "INSERT INTO match_events (occurred_at, jobseeker_id, vacancy_id, kind, actor, score,"
        " features, scorer, age_band, area)"
        " VALUES (now() - make_interval(days => %s), %s, %s, %s, 'system', %s, %s, 'hand-v1',"
        " %s, %s)",
        (days_ago, seeker, vacancy, kind, score, features, band, area),
    )


def test_small_cells_and_the_one_that_would_give_them_away() -> None:
    cells = [Cell("a", 10), Cell("b", 7), Cell("c", 3), Cell("d", 6)]
    suppress(cells)
    assert [c.suppressed for c in cells] == [False, False, True, True]
    assert cells[2].values()["seekers"] is None and cells[2].values()["push_rate"] is None
    cells = [Cell("a", 10), Cell("b", 2), Cell("c", 0)]  # two hidden: no third needed
    suppress(cells)
    assert [c.suppressed for c in cells] == [False, True, True]
    cells = [Cell("a", 5, {"pushed": 10, "applied": 2, "hired": 1})]
    suppress(cells)
    assert cells[0].values() == {
        "seekers": 5, "pushed": 10, "opened": 0, "dismissed": 0, "saved": 0, "applied": 2,
        "hired": 1, "push_rate": 2.0, "apply_rate": 0.2, "hire_rate": 0.2,
    }  # fmt: skip


async def test_outcomes_and_fairness_over_the_caseload_only(
    client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = (await new_vacancy(client, emp["api_key"], lat, lon))["id"]
    adults = [await new_seeker(client, birth_date=birth_date_for_age(19)) for _ in range(8)]
    minors = [await new_seeker(client, birth_date=birth_date_for_age(16)) for _ in range(2)]
    older = [await new_seeker(client, birth_date=birth_date_for_age(26)) for _ in range(5)]
    outsider = await new_seeker(client)
    mine = [s["id"] for s in adults + minors + older]
    con = new_consultant(database_url, caseload=mine)
    other = new_consultant(database_url, caseload=[outsider["id"]])

    with psycopg.connect(_libpq(database_url)) as conn:
        # Pushes: one per adult today in Aarhus C, Risskov for five of them two days
        # ago, Viby J for the minors; scores spread over the histogram.
        for i, s in enumerate(adults):
            add_event(conn, s["id"], v, "pushed", score=[0.05, 0.55, 1.0, 0.72][i % 4])
        for s in adults[:5]:
            add_event(conn, s["id"], v, "pushed", score=0.55, days_ago=2, area="Risskov")
        for s in minors:
            add_event(conn, s["id"], v, "pushed", score=0.95, band="<18", area="Viby J")
        for s in older:
            add_event(conn, s["id"], v, "pushed", score=0.35, band="25-29", area="Aarhus C")
        add_event(conn, adults[0]["id"], v, "opened")
        add_event(conn, adults[0]["id"], v, "applied")
        add_event(conn, adults[1]["id"], v, "applied", days_ago=2, area="Risskov")
        add_event(conn, adults[0]["id"], v, "hired")
        add_event(conn, adults[2]["id"], v, "pushed", days_ago=40)  # before the window
        # Verdicts against the default threshold 0.5: agree, disagree, agree, agree.
        add_event(conn, adults[3]["id"], v, "verdict_good", score=0.8)
        add_event(conn, adults[3]["id"], v, "verdict_good", score=0.3)
        add_event(conn, adults[4]["id"], v, "verdict_bad", score=0.2)
        add_event(conn, adults[4]["id"], v, "verdict_bad", score=0.9, eligible=False)
        # Someone else's caseload never counts.
        for _ in range(20):
            add_event(conn, outsider["id"], v, "pushed", score=0.99)
        add_event(conn, outsider["id"], v, "verdict_bad", score=0.99)

    h = auth(con["token"])
    r = await client.get("/v1/consultants/me/outcomes", params={"days": 30}, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    today = dt.datetime.now(ZoneInfo("Europe/Copenhagen")).date()
    assert len(out["days"]) == 30
    assert out["days"][-1]["day"] == today.isoformat()
    assert out["days"][0]["day"] == (today - dt.timedelta(days=29)).isoformat()
    by_day = {d["day"]: d for d in out["days"]}
    assert by_day[today.isoformat()] == {
        "day": today.isoformat(), "pushed": 15, "opened": 1, "dismissed": 0, "saved": 0,
        "applied": 1, "hired": 1,
    }  # fmt: skip
    two_ago = by_day[(today - dt.timedelta(days=2)).isoformat()]
    assert (two_ago["pushed"], two_ago["applied"]) == (5, 1)
    assert sum(d["pushed"] for d in out["days"]) == 20
    hist = out["score_histogram"]
    assert hist["edges"] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert hist["counts"] == [2, 0, 0, 5, 0, 7, 0, 2, 0, 4]
    assert out["verdicts"] == {"good": 2, "bad": 2, "agreement": 0.75}

    r = await client.get("/v1/consultants/me/outcomes", params={"days": 60}, headers=h)
    assert sum(d["pushed"] for d in r.json()["days"]) == 21

    r = await client.get("/v1/consultants/me/fairness", params={"days": 30}, headers=h)
    assert r.status_code == 200, r.text
    fair = r.json()
    assert fair["min_cell"] == 5
    bands = {b["band"]: b for b in fair["by_age_band"]}
    assert list(bands) == ["<18", "18-24", "25-29", "30+"]
    assert bands["<18"]["suppressed"] and bands["<18"]["seekers"] is None
    assert bands["<18"]["pushed"] is None and bands["<18"]["push_rate"] is None
    assert bands["30+"]["suppressed"]
    assert bands["18-24"]["seekers"] == 8 and bands["18-24"]["pushed"] == 13
    assert bands["18-24"]["push_rate"] == pytest.approx(13 / 8, abs=1e-4)
    assert bands["18-24"]["applied"] == 2 and bands["18-24"]["hired"] == 1
    assert bands["25-29"]["seekers"] == 5 and bands["25-29"]["pushed"] == 5
    areas = {a["area"]: a for a in fair["by_area"]}
    assert set(areas) == {"Aarhus C", "Risskov", "Viby J"}
    assert areas["Aarhus C"]["seekers"] == 13 and not areas["Aarhus C"]["suppressed"]
    # Viby J (2 seekers) is hidden, and Risskov with it: otherwise the totals above
    # minus the cells shown would give Viby J's figures away.
    assert areas["Viby J"]["suppressed"] and areas["Viby J"]["pushed"] is None
    assert areas["Risskov"]["suppressed"] and areas["Risskov"]["seekers"] is None

    # The other consultant sees only their own person: every band is a small cell.
    r = await client.get("/v1/consultants/me/fairness", headers=auth(other["token"]))
    assert all(b["suppressed"] for b in r.json()["by_age_band"])
    r = await client.get("/v1/consultants/me/outcomes", headers=auth(other["token"]))
    assert r.json()["verdicts"] == {"good": 0, "bad": 1, "agreement": 0.0}

    with psycopg.connect(_libpq(database_url)) as conn:
        rows = conn.execute(
            "SELECT action, subject_type, subject_id::text, detail FROM audit_log"
            " WHERE actor_id = %s ORDER BY id",
            (con["id"],),
        ).fetchall()
    assert rows == [
        ("insights.outcomes", "caseload", con["id"], {"days": 30}),
        ("insights.outcomes", "caseload", con["id"], {"days": 60}),
        ("insights.fairness", "caseload", con["id"], {"days": 30}),
    ]


async def test_insights_need_a_consultant_and_valid_days(
    client: httpx.AsyncClient, database_url: str
) -> None:
    s = await new_seeker(client)
    con = new_consultant(database_url)
    for path in ("/v1/consultants/me/outcomes", "/v1/consultants/me/fairness"):
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=auth(s["token"]))).status_code == 403
        for days in (0, 367, "x"):
            r = await client.get(path, params={"days": days}, headers=auth(con["token"]))
            assert r.status_code == 422, (path, days)
    # An empty caseload: zeros, no agreement, nothing to show.
    r = await client.get(
        "/v1/consultants/me/outcomes", params={"days": 7}, headers=auth(con["token"])
    )
    out = r.json()
    assert len(out["days"]) == 7 and all(d["pushed"] == 0 for d in out["days"])
    assert out["verdicts"] == {"good": 0, "bad": 0, "agreement": None}
    assert sum(out["score_histogram"]["counts"]) == 0
    r = await client.get("/v1/consultants/me/fairness", headers=auth(con["token"]))
    assert r.json()["by_area"] == []
