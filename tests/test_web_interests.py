"""Issues #12 and #14 in headless Chromium against the real server: a person
changes the jobs they would like (their interests) in the app's settings, with
the sign-up's picture tiles, and the match list follows; a consultant reads the
interest a person on their caseload sent and the employer's answer (audited).

With JOTR_SCREENSHOTS=1 it saves docs/screenshots/app-settings-interests.png and
console-interest.png.
"""

from __future__ import annotations

import httpx
import psycopg
from playwright.async_api import Browser, BrowserContext

from tests.browser import DESKTOP, accessibility_problems, horizontal_overflow, screenshot
from tests.builders import auth, new_consultant, new_employer, new_vacancy
from tests.conftest import ServerProcess, _libpq
from tests.test_web_browser import barista_profile, close_toasts, new_seeker, open_page

EGAA = (56.2150, 10.2750)  # a patch of Aarhus no other browser test uses
EGAA_CAFE = (56.2160, 10.2760)  # ~130 m away
LYSTRUP = (56.2370, 10.2290)
LYSTRUP_CAFE = (56.2378, 10.2300)


async def test_interests_are_changed_in_the_settings_and_the_list_follows(
    browser: Browser, server: ServerProcess, client: httpx.AsyncClient,
    contexts: list[BrowserContext],
) -> None:  # fmt: skip
    profile = await barista_profile(client)
    skills = [s["uri"] for s in profile["essential"]]
    seeker = await new_seeker(client, skills)
    emp = await new_employer(client, name="Egå Kaffebar")
    v = await new_vacancy(
        client, emp["api_key"], *EGAA_CAFE, title="Barista om morgenen", walk_in=False,
        occupation_uri=profile["uri"], required_skills=[{"uri": u} for u in skills[:3]],
    )  # fmt: skip
    me = (await client.get("/v1/jobseekers/me", headers=auth(seeker["token"]))).json()
    assert me["interests"] == []

    page, errors = await open_page(
        browser, server, contexts, geolocation=EGAA, seeker_token=seeker["token"]
    )
    await page.goto("/app")
    card = page.locator(f"#job-{v['id']}")
    await card.wait_for()
    assert "Du vil gerne arbejde som" not in await card.inner_text()
    await close_toasts(page)

    await page.click('#tabbar [data-view="settings"]')
    box = page.locator("#interests")
    assert "Du har ikke valgt noget endnu" in await box.inner_text()
    # The sign-up's pictures: café, then the barista it offers.
    await box.locator("summary").click()
    await box.get_by_role("button", name="Café").click()
    await box.locator(".chips .chip", has_text="barista").first.click()
    chosen = box.locator(f'#interests-list [data-uri="{profile["uri"]}"]')
    await chosen.wait_for()
    await page.get_by_text("Gemt. Listen er opdateret.").wait_for()

    me = (await client.get("/v1/jobseekers/me", headers=auth(seeker["token"]))).json()
    assert [i["uri"] for i in me["interests"]] == [profile["uri"]]
    # The search adds a second one: the Danish word for a shop assistant.
    await box.locator("#interest-search").fill("butiksassistent")
    await page.get_by_role("option").first.click()
    await box.locator("#interests-list li.chip").nth(1).wait_for()
    me = (await client.get("/v1/jobseekers/me", headers=auth(seeker["token"]))).json()
    assert len(me["interests"]) == 2 and me["interests"][0]["uri"] == profile["uri"]
    await page.evaluate("document.querySelectorAll('.toast').forEach((t) => t.remove())")
    # The open card, tiles and chips fit a phone and pass the in-page checks.
    assert await horizontal_overflow(page) == 0
    assert await accessibility_problems(page) == []
    await box.evaluate("e => { e.scrollIntoView({block: 'start'}); window.scrollBy(0, -70); }")
    await screenshot(page, "app-settings-interests")

    # The list was read again: the card says the job is one she wished for.
    await page.click('#tabbar [data-view="jobs"]')
    line = card.locator("li.occupation")
    await line.wait_for()
    assert "Du vil gerne arbejde som barista" in await line.inner_text()

    # One tap removes it again, saved at once.
    await page.click('#tabbar [data-view="settings"]')
    await box.get_by_role("button", name="Fjern barista").click()
    await chosen.wait_for(state="detached")
    me = (await client.get("/v1/jobseekers/me", headers=auth(seeker["token"]))).json()
    assert profile["uri"] not in [i["uri"] for i in me["interests"]]
    assert errors == []


async def test_the_console_shows_a_persons_interest_and_the_answers(
    browser: Browser, server: ServerProcess, client: httpx.AsyncClient,
    contexts: list[BrowserContext], database_url: str,
) -> None:  # fmt: skip
    profile = await barista_profile(client)
    skills = [s["uri"] for s in profile["essential"]]
    seeker = await new_seeker(client, skills, display_name="Emil Holm", interests=[profile["uri"]])
    emp = await new_employer(client, name="Lystrup Bageri")
    answered, waiting = [
        await new_vacancy(
            client,
            emp["api_key"],
            *LYSTRUP_CAFE,
            title=title,
            walk_in=False,
            occupation_uri=profile["uri"],
            required_skills=[{"uri": u} for u in skills[:3]],
        )
        for title in ("Barista i bageriet", "Kaffe og kage i weekenden")
    ]
    ids = {}
    for v, message in ((answered, "Jeg kan lide at bage"), (waiting, "")):
        r = await client.post(
            f"/v1/vacancies/{v['id']}/interest",
            json={"share": {"first_name": True, "age": True, "phone": "20 30 40 50"},
                  "message": message},
            headers=auth(seeker["token"]),
        )  # fmt: skip
        assert r.status_code == 201, r.text
        ids[v["id"]] = r.json()["id"]
    r = await client.post(
        f"/v1/interest/{ids[answered['id']]}/reply",
        json={"reply": "come_by", "message": "Kom forbi tirsdag kl. 14"},
        headers=auth(emp["api_key"]),
    )  # fmt: skip
    assert r.status_code == 200, r.text
    consultant = new_consultant(database_url, [seeker["id"]])

    page, errors = await open_page(browser, server, contexts, viewport=DESKTOP)
    await page.goto("/console")
    await page.fill("#token", consultant["token"])
    await page.click("#login-form button[type=submit]")
    await page.locator(f'#caseload button[data-jobseeker-id="{seeker["id"]}"]').click()
    box = page.locator("#person-interest")
    rows = box.locator("li[data-application-id]")
    await rows.nth(1).wait_for()
    assert await rows.count() == 2
    first = box.locator(f'[data-application-id="{ids[answered["id"]]}"]')
    text = await first.inner_text()
    for part in ("Barista i bageriet", "Lystrup Bageri", "Kom forbi", "Kom forbi tirsdag kl. 14",
                 "Jeg kan lide at bage", "+45 20 30 40 50"):  # fmt: skip
        assert part in text, (part, text)
    second = await box.locator(f'[data-application-id="{ids[waiting["id"]]}"]').inner_text()
    assert "Venter på svar" in second
    await close_toasts(page)
    # The wished-for occupations show in the profile too.
    assert "Ønsker: barista" in await page.locator("#person").inner_text()
    assert await accessibility_problems(page) == []
    await box.evaluate("e => e.scrollIntoView({block: 'center'})")
    await screenshot(page, "console-interest")

    # The read is the API's audited one (api/routers/interest.py).
    with psycopg.connect(_libpq(database_url)) as conn:
        audit = conn.execute(
            "SELECT detail FROM audit_log WHERE actor_id = %s AND subject_id = %s"
            " AND action = 'jobseeker.interest'",
            (consultant["id"], seeker["id"]),
        ).fetchall()
    assert audit == [({"count": 2},)]
    # In English too.
    await page.click("#lang")
    await box.get_by_text("Waiting for an answer").wait_for()
    assert errors == []
