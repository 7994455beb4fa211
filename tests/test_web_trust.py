"""Employer trust in the browser (Debian Chromium): the employer page says it
waits for approval, the console verifies employers and moderates reported jobs,
and a seeker reports a job from the app.

With JOTR_SCREENSHOTS=1: docs/screenshots/employer-verification.png and
console-moderation.png.
"""

from __future__ import annotations

import httpx
import psycopg
from playwright.async_api import Browser, BrowserContext

from tests.browser import DESKTOP, screenshot
from tests.builders import (
    auth,
    birth_date_for_age,
    new_consultant,
    new_employer,
    new_seeker,
    new_vacancy,
    next_spot,
    occupation,
)
from tests.conftest import ServerProcess, _libpq
from tests.test_web_browser import open_page


async def test_employer_waits_for_approval_and_the_console_approves_and_moderates(
    browser: Browser,
    server: ServerProcess,
    client: httpx.AsyncClient,
    contexts: list[BrowserContext],
    database_url: str,
) -> None:
    shop, shop_errors = await open_page(browser, server, contexts)
    await shop.goto("/employer")
    await shop.fill("#emp-name", "Kiosken på Hjørnet")
    await shop.click("#signup-form button[type=submit]")
    status = shop.locator('#trust-status[data-status="unverified"]')
    await status.wait_for()
    text = await status.inner_text()
    assert "Venter på godkendelse" in text and "under 18" in text
    await shop.click("#new-job")
    assert await shop.locator("#f-walkin").is_disabled()
    await shop.click("#f-cancel")
    await status.wait_for()
    await shop.evaluate("window.scrollTo(0, 0)")
    await screenshot(shop, "employer-verification")
    key = await shop.inner_text("#new-key-value")
    employer_id = (await client.get("/v1/employers/me", headers=auth(key))).json()["id"]

    # Another employer's job, reported by three people: hidden until reviewed.
    lat, lon = next_spot()
    other = await new_employer(client, name="Nattevagt ApS")
    v = await new_vacancy(client, other["api_key"], lat, lon, title="Nattevagt", walk_in=False)
    for reason in ("unsafe", "fake", "unsafe"):
        s = await new_seeker(client)
        r = await client.post(
            f"/v1/vacancies/{v['id']}/reports",
            json={"reason": reason, "text": "Løn kun kontant" if reason == "fake" else ""},
            headers=auth(s["token"]),
        )
        assert r.status_code == 201, r.text

    consultant = new_consultant(database_url)
    page, errors = await open_page(browser, server, contexts, viewport=DESKTOP)
    await page.goto("/console")
    await page.fill("#token", consultant["token"])
    await page.click("#login-form button[type=submit]")
    waiting = page.locator(f'#trust-employers li[data-employer-id="{employer_id}"]')
    await waiting.wait_for()
    assert "Kiosken på Hjørnet" in await waiting.inner_text()
    reported = page.locator(f'#moderation li[data-vacancy-id="{v["id"]}"]')
    await reported.wait_for()
    text = await reported.inner_text()
    assert "Skjult" in text and "3 har rapporteret" in text and "Løn kun kontant" in text
    await reported.scroll_into_view_if_needed()
    await screenshot(page, "console-moderation")

    await waiting.get_by_role("button", name="Godkend").click()
    await waiting.wait_for(state="detached")
    me = (await client.get("/v1/employers/me", headers=auth(key))).json()
    assert me["verification"]["status"] == "verified"
    assert me["verification"]["by"] == "consultant"

    await reported.get_by_role("button", name="Behold").click()
    await reported.wait_for(state="detached")
    found = await client.get("/v1/vacancies", params={"lat": lat, "lon": lon, "radius_m": 300})
    assert v["id"] in {f["id"] for f in found.json()["features"]}

    await shop.reload()
    await shop.wait_for_selector('#trust-status[data-status="verified"]')
    await shop.click("#new-job")
    assert not await shop.locator("#f-walkin").is_disabled()
    assert errors == [] and shop_errors == []


async def test_a_seeker_reports_a_job_from_the_app(
    browser: Browser,
    server: ServerProcess,
    client: httpx.AsyncClient,
    contexts: list[BrowserContext],
    database_url: str,
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon, title="Opvasker", walk_in=False)
    seeker = await new_seeker(
        client, birth_date=birth_date_for_age(19),
        skills=list(occupation("barista")["essential"][:3]), preferences={"radius_m": 2000},
    )  # fmt: skip
    phone, errors = await open_page(
        browser, server, contexts, geolocation=(lat, lon), seeker_token=seeker["token"]
    )
    await phone.goto("/app")
    card = phone.locator(f"#job-{v['id']}")
    await card.wait_for()
    for button in await phone.locator(".toast .toast-close").all():
        await button.click()
    await card.get_by_text("Rapportér").click()
    await card.get_by_text("Falsk job").click()
    await card.get_by_placeholder("Skriv mere (hvis du vil)").fill("Findes ikke")
    await card.get_by_role("button", name="Send").click()
    await phone.get_by_text("Tak. Jobcentret kigger på det.").wait_for()
    with psycopg.connect(_libpq(database_url)) as conn:
        rows = conn.execute(
            "SELECT jobseeker_id::text, reason, text FROM vacancy_reports WHERE vacancy_id = %s",
            (v["id"],),
        ).fetchall()
    assert rows == [(seeker["id"], "fake", "Findes ikke")]
    assert errors == []
