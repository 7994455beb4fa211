"""Invite code in a real Chromium: the consultant makes a code in the console, the
young person enters it under "Din jobkonsulent" in the app and says yes, then
stops sharing again. With JOTR_SCREENSHOTS=1 the screens go to docs/screenshots/."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest
from playwright.async_api import Browser, async_playwright

from tests.browser import (
    DESKTOP,
    accessibility_problems,
    launch,
    new_context,
    screenshot,
    watch_errors,
)
from tests.builders import auth, new_consultant, new_seeker
from tests.conftest import ServerProcess, _libpq


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await launch(pw)
        yield b
        await b.close()


async def test_a_young_person_links_with_the_consultants_code_and_stops_sharing(
    browser: Browser, server: ServerProcess, client: httpx.AsyncClient, database_url: str
) -> None:
    consultant = new_consultant(database_url)
    seeker = await new_seeker(client)

    desk = await new_context(browser, server.base_url, viewport=DESKTOP)
    console = await desk.new_page()
    console_errors = watch_errors(console)
    await console.goto("/console")
    await console.fill("#token", consultant["token"])
    await console.click("#login-form button[type=submit]")
    await console.get_by_role("button", name="Invitér en ung").click()
    await console.locator("#invite-code:not([hidden])").wait_for()
    shown = await console.locator("#invite-code").inner_text()
    match = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}", shown)
    assert match, shown
    await screenshot(console, "console-invite")
    await desk.close()

    phone = await new_context(browser, server.base_url)
    await phone.add_init_script(f"localStorage.setItem('jotr.seeker.token', '{seeker['token']}')")
    page = await phone.new_page()
    errors = watch_errors(page)
    await page.goto("/app")
    await page.click('#tabbar [data-view="settings"]')
    card = page.locator("#consultant-link[data-loaded]")
    await card.get_by_role("heading", name="Din jobkonsulent").wait_for()
    await page.fill("#link-code", match.group(0).lower())
    # Without the yes nothing is sent.
    await page.click("#link-submit")
    await card.get_by_text("Sæt hak").wait_for()
    await page.check("#link-consent")
    await page.click("#link-submit")
    await card.get_by_text("Forbundet med Test Konsulent").wait_for()
    await screenshot(page, "app-consultant-link")
    assert await accessibility_problems(page) == []
    r = await client.get("/v1/consultants/me/caseload", headers=auth(consultant["token"]))
    assert seeker["id"] in [p["id"] for p in r.json()["jobseekers"]]

    page.once("dialog", lambda d: d.accept())
    await page.click("#link-leave")
    await page.locator("#link-code").wait_for()
    with psycopg.connect(_libpq(database_url)) as conn:
        row = conn.execute(
            "SELECT share_with_municipality FROM jobseekers WHERE id = %s", (seeker["id"],)
        ).fetchone()
    assert row == (False,)
    await phone.close()
    assert errors == [] and console_errors == []
