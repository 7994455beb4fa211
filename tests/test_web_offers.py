"""Offers beyond jobs in headless Chromium (issue #15, part 3): a seeker opts in to
leisure activities in the app's settings, a club posts one from the employer page
with the kind chooser, and the seeker's phone gets it with its own icon and words.

With JOTR_SCREENSHOTS=1 the test saves the screens in docs/screenshots/.
"""

from __future__ import annotations

import json

import httpx
from playwright.async_api import Browser, BrowserContext

from tests.browser import new_context, screenshot, watch_errors
from tests.builders import auth, birth_date_for_age, occupation, signup_consent, verify_employer
from tests.conftest import ServerProcess

VIBY = (56.1280, 10.1400)  # near the 8260 Viby J centre
VIBY_CLUB = (56.1295, 10.1410)  # ~180 m north


async def test_a_club_posts_a_leisure_offer_and_an_opted_in_phone_gets_it(
    browser: Browser,
    server: ServerProcess,
    client: httpx.AsyncClient,
    contexts: list[BrowserContext],
) -> None:
    r = await client.post(
        "/v1/jobseekers",
        json={
            "birth_date": birth_date_for_age(16),
            "finished_compulsory_school": False,
            "skills": occupation("barista")["essential"][:3],
            "preferences": {"radius_m": 1500},
            "consent": signup_consent(),
        },
    )
    assert r.status_code == 201, r.text
    seeker = r.json()
    r = await client.put(  # location was said yes to (tests/test_web_consent.py asks)
        "/v1/jobseekers/me/consents/location", json={"granted": True},
        headers=auth(seeker["token"]),
    )  # fmt: skip
    assert r.status_code == 200, r.text

    context = await new_context(browser, server.base_url, geolocation=VIBY)
    contexts.append(context)
    token = json.dumps(seeker["token"])
    await context.add_init_script(f"localStorage.setItem('jotr.seeker.token', {token})")
    phone = await context.new_page()
    phone_errors = watch_errors(phone)
    await phone.goto("/app")
    await phone.wait_for_selector('#conn[data-state="open"]')

    # "Vis mig også: fritidsaktiviteter" in the settings.
    await phone.click('button[data-view="settings"]')
    leisure_box = phone.locator('#offer-kinds input[value="leisure"]')
    assert "Vis mig også" in await phone.inner_text("#offer-kinds")
    assert not await leisure_box.is_checked()
    await leisure_box.check()
    await phone.locator(".toast", has_text="Gemt").wait_for()
    me = await client.get("/v1/jobseekers/me", headers=auth(seeker["token"]))
    assert me.json()["preferences"]["offer_kinds"] == ["job", "leisure"]
    await screenshot(phone, "app-offer-optin")
    await phone.click('button[data-view="jobs"]')

    # A club signs up as a club and posts a leisure offer: no job type, a price and ages.
    club_context = await new_context(browser, server.base_url, geolocation=VIBY_CLUB)
    contexts.append(club_context)
    club = await club_context.new_page()
    club_errors = watch_errors(club)
    await club.goto("/employer")
    await club.fill("#emp-name", "Viby Klatreklub")
    await club.select_option("#emp-org-kind", "club")
    await club.click("#signup-form button[type=submit]")
    await club.wait_for_selector("#dashboard:not([hidden])")
    # Verified (here as an operator would), or its offers never reach a 16-year-old.
    key = await club.evaluate("() => localStorage.getItem('jotr.employer.key')")
    me = await client.get("/v1/employers/me", headers=auth(key))
    verify_employer(server.base_url, me.json()["id"])
    await club.click("#new-job")
    assert await club.is_visible("#f-type")  # a job by default
    await club.check('input[name="offer-kind"][value="leisure"]')
    assert not await club.is_visible("#f-type") and await club.is_visible("#f-cost")
    assert not await club.is_visible("#f-vol-work")
    await club.fill("#f-title", "Klatring for unge")
    await club.click("#f-here")
    await club.wait_for_selector('#pin-map[data-pinned="true"]')
    await club.fill("#f-hours", "")
    await club.fill("#f-cost", "0")
    await club.select_option("#f-age", "13")
    await club.fill("#f-max-age", "17")
    await club.evaluate("window.scrollTo(0, 0)")
    await screenshot(club, "employer-offer-form", full_page=True)
    await club.click("#f-submit")
    posted = club.locator("#jobs li.card").first
    await posted.wait_for()
    offer_id = await posted.get_attribute("data-vacancy-id")
    text = await posted.inner_text()
    assert "Fritidsaktivitet" in text and "Gratis" in text and "13-17 år" in text
    assert "Fritidsjob" not in text
    stored = (await client.get(f"/v1/vacancies/{offer_id}")).json()
    assert stored["kind"] == "leisure" and stored["job_type"] is None
    assert stored["hours_per_week"] is None and stored["cost_dkk"] == 0
    await screenshot(club, "employer-offer-list")

    # The phone: a notice in the offer's own words, and a card with its kind.
    toast = phone.locator(f'.toast-match[data-vacancy-ids~="{offer_id}"]')
    await toast.wait_for(timeout=15_000)
    assert "Ny fritidsaktivitet" in await toast.inner_text()
    card = phone.locator(f'li.card[data-vacancy-id="{offer_id}"]')
    await card.wait_for()
    card_text = await card.inner_text()
    assert "Fritid" in card_text and "Gratis" in card_text and "t/uge" not in card_text
    await screenshot(phone, "app-offer-card")
    assert phone_errors == [] and club_errors == []
