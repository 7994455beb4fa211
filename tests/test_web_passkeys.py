"""A profile survives a lost phone, in Debian's Chromium: the app makes a passkey
on phone A (a CDP virtual authenticator), the passkey reaches phone B (as a
synced passkey does), and B signs in with it from the welcome screen and shows
the same profile. The page is served on http://localhost (WebAuthn needs a
secure context and a domain for its RP id)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, CDPSession, Page, async_playwright

from tests.browser import launch, new_context, screenshot, watch_errors
from tests.builders import auth, birth_date_for_age, occupation, signup_consent
from tests.conftest import ServerProcess

AARHUS_C = (56.1529, 10.2039)
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await launch(pw)
        yield b
        await b.close()


async def phone(
    browser: Browser, base_url: str, opened: list[BrowserContext], token: str | None = None
) -> tuple[Page, CDPSession, str, list[str]]:
    context = await new_context(browser, base_url, geolocation=AARHUS_C)
    opened.append(context)
    if token:
        await context.add_init_script(
            f"localStorage.setItem('jotr.seeker.token', {json.dumps(token)})"
        )
    page = await context.new_page()
    errors = watch_errors(page)
    cdp = await context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    found = await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return page, cdp, found["authenticatorId"], errors


async def test_a_passkey_made_on_one_phone_signs_in_on_another(
    browser: Browser, server: ServerProcess
) -> None:
    base = server.base_url.replace("127.0.0.1", "localhost")
    opened: list[BrowserContext] = []
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10.0) as client:
            r = await client.post(
                "/v1/jobseekers",
                json={
                    "birth_date": birth_date_for_age(19), "display_name": "Nanna",
                    "skills": list(occupation("barista")["essential"][:3]),
                    "preferences": {"radius_m": 2000}, "consent": signup_consent(),
                },
            )  # fmt: skip
            assert r.status_code == 201, r.text
            seeker = r.json()
            r = await client.put(  # location was said yes to (tests/test_web_consent.py asks)
                "/v1/jobseekers/me/consents/location", json={"granted": True},
                headers=auth(seeker["token"]),
            )  # fmt: skip
            assert r.status_code == 200, r.text

            # Phone A: Mig → "Log ind på en ny telefon" → make a passkey.
            a, cdp_a, auth_a, errors_a = await phone(browser, base, opened, seeker["token"])
            await a.goto("/app")
            await a.locator("#tabbar button[data-view=settings]").click()
            await a.locator("#pk-create").click()
            await a.locator("#pk-count").filter(has_text="1").wait_for()
            await a.locator("#passkeys").scroll_into_view_if_needed()
            await screenshot(a, "app-passkey")
            listed = await client.get("/v1/jobseekers/me/passkeys", headers=auth(seeker["token"]))
            assert len(listed.json()["passkeys"]) == 1

            # The passkey syncs to phone B (the platform's job; here CDP carries it).
            creds = await cdp_a.send("WebAuthn.getCredentials", {"authenticatorId": auth_a})
            [cred] = creds["credentials"]
            assert cred["isResidentCredential"] and cred["rpId"] == "localhost"

            b, cdp_b, auth_b, errors_b = await phone(browser, base, opened)
            await cdp_b.send(
                "WebAuthn.addCredential", {"authenticatorId": auth_b, "credential": cred}
            )
            await b.goto("/app")
            await b.locator("#ob-passkey").click()  # "Jeg har allerede en profil"
            await b.locator("#home").wait_for(state="visible")
            token_b: Any = await b.evaluate("localStorage.getItem('jotr.seeker.token')")
            assert token_b and token_b != seeker["token"]
            me = await client.get("/v1/jobseekers/me", headers=auth(token_b))
            assert me.status_code == 200 and me.json()["id"] == seeker["id"]
            # Phone A stays signed in: B is a device of its own (matcher/people/devices.py).
            me_a = await client.get("/v1/jobseekers/me", headers=auth(seeker["token"]))
            assert me_a.status_code == 200
            await b.locator("#tabbar button[data-view=settings]").click()
            await b.get_by_text("Nanna").first.wait_for()
            assert errors_a == [] and errors_b == []
    finally:
        for c in opened:
            await c.close()
