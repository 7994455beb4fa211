"""The consent steps in headless Chromium against the real server: the privacy
notice as its own sign-up step with pictures, the parents' notice and contact
for a 14-year-old, the location question on its own before the browser's
prompt (no position without a yes), and the employer form's reminder to
inform the parents. With JOTR_SCREENSHOTS=1: docs/screenshots/app-consent.png."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext

from matcher.people.consent import current_version
from tests.browser import accessibility_problems, horizontal_overflow, screenshot
from tests.builders import auth, birth_date_for_age
from tests.conftest import ServerProcess
from tests.test_web_browser import (
    BRABRAND,
    barista_profile,
    has_position,
    new_seeker,
    open_page,
    wait_until,
)


async def test_a_14_year_old_signs_up_with_consent_a_parent_and_no_location(
    browser: Browser,
    server: ServerProcess,
    client: httpx.AsyncClient,
    contexts: list[BrowserContext],
    database_url: str,
) -> None:
    await barista_profile(client)
    page, errors = await open_page(browser, server, contexts, geolocation=BRABRAND)
    await page.goto("/app")
    await page.click("#ob-start")
    # The notice: its own step, a picture and a few words per point.
    points = page.locator("#privacy-notice li")
    await points.first.wait_for()
    assert await points.count() >= 6
    assert await page.locator("#privacy-notice .notice-icon").count() == await points.count()
    assert "Hvor du er" in await page.inner_text("#privacy-notice")
    assert current_version() in await page.inner_text("#onboarding")
    await screenshot(page, "app-consent", full_page=True)
    assert await horizontal_overflow(page) == 0
    assert await accessibility_problems(page) == []
    # No yes, no next.
    await page.click("#ob-next-privacy")
    await page.get_by_text("Sæt flueben, hvis du siger ja.").wait_for()
    await page.check("#ob-consent")
    await page.click("#ob-next-privacy")

    # 14 and in school: the parents' notice, and a parent to add.
    await page.fill("#ob-birth", birth_date_for_age(14))
    await page.check("input[name=ob-school][value=false]")
    notice = page.get_by_text("Arbejdsgiveren skal fortælle dine forældre om jobbet.")
    await notice.wait_for()
    await page.locator("#ob-parents summary").click()
    await page.fill("#ob-parent-name", "Mor Jensen")
    await page.fill("#ob-parent-phone", "+45 20 30 40 50")
    await page.click("#ob-next")
    await page.get_by_role("button", name="Café").click()
    await page.locator("#onboarding .chips .chip", has_text="barista").first.click()
    await page.wait_for_selector("#ob-skills")
    await page.locator("#ob-skills input[type=checkbox]").first.check()
    await page.get_by_role("button", name="Næste").click()
    await page.get_by_role("button", name="Næste").click()  # the quiz may be skipped
    await page.get_by_role("button", name="Næste").click()
    await page.click("#ob-finish")

    # The location question comes on its own, before the browser is asked.
    await page.wait_for_selector("#location-consent")
    await screenshot(page, "app-location-consent")
    await page.click("#loc-no")
    await page.wait_for_selector("#home:not([hidden])")
    token = await page.evaluate("localStorage.getItem('jotr.seeker.token')")
    me = (await client.get("/v1/jobseekers/me", headers=auth(token))).json()
    assert me["parent_contact"] == {"name": "Mor Jensen", "phone": "+45 20 30 40 50"}
    assert me["parents_informed"] is True
    consents = (await client.get("/v1/jobseekers/me/consents", headers=auth(token))).json()
    assert consents["service"]["granted"]
    assert consents["service"]["notice_version"] == current_version()
    assert not consents["location"]["granted"]
    # The app never sent a position: the push socket is open, nothing was stored.
    await page.wait_for_selector('#conn[data-state="open"]')
    assert not has_position(database_url, me["id"])
    assert errors == []


async def test_saying_yes_to_location_later_starts_the_position(
    browser: Browser,
    server: ServerProcess,
    client: httpx.AsyncClient,
    contexts: list[BrowserContext],
    database_url: str,
) -> None:
    profile = await barista_profile(client)
    seeker = await new_seeker(client, [s["uri"] for s in profile["essential"]])
    h = auth(seeker["token"])
    r = await client.put("/v1/jobseekers/me/consents/location", json={"granted": False}, headers=h)
    assert r.status_code == 200
    page, errors = await open_page(
        browser, server, contexts, geolocation=BRABRAND, seeker_token=seeker["token"]
    )
    await page.goto("/app")
    await page.wait_for_selector("#location-consent")
    assert not has_position(database_url, seeker["id"])
    await page.click("#loc-yes")
    await wait_until(lambda: has_position(database_url, seeker["id"]))
    # "Mig": location off again erases the stored position; a copy of my data.
    await page.click('#tabbar [data-view="settings"]')
    toggle = page.locator("#loc-toggle")
    await page.wait_for_selector("#loc-toggle:checked:not([disabled])")
    await toggle.uncheck()
    await wait_until(lambda: not has_position(database_url, seeker["id"]))
    async with page.expect_download() as download_info:
        await page.click("#export-me")
    download = await download_info.value
    assert download.suggested_filename.endswith(".json")
    path = await download.path()
    copy = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
    assert copy["jobseeker_id"] == seeker["id"] and copy["tables"]["jobseekers"]
    assert errors == []


@pytest.mark.parametrize(("min_age", "light", "shown"), [(15, False, False), (13, False, True),
                                                         (15, True, True)])  # fmt: skip
async def test_employer_form_reminds_to_inform_the_parents(
    browser: Browser,
    server: ServerProcess,
    contexts: list[BrowserContext],
    min_age: int,
    light: bool,
    shown: bool,
) -> None:
    page, errors = await open_page(browser, server, contexts)
    await page.goto("/employer")
    await page.fill("#emp-name", "Kiosken")
    await page.click("#signup-form button[type=submit]")
    await page.wait_for_selector("#dashboard:not([hidden])")
    await page.click("#new-job")
    await page.select_option("#f-age", str(min_age))
    await page.locator("#f-light").set_checked(light)
    assert await page.locator("#f-parents").is_visible() is shown
    if shown:
        assert "fortælle forældrene" in await page.inner_text("#f-parents")
    assert errors == []
