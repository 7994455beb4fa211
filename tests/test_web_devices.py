""" "Mine enheder" in Debian's Chromium: a person signed in on an iPhone and,
by passkey, on an Android phone sees both in Mig on the Android one, this one
marked; "Log ud" on the iPhone signs it out (its token gets 401) and leaves
this one signed in. The passkey sign-in itself is the API's (tests/test_devices.py);
tests/test_web_passkeys.py drives it in the browser."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from tests.browser import (
    accessibility_problems,
    horizontal_overflow,
    launch,
    new_context,
    screenshot,
    watch_errors,
)
from tests.builders import auth, new_seeker
from tests.conftest import ServerProcess
from tests.test_devices import IPHONE_SAFARI, second_device

AARHUS_C = (56.1529, 10.2039)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await launch(pw)
        yield b
        await b.close()


@pytest.mark.parametrize("lang", ["da", "en"])
async def test_my_devices_lists_both_phones_and_signs_the_lost_one_out(
    browser: Browser, server: ServerProcess, lang: str
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10.0) as client:
        client.headers["User-Agent"] = IPHONE_SAFARI  # the phone that signed up
        s = await new_seeker(client, display_name="Enhedsperson")
        del client.headers["User-Agent"]
        token_b = await second_device(client, s["token"])  # Chrome on Android

        context = await new_context(
            browser,
            server.base_url,
            geolocation=AARHUS_C,
            locale="da-DK" if lang == "da" else "en-GB",
        )
        try:
            await context.add_init_script(
                f"localStorage.setItem('jotr.seeker.token', {json.dumps(token_b)});"
                f"localStorage.setItem('jotr.lang', {json.dumps(lang)})"
            )
            page = await context.new_page()
            errors = watch_errors(page)
            await page.goto("/app")
            await page.locator("#tabbar button[data-view=settings]").click()
            rows = page.locator("#dev-list li")
            await rows.nth(1).wait_for()
            assert await rows.count() == 2
            iphone, android = rows.nth(0), rows.nth(1)
            await iphone.get_by_text("Safari · iPhone").wait_for()
            this = "Denne enhed" if lang == "da" else "This device"
            await android.get_by_text(this).wait_for()
            assert await android.locator("button").count() == 0  # no "Log ud" on itself
            await page.locator("#devices").scroll_into_view_if_needed()
            assert await horizontal_overflow(page) == 0
            assert await accessibility_problems(page) == []
            if lang == "da":
                await screenshot(page, "app-devices")

            page.once("dialog", lambda d: d.accept())
            label = "Log Safari · iPhone ud" if lang == "da" else "Sign out Safari · iPhone"
            await page.get_by_role("button", name=label).click()
            await rows.nth(1).wait_for(state="detached")
            assert await rows.count() == 1
            r = await client.get("/v1/jobseekers/me", headers=auth(s["token"]))
            assert r.status_code == 401
            r = await client.get("/v1/jobseekers/me", headers=auth(token_b))
            assert r.status_code == 200
            assert errors == []
        finally:
            await context.close()
