"""Issue #14, "alerts with the app closed", as the person sees it: a real Web Push
shown by Debian's Chromium on a real (virtual) X screen.

The chain: the server sends the Web Push (VAPID-signed, RFC 8291-encrypted) to the
local push service of tests/test_webpush.py, which checks and records it; the
test decrypts it with the subscription's keys, as the browser does, and hands
the plaintext to Chromium's push machinery through the DevTools protocol
(`ServiceWorker.deliverPushMessage`: what Chromium does with a message from its
own push service, which a test cannot reach). The app's service worker (/sw.js)
then runs its real `push` handler and Chromium draws its notification popup on
the X screen, which is captured with `xwd`. The notification must name the job,
the distance, carry the app's icon and open /app#job-<id>; a real click on the
popup (xdotool) opens the app's job view through the worker's notificationclick.

Needs Xvfb, xwd and xdotool (Debian: xvfb, x11-apps, xdotool; `ensure_xvfb` in scripts/lib.sh
installs them); skipped with that reason where they are missing. With
JOTR_SCREENSHOTS=1 it saves docs/screenshots/app-notification.png.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from playwright.async_api import ViewportSize, async_playwright

from tests.browser import ARGS, CHROMIUM, SCREENSHOTS, new_context, watch_errors
from tests.builders import new_employer
from tests.conftest import ServerProcess
from tests.push_client import push_spot
from tests.test_api_vacancies import offset
from tests.test_webpush import VAPID_PEM, PushService, post_vacancy, seeker_at_home
from tests.test_webpush import Browser as Subscription
from tests.xscreen import MISSING, WHY_MISSING, capture, click, png, xvfb

pytestmark = pytest.mark.skipif(bool(MISSING), reason=WHY_MISSING)

SCREEN = (820, 960)
WINDOW = (500, 960)  # the browser at the left (Chromium's narrowest); popups appear bottom right
VIEWPORT: ViewportSize = {"width": 500, "height": 870}  # the window less its tab and address bars


@pytest.fixture(scope="module")
def notify_server(database_url: str, esco_loaded: object) -> Iterator[ServerProcess]:
    srv = ServerProcess(
        database_url,
        env={
            "JOTR_VAPID_PRIVATE_KEY": VAPID_PEM,
            "JOTR_VAPID_SUBJECT": "mailto:drift@example.org",
            "JOTR_WEBPUSH_ALLOW_LOOPBACK_HTTP": "true",
        },
    )
    srv.start(timeout=240)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
async def pushes() -> AsyncIterator[PushService]:
    """tests/test_webpush.py's push service: checks VAPID, records the encrypted body."""
    service = PushService()
    await service.start()
    yield service
    await service.stop()


NOTIFICATIONS = """
navigator.serviceWorker.getRegistration('/')
  .then((r) => (r ? r.getNotifications() : []))
  .then((ns) => ns.map((n) => ({title: n.title, body: n.body, icon: n.icon, tag: n.tag,
                               data: n.data})))
"""


async def test_a_web_push_shows_a_real_notification_that_opens_the_job(
    notify_server: ServerProcess, pushes: PushService
) -> None:
    base = notify_server.base_url
    async with httpx.AsyncClient(base_url=base, timeout=10.0) as api:
        home = push_spot()
        phone = Subscription(pushes.new_endpoint())
        seeker = await seeker_at_home(api, *home, phone)
        key = (await new_employer(api, name="Kaffebaren"))["api_key"]

        with xvfb(*SCREEN) as display:
            async with async_playwright() as pw:
                chromium = await pw.chromium.launch(
                    executable_path=CHROMIUM, headless=False,
                    args=[*ARGS, "--window-position=0,0", f"--window-size={WINDOW[0]},{WINDOW[1]}",
                          "--lang=da-DK"],
                    env={**os.environ, "DISPLAY": display},
                )  # fmt: skip
                try:
                    await _alert(chromium, api, base, pushes, phone, seeker, key, home,
                                 display)  # fmt: skip
                finally:
                    await chromium.close()


async def _alert(
    chromium: Any, api: httpx.AsyncClient, base: str, pushes: PushService,
    phone: Subscription, seeker: dict[str, Any], key: str, home: tuple[float, float],
    display: str,
) -> None:  # fmt: skip
    context = await new_context(chromium, base, viewport=VIEWPORT)
    await context.grant_permissions(["notifications"], origin=base)
    page = await context.new_page()
    errors = watch_errors(page)
    # The app installs its service worker; then the app is closed (the landing
    # page stays, so the browser runs): no websocket, so Web Push it is.
    await page.goto("/app")
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await page.goto("/")
    cdp = await context.new_cdp_session(page)
    registrations: dict[str, dict[str, Any]] = {}
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.update({r["registrationId"]: r for r in e["registrations"]}),
    )
    await cdp.send("ServiceWorker.enable")

    v = await post_vacancy(api, key, *offset(*home, 700, 45), "Barista i weekenden")
    [got] = await pushes.wait_for(phone.endpoint)
    message = phone.decrypt(got.body).decode()
    assert json.loads(message)["vacancy_id"] == v["id"]

    deadline = time.monotonic() + 10
    ours: list[dict[str, Any]] = []
    while not ours:
        assert time.monotonic() < deadline, registrations
        ours = [r for r in registrations.values()
                if r["scopeURL"] == f"{base}/" and not r["isDeleted"]]  # fmt: skip
        await asyncio.sleep(0.05)
    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": base, "registrationId": ours[0]["registrationId"], "data": message},
    )
    deadline = time.monotonic() + 10
    while not (found := await page.evaluate(NOTIFICATIONS)):
        assert time.monotonic() < deadline, "the service worker showed no notification"
        await asyncio.sleep(0.1)
    [shown] = found
    assert shown["title"] == "Nyt job tæt på", shown
    assert shown["body"].startswith("Barista i weekenden · ") and "fra dit område" in shown["body"]
    assert shown["icon"] == f"{base}/static/icons/icon-192.png"
    assert shown["tag"] == f"job-{v['id']}"
    assert shown["data"] == {"url": f"/app#job-{v['id']}"}

    # Chromium drew its popup on the screen, beside the window: light pixels on
    # the empty (black) X root at the bottom right, where nothing else is drawn.
    await asyncio.sleep(0.5)
    screen = capture(display)
    corner = screen[SCREEN[1] // 2 :, WINDOW[0] + 10 :]
    assert (screen[: SCREEN[1] // 2, WINDOW[0] + 10 :].max(axis=2) < 30).all(), "not a bare root"
    assert (corner.min(axis=2) > 200).sum() > 5000, "no notification popup on the screen"
    if os.environ.get("JOTR_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "app-notification.png").write_bytes(png(screen))

    # A tap on the popup (a real X click): the service worker's notificationclick
    # opens the app at the job (no app window is open, so a new one), signed in.
    await page.evaluate(f"localStorage.setItem('jotr.seeker.token', {json.dumps(seeker['token'])})")
    ys, xs = (corner.min(axis=2) > 200).nonzero()
    x, y = WINDOW[0] + 10 + int(xs.min()) + 40, SCREEN[1] // 2 + int((ys.min() + ys.max()) // 2)
    async with context.expect_page() as opened:
        click(display, x, y)
    app = await opened.value
    app_errors = watch_errors(app)
    await app.locator("#jobview #jobview-title").wait_for()
    assert app.url == f"{base}/app#job-{v['id']}"
    assert await app.inner_text("#jobview-title") == "Barista i weekenden"
    assert errors == [] and app_errors == []
