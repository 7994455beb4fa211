"""End to end in headless Chromium against the real server and PostGIS.

A jobseeker signs up in the app and walks up Søndergade in Aarhus (the browser's
geolocation is moved); a match is pushed, notified and shown on the map. An
employer posts a vacancy from a phone and a connected seeker sees it arrive. A
consultant reviews a match and the verdict is stored. The pages fit a 360 px
screen and pass basic accessibility checks. The network is closed to everything
but our server, so map tiles cannot be fetched and the map must do without.

With JOTR_SCREENSHOTS=1 the tests save the main screens in docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import psycopg
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize

from tests.browser import (
    DESKTOP,
    accessibility_problems,
    horizontal_overflow,
    new_context,
    screenshot,
    watch_errors,
)
from tests.builders import (
    auth,
    birth_date_for_age,
    new_consultant,
    new_employer,
    new_vacancy,
    signup_consent,
    verify_employer,
)
from tests.conftest import ServerProcess, _libpq

# A walk from Park Allé up Søndergade towards the cathedral, Aarhus C.
WALK = [(56.1478, 10.2020), (56.1492, 10.2033), (56.1505, 10.2045), (56.1525, 10.2060),
        (56.1545, 10.2075)]  # fmt: skip
GULDSMEDGADE = (56.1600, 10.2090)  # ~1.1 km from the third point, ~850 m from the fourth
RISSKOV = (56.1915, 10.2360)
RISSKOV_SHOP = (56.1935, 10.2355)  # ~220 m north
VIBY = (56.1280, 10.1400)  # near the 8260 Viby J centre
BRABRAND = (56.1560, 10.1100)


async def open_page(
    browser: Browser, server: ServerProcess, contexts: list[BrowserContext], **kw: Any
) -> tuple[Page, list[str]]:
    token = kw.pop("seeker_token", None)
    context = await new_context(browser, server.base_url, **kw)
    contexts.append(context)
    if token:
        await context.add_init_script(
            f"localStorage.setItem('jotr.seeker.token', {json.dumps(token)})"
        )
    page = await context.new_page()
    return page, watch_errors(page)


async def barista_profile(client: httpx.AsyncClient) -> dict[str, Any]:
    """The barista occupation and its ESCO skills, as the app is offered them."""
    r = await client.get("/v1/occupations", params={"q": "barista", "lang": "da", "limit": 1})
    uri = r.json()["items"][0]["uri"]
    r = await client.get("/v1/occupations/skills", params={"uri": uri, "lang": "da"})
    return {"uri": uri, **r.json()}


async def new_seeker(client: httpx.AsyncClient, skills: list[str], **over: Any) -> dict[str, Any]:
    body = {
        "birth_date": birth_date_for_age(19),
        "skills": skills,
        "preferences": {"radius_m": 2000},
        "consent": signup_consent(),
        **over,
    }
    r = await client.post("/v1/jobseekers", json=body)
    assert r.status_code == 201, r.text
    # The app asks for location consent before the first position (push needs it).
    token = r.json()["token"]
    c = await client.put(
        "/v1/jobseekers/me/consents/location", json={"granted": True}, headers=auth(token)
    )
    assert c.status_code == 200, c.text
    return dict(r.json())


async def wait_until(check: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not await asyncio.to_thread(check):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


# Positions live in push_streams (apart from the profile row).
JOINED = "FROM jobseekers j LEFT JOIN push_streams s ON s.jobseeker_id = j.id WHERE j.id = %s"


def has_position(database_url: str, seeker_id: str) -> bool:
    with psycopg.connect(_libpq(database_url)) as conn:
        row = conn.execute("SELECT last_position IS NOT NULL " + JOINED, (seeker_id,)).fetchone()
    return bool(row and row[0])


async def close_toasts(page: Page) -> None:
    """Close the notices (they sit over the list, as on a phone)."""
    for button in await page.locator(".toast .toast-close").all():
        await button.click()


async def move(page: Page, lat: float, lon: float) -> None:
    """Move the phone and wait until the app has told the server."""
    await page.context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": 10})
    await page.wait_for_function(
        "([lat, lon]) => { const p = window.jotrApp.state.sentPos;"
        " return p && Math.abs(p.lat - lat) < 1e-6 && Math.abs(p.lon - lon) < 1e-6; }",
        arg=[lat, lon],
    )


async def test_seeker_signs_up_walks_and_a_match_appears_on_the_map(
    browser: Browser,
    server: ServerProcess,
    client: httpx.AsyncClient,
    contexts: list[BrowserContext],
) -> None:
    profile = await barista_profile(client)
    emp = await new_employer(client, name="Kaffebaren på Guldsmedgade")
    title = "Barista på Guldsmedgade"
    v = await new_vacancy(
        client, emp["api_key"], *GULDSMEDGADE, title=title, walk_in=False,
        occupation_uri=profile["uri"],
        required_skills=[{"uri": s["uri"]} for s in profile["essential"][:4]],
        optional_skills=[], address="Guldsmedgade 20, 8000 Aarhus C",
    )  # fmt: skip

    page, errors = await open_page(browser, server, contexts, geolocation=WALK[0])
    await page.goto("/app")
    await screenshot(page, "app-welcome")
    await page.click("#ob-start")
    await page.locator("#privacy-notice li").first.wait_for()
    await page.check("#ob-consent")
    await page.click("#ob-next-privacy")
    await page.fill("#ob-birth", birth_date_for_age(19))
    await page.fill("#ob-name", "Maja")
    await page.click("#ob-next")
    # Occupation: tap the café picture, then the barista it offers.
    await page.get_by_role("button", name="Café").click()
    await page.locator("#onboarding .chips .chip", has_text="barista").first.click()
    await page.wait_for_selector("#ob-skills")
    # "Hvad kan du?" in easy Danish (our vocabulary), not ESCO's English labels.
    first = profile["essential"][0]
    assert first["lang"] == "da", first
    await page.locator("#ob-skills .chip", has_text=first["label"]).first.wait_for()
    # A word that finds nothing says so.
    await page.fill("#ob-skill-search", "xqzxqzxq")
    await page.get_by_text("Ingen evner fundet – prøv et andet ord").wait_for()
    await page.fill("#ob-skill-search", "")
    await screenshot(page, "app-skills")
    for box in await page.locator("#ob-skills input[type=checkbox]").all():
        await box.check()
    await page.get_by_role("button", name="Næste").click()
    # The picture quiz: two taps.
    await page.get_by_role("button", name="Sammen").click()
    await page.get_by_role("button", name="Med kunder").click()
    await screenshot(page, "app-quiz")
    await page.get_by_role("button", name="Næste").click()
    await page.get_by_role("button", name="Hjælpe andre").click()
    await page.get_by_role("button", name="Næste").click()
    await page.get_by_role("button", name="1 km").click()
    await page.click("#ob-finish")
    await page.click("#loc-yes")  # location consent, right before the browser's prompt

    await page.wait_for_selector("#home:not([hidden])")
    await page.wait_for_selector('#conn[data-state="open"]')
    me = await client.get(
        "/v1/jobseekers/me",
        headers=auth(await page.evaluate("localStorage.getItem('jotr.seeker.token')")),
    )
    assert me.json()["preferences"]["radius_m"] == 1000 and me.json()["display_name"] == "Maja"
    assert len(me.json()["skills"]) >= 4 and me.json()["work_profile"]["teamwork"] > 0.5
    # The wished-for occupation is kept as an interest (issue #12), not dropped.
    assert [i["uri"] for i in me.json()["interests"]] == [profile["uri"]]
    pin = page.locator(f'.leaflet-marker-icon[data-vacancy-id="{v["id"]}"]')
    toast = page.locator(f'.toast-match[data-vacancy-ids~="{v["id"]}"]')

    # Up the street: out of reach for the first points, then a push.
    for lat, lon in WALK[1:3]:
        await move(page, lat, lon)
    await page.wait_for_timeout(600)
    assert await pin.count() == 0 and await toast.count() == 0
    await move(page, *WALK[3])
    await toast.wait_for()
    await pin.wait_for()
    assert "is-new" in (await pin.get_attribute("class") or "")
    assert await pin.get_attribute("aria-label") == f"{title} – Kaffebaren på Guldsmedgade"
    card = page.locator(f"#job-{v['id']}")
    await card.wait_for()
    assert "Ny" in await card.inner_text()
    # The occupation part's line: the job is the one she wished for.
    await card.locator("li.occupation", has_text="Du vil gerne arbejde som").wait_for()
    notes = await page.evaluate("window.__notifications")
    assert [n for n in notes if title in (n["body"] or "")], notes
    # No tiles (the network is closed): a plain background, the pins, a note.
    assert await page.get_attribute("#map", "data-tiles") == "failed"
    assert await page.locator(".map-note").is_visible()
    # "Hvorfor dette job?" names the skills in easy Danish.
    await card.locator("details.why summary").click()
    await card.locator(".skill-list", has_text=first["label"]).wait_for()
    await page.wait_for_timeout(400)  # the map's pan to show the new pin
    await screenshot(page, "app-match")
    await page.evaluate("window.scrollTo(0, document.getElementById('jobs-h').offsetTop - 70)")
    await screenshot(page, "app-list")

    # The connection drops: the app reconnects, resumes after what it has, and
    # shows nothing twice.
    seq = await page.evaluate("window.jotrApp.state.push.processed")
    assert seq >= 1 and await page.evaluate("localStorage.getItem('jotr.push.seq')") == str(seq)
    await page.evaluate("window.jotrApp.state.push.ws.close()")
    await page.wait_for_selector('#conn[data-state="closed"], #conn[data-state="connecting"]')
    await page.wait_for_selector('#conn[data-state="open"]', timeout=15_000)
    await move(page, *WALK[4])
    await page.wait_for_timeout(800)
    notes_after = await page.evaluate("window.__notifications")
    assert len([n for n in notes_after if title in (n["body"] or "")]) == 1
    assert errors == []


async def test_employer_posts_from_a_phone_and_a_connected_seeker_sees_it(
    browser: Browser,
    server: ServerProcess,
    client: httpx.AsyncClient,
    contexts: list[BrowserContext],
    database_url: str,
) -> None:
    profile = await barista_profile(client)
    seeker = await new_seeker(client, [s["uri"] for s in profile["essential"]])
    phone, phone_errors = await open_page(
        browser, server, contexts, geolocation=RISSKOV, seeker_token=seeker["token"]
    )
    await phone.goto("/app")
    await phone.wait_for_selector('#conn[data-state="open"]')
    await wait_until(lambda: has_position(database_url, str(seeker["id"])))

    shop, shop_errors = await open_page(browser, server, contexts, geolocation=RISSKOV_SHOP)
    await shop.goto("/employer")
    await shop.fill("#emp-name", "Bageriet i Risskov")
    await shop.click("#signup-form button[type=submit]")
    await shop.wait_for_selector("#dashboard:not([hidden])")
    assert (await shop.inner_text("#new-key-value")).startswith("jotr_emp_")
    # A new employer waits for approval (employer trust); a consultant approves
    # it (tests/test_web_trust.py clicks that through), so walk-ins are allowed.
    await shop.wait_for_selector('#trust-status[data-status="unverified"]')
    key = await shop.inner_text("#new-key-value")
    me = (await client.get("/v1/employers/me", headers=auth(key))).json()
    verify_employer(server.base_url, me["id"])
    await shop.reload()
    await shop.wait_for_selector('#trust-status[data-status="verified"]')
    await shop.click("#new-job")
    await shop.fill("#f-occ", "barista")
    await shop.wait_for_selector("#f-occ ~ [role=listbox] [role=option]")
    await shop.keyboard.press("Enter")
    await shop.wait_for_selector("#f-skills input:checked")
    assert await shop.input_value("#f-title") == "Barista"
    await shop.click("#f-here")
    await shop.wait_for_selector('#pin-map[data-pinned="true"]')
    await shop.fill("#f-address", "Nordre Strandvej 10, 8240 Risskov")
    await shop.select_option("#f-type", "fritidsjob")
    await shop.fill("#f-hours", "8")
    # The youth rules' questions, in plain Danish.
    assert "Serveres der alkohol" in await shop.inner_text("#youth-box")
    await shop.select_option("#f-kind", "restaurant")
    for day in ("mon", "tue", "wed", "thu", "fri"):
        await shop.check(f"#wd-{day}")
    await shop.fill("#f-work-from", "16:00")
    await shop.fill("#f-work-to", "20:00")
    await shop.check("#hz-heavy_lifting")
    await shop.evaluate("document.querySelector('#youth-box').scrollIntoView({block: 'start'})")
    await screenshot(shop, "employer-youth")
    await shop.evaluate("window.scrollTo(0, 0)")
    await screenshot(shop, "employer-form", full_page=True)
    await shop.click("#f-submit")
    posted = shop.locator("#jobs li.card").first
    await posted.wait_for()
    vacancy_id = await posted.get_attribute("data-vacancy-id")
    assert vacancy_id
    assert float(await shop.evaluate("document.body.dataset.lastPostSeconds")) < 120

    # The seeker's phone: a notice and a new pin, without moving.
    toast = phone.locator(f'.toast-match[data-vacancy-ids~="{vacancy_id}"]')
    await toast.wait_for()
    assert "Barista" in await toast.inner_text()  # a notice, even one for several
    pin = phone.locator(f'.leaflet-marker-icon[data-vacancy-id="{vacancy_id}"]')
    await pin.wait_for()

    # The employer sees a count, never who: one seeker is below the floor.
    reach = shop.locator(f'[data-reach="{vacancy_id}"]')
    await reach.wait_for()
    assert "Færre end 3" in await reach.inner_text()
    stored = await client.get(f"/v1/vacancies/{vacancy_id}")
    body = stored.json()
    assert body["hours_per_week"] == 8 and body["address"].startswith("Nordre Strandvej")
    assert abs(body["location"]["lat"] - RISSKOV_SHOP[0]) < 1e-6
    assert len(body["required_skills"]) == 5
    assert body["workplace_kind"] == "restaurant" and body["age_limit"] == 18
    assert body["schedule"] == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "16:00", "end": "20:00"}
    ]
    await shop.evaluate("window.scrollTo(0, 0)")
    await screenshot(shop, "employer-jobs")

    # Editing: more hours, walk-ins welcome on weekdays.
    await posted.get_by_role("button", name="Ret").click()
    await shop.fill("#f-hours", "12")
    await shop.check("#f-walkin")
    await shop.fill("#f-open", "10:00")
    await shop.fill("#f-close", "18:00")
    await shop.click("#f-submit")
    await shop.locator("#jobs li.card", has_text="12 t/uge").wait_for()
    body = (await client.get(f"/v1/vacancies/{vacancy_id}")).json()
    assert body["hours_per_week"] == 12 and body["walk_in"] is True
    assert (
        body["opening_hours"]["mon"] == [["10:00", "18:00"]] and "sun" not in body["opening_hours"]
    )
    assert len(body["required_skills"]) == 5  # unchanged

    # Closing it withdraws it from the seeker's map.
    shop.once("dialog", lambda d: asyncio.ensure_future(d.accept()))
    await posted.get_by_role("button", name="Luk jobbet").click()
    await pin.wait_for(state="detached")
    await shop.locator("#jobs li.card .badge.closed").first.wait_for()
    assert phone_errors == [] and shop_errors == []


def subsidy_marks(database_url: str, seeker_id: str) -> list[str]:
    with psycopg.connect(_libpq(database_url)) as conn:
        row = conn.execute(
            "SELECT subsidy_eligibility FROM jobseekers WHERE id = %s", (seeker_id,)
        ).fetchone()
    return list(row[0]) if row else []


async def test_consultant_reviews_a_match_and_the_verdict_is_stored(
    browser: Browser,
    server: ServerProcess,
    client: httpx.AsyncClient,
    contexts: list[BrowserContext],
    database_url: str,
) -> None:
    profile = await barista_profile(client)
    seeker = await new_seeker(
        client, [s["uri"] for s in profile["essential"][:6]], display_name="Sara Testesen",
        work_profile={"social": 0.8, "customer_contact": 0.9}, preferences={"radius_m": 3000},
    )  # fmt: skip
    emp = await new_employer(client, name="Café Viby Torv")
    v = await new_vacancy(
        client, emp["api_key"], *VIBY, title="Barista i Viby", walk_in=False,
        occupation_uri=profile["uri"],
        required_skills=[{"uri": s["uri"]} for s in profile["essential"][:4]],
    )  # fmt: skip
    consultant = new_consultant(database_url, [str(seeker["id"])])
    # Her phone gets the job pushed and she says she applied: outcomes to look at.
    phone, phone_errors = await open_page(
        browser, server, contexts, geolocation=VIBY, seeker_token=seeker["token"]
    )
    await phone.goto("/app")
    await phone.locator(f'.toast-match[data-vacancy-ids~="{v["id"]}"]').wait_for()
    await close_toasts(phone)
    # "Jeg er interesseret" (it records the "applied" signal too): the job view's sheet.
    await phone.locator(f"#job-{v['id']}").locator('[data-action="interest"]').click()
    view = phone.locator("#jobview")
    await view.locator("#interest-open").click()
    await view.locator("#interest-phone").fill("20 30 40 50")
    await view.locator("#interest-send").click()
    await view.locator("#jobview-reply").wait_for()
    await phone.context.close()

    page, errors = await open_page(browser, server, contexts, viewport=DESKTOP)
    await page.goto("/console")
    await page.fill("#token", consultant["token"])
    await page.click("#login-form button[type=submit]")
    person = page.locator(f'#caseload button[data-jobseeker-id="{seeker["id"]}"]')
    await person.click()
    await page.wait_for_selector("#match-rows[data-loaded]")
    await page.fill("#area", "8260")
    await page.get_by_role("option", name="8260 Viby J").click()
    row = page.locator(f'.match-row[data-vacancy-id="{v["id"]}"]')
    await row.wait_for()
    text = await row.inner_text()
    assert "Barista i Viby" in text and "Krævede evner" in text and "100%" in text
    await row.get_by_role("button", name="God").click()
    await row.get_by_label("Hvorfor?").fill("Tæt på hjemmet og passer til hendes ønsker")
    await row.get_by_role("button", name="Gem vurdering").click()
    await row.get_by_text("Gemt: God").wait_for()
    # The jobcenter decided she may take an IGU job: one tick, stored and audited.
    await page.locator("#subsidy").get_by_label("IGU").check()
    await page.get_by_text("Gemt.").first.wait_for()
    await wait_until(lambda: subsidy_marks(database_url, str(seeker["id"])) == ["igu"])
    await close_toasts(page)

    with psycopg.connect(_libpq(database_url)) as conn:
        review = conn.execute(
            "SELECT verdict::text, reason, score, explanation ? 'parts' FROM match_reviews "
            "WHERE consultant_id = %s AND jobseeker_id = %s AND vacancy_id = %s",
            (consultant["id"], seeker["id"], v["id"]),
        ).fetchall()
        actions = {
            r[0]
            for r in conn.execute(
                "SELECT action FROM audit_log WHERE actor_id = %s AND subject_id = %s",
                (consultant["id"], seeker["id"]),
            )
        }
    assert len(review) == 1
    verdict, reason, score, has_parts = review[0]
    assert verdict == "good" and reason.startswith("Tæt på hjemmet") and has_parts
    assert score is not None and score > 0.5
    # Every view of the person's data left its audit row.
    assert {"caseload.list", "jobseeker.read", "jobseeker.matches", "review.create"} <= actions
    assert "jobseeker.subsidy_eligibility" in actions
    if await page.locator("#plot-verdicts").is_visible():
        # Where the server has the figures (outcomes), the verdict shows up in them.
        await page.locator("#plot-verdicts svg").wait_for()
        assert await page.locator("#plot-time polyline").count() >= 1
    await page.evaluate("window.scrollTo(0, 0)")
    await screenshot(page, "console")
    await row.scroll_into_view_if_needed()
    await screenshot(page, "console-match")
    assert errors == [] and phone_errors == []


async def test_seeker_actions_dismiss_save_settings(
    browser: Browser,
    server: ServerProcess,
    client: httpx.AsyncClient,
    contexts: list[BrowserContext],
) -> None:
    profile = await barista_profile(client)
    seeker = await new_seeker(client, [s["uri"] for s in profile["essential"]])
    emp = await new_employer(client)
    keep, drop = [
        await new_vacancy(
            client, emp["api_key"], BRABRAND[0] + d, BRABRAND[1], title=t, walk_in=False,
            occupation_uri=profile["uri"],
            required_skills=[{"uri": s["uri"]} for s in profile["essential"][:3]],
        )
        for d, t in ((0.002, "Barista ved søen"), (0.004, "Barista i Brabrand"))
    ]  # fmt: skip
    page, errors = await open_page(
        browser, server, contexts, geolocation=BRABRAND, seeker_token=seeker["token"]
    )
    await page.goto("/app")
    card = page.locator(f"#job-{keep['id']}")
    await card.wait_for()
    await page.wait_for_timeout(500)  # the pushes that follow the first position
    await close_toasts(page)
    await card.get_by_role("button", name="Gem").click()
    assert await card.locator('[data-action="save"]').get_attribute("aria-pressed") == "true"
    # "Jeg har søgt" became "Jeg er interesseret", which opens the job view
    # (tests/test_web_jobview.py follows it to the employer and back).
    assert await card.locator('[data-action="interest"]').get_attribute("aria-pressed") == "false"
    other = page.locator(f"#job-{drop['id']}")
    await other.get_by_role("button", name="Nej tak").click()
    await other.wait_for(state="detached")
    await page.locator(f'.leaflet-marker-icon[data-vacancy-id="{drop["id"]}"]').wait_for(
        state="detached"
    )
    await page.click('#tabbar [data-view="saved"]')
    await page.locator(f'#saved-list [data-vacancy-id="{keep["id"]}"]').wait_for()
    # The phone remembers; where the server takes feedback, it has it too.
    r = await client.get(
        "/v1/jobseekers/me/feedback", params={"action": "saved"}, headers=auth(seeker["token"])
    )
    if r.status_code != 404:
        assert r.status_code == 200
        r = await client.get("/v1/jobseekers/me/feedback", headers=auth(seeker["token"]))
        latest = {i["vacancy_id"]: i["action"] for i in r.json()["items"]}
        assert latest[keep["id"]] in ("saved", "applied") and latest[drop["id"]] == "dismissed"
    # Settings: a shorter radius and a pause, over the websocket.
    await page.click('#tabbar [data-view="settings"]')
    await page.locator("#radius").fill("1500")
    await page.click("#pause")
    await page.wait_for_selector('#pause[aria-pressed="true"]')
    me = (await client.get("/v1/jobseekers/me", headers=auth(seeker["token"]))).json()
    assert me["preferences"]["radius_m"] == 1500
    await page.click('#tabbar [data-view="jobs"]')
    assert "pause" in (await page.inner_text("#banner")).lower()

    await page.reload()
    await page.wait_for_selector("#home:not([hidden])")
    await page.locator(f"#job-{keep['id']}").wait_for()
    assert await page.locator(f"#job-{drop['id']}").count() == 0  # stays dismissed
    assert errors == []


async def test_pages_fit_360_px_and_pass_accessibility_checks(
    browser: Browser,
    server: ServerProcess,
    client: httpx.AsyncClient,
    contexts: list[BrowserContext],
) -> None:
    narrow: ViewportSize = {"width": 360, "height": 740}
    emp = await new_employer(client, name="Restaurant Søstjernen")
    v = await new_vacancy(
        client, emp["api_key"], *BRABRAND, title="Opvasker søges til travlt køkken i weekenden",
        walk_in=True, address="Silkeborgvej 100, 8220 Brabrand", hours_per_week=8,
        description="Opvask og lidt køkkenhjælp fredag og lørdag aften. Vi lærer dig op.",
    )  # fmt: skip
    profile = await barista_profile(client)
    seeker = await new_seeker(client, [s["uri"] for s in profile["essential"]])

    async def check(page: Page, where: str) -> None:
        assert await horizontal_overflow(page) == 0, where
        assert await accessibility_problems(page) == [], where

    page, errors = await open_page(browser, server, contexts, viewport=narrow)
    for path in ("/", "/employer", "/console", f"/v/{v['id']}"):
        await page.goto(path)
        await page.wait_for_load_state("networkidle")
        await check(page, path)
    await screenshot(page, "share")

    # The app by keyboard: the skip link first, then through the welcome to step 1.
    await page.goto("/app")
    await page.wait_for_selector("#ob-start")
    await check(page, "app welcome")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip"
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "ob-start":
            break
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "ob-h"
    # The privacy notice and consent come first (tests/test_web_consent.py).
    await page.locator("#privacy-notice li").first.wait_for()
    await check(page, "app privacy step")
    await page.check("#ob-consent")
    await page.click("#ob-next-privacy")
    await page.locator("#ob-birth").wait_for()
    await check(page, "app age step")
    await page.fill("#ob-birth", birth_date_for_age(17))
    # Under 18 the app asks about 9th grade, in plain Danish, and will not go on without it.
    await page.locator("#ob-school").wait_for()
    assert "Er du færdig med 9. klasse?" in await page.inner_text("#ob-school")
    await page.click("#ob-next")
    assert await page.locator("#ob-school").is_visible()
    await page.get_by_label("Nej, jeg går stadig i skole").check()
    await check(page, "app age step, under 18")
    await page.click("#ob-next")
    await page.get_by_role("button", name="Køkken").click()
    await page.locator("#onboarding .chips .chip").first.wait_for()
    await check(page, "app occupation step")
    # English on request, remembered.
    await page.click("#lang")
    assert await page.inner_text("#ob-h") == "💼 What would you like to work with?"
    await page.reload()
    assert "Get started" in await page.inner_text("#ob-start")

    home, home_errors = await open_page(
        browser, server, contexts, viewport=narrow, geolocation=BRABRAND,
        seeker_token=seeker["token"],
    )  # fmt: skip
    await home.goto("/app")
    await home.locator(f"#job-{v['id']}").wait_for()
    await check(home, "app home")
    for view in ("saved", "settings"):
        await home.click(f'#tabbar [data-view="{view}"]')
        await check(home, f"app {view}")
    assert errors == [] and home_errors == []


async def test_app_shell_works_offline(
    browser: Browser, server: ServerProcess, contexts: list[BrowserContext]
) -> None:
    page, errors = await open_page(browser, server, contexts, geolocation=BRABRAND)
    await page.goto("/app")
    await page.wait_for_selector("#ob-start")
    assert await page.evaluate(
        "navigator.serviceWorker.ready.then(() => caches.has('jotr-shell-v1'))"
    )
    await page.wait_for_function("navigator.serviceWorker.controller !== null")
    await page.context.set_offline(True)
    await page.reload()
    await page.wait_for_selector("#ob-start")
    await page.context.set_offline(False)
    assert errors == []
