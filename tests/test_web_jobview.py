"""Issue #14 in headless Chromium against the real server: the job view (from a
card, a pin and a link as a notification or share page opens it), "Jeg er
interesseret" sent from the app, answered on the employer page, and the answer
arriving on the phone as a push.

With JOTR_SCREENSHOTS=1 it saves docs/screenshots/app-job.png, app-interest.png
and employer-interest.png.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from playwright.async_api import Browser, BrowserContext, Page

from tests.browser import new_context, screenshot, watch_errors
from tests.builders import auth, birth_date_for_age, new_employer, new_vacancy, signup_consent
from tests.conftest import ServerProcess
from tests.test_web_browser import barista_profile, close_toasts

HASLE = (56.1770, 10.1630)  # a patch of Aarhus no other browser test uses
CAFE = (56.1782, 10.1640)  # ~150 m away

APPLY = {"url": "https://job.example.dk/barista", "phone": "86 12 34 56",
         "how": "Tag gerne en ven med"}  # fmt: skip
SCHEDULE = [{"days": ["sat", "sun"], "start": "09:00", "end": "15:00"}]


async def page_with(
    browser: Browser, server: ServerProcess, contexts: list[BrowserContext], key: str, secret: str,
    **kw: Any,
) -> tuple[Page, list[str]]:  # fmt: skip
    context = await new_context(browser, server.base_url, **kw)
    contexts.append(context)
    await context.add_init_script(f"localStorage.setItem({json.dumps(key)}, {json.dumps(secret)})")
    page = await context.new_page()
    return page, watch_errors(page)


async def setup(client: httpx.AsyncClient) -> tuple[dict, dict, dict]:
    profile = await barista_profile(client)
    skills = [s["uri"] for s in profile["essential"]]
    r = await client.post("/v1/jobseekers", json={
        "birth_date": birth_date_for_age(17), "finished_compulsory_school": True,
        "display_name": "Sofie Jensen", "skills": skills, "preferences": {"radius_m": 2000},
        "consent": signup_consent(),
    })  # fmt: skip
    assert r.status_code == 201, r.text
    seeker = r.json()
    # She said yes to location in the app before (tests/test_web_consent.py asks it).
    r = await client.put(
        "/v1/jobseekers/me/consents/location", json={"granted": True},
        headers=auth(seeker["token"]),
    )  # fmt: skip
    assert r.status_code == 200, r.text
    emp = await new_employer(client, name="Café Hasle")
    v = await new_vacancy(
        client, emp["api_key"], *CAFE, title="Barista i weekenden", walk_in=False,
        occupation_uri=profile["uri"], address="Hasle Torv 3, 8210 Aarhus V",
        required_skills=[{"uri": u} for u in skills[:3]], pay={"kind": "hourly", "dkk": 130},
        apply=APPLY, schedule=SCHEDULE, workplace_kind="restaurant",
        description="Du laver kaffe og smiler til gæsterne.\\nVi lærer dig op.",
    )  # fmt: skip
    return seeker, emp, v


async def test_the_job_view_opens_from_a_card_a_pin_and_a_link(
    browser: Browser, server: ServerProcess, client: httpx.AsyncClient,
    contexts: list[BrowserContext],
) -> None:  # fmt: skip
    seeker, _, v = await setup(client)
    page, errors = await page_with(
        browser, server, contexts, "jotr.seeker.token", seeker["token"], geolocation=HASLE
    )
    await page.goto("/app")
    card = page.locator(f"#job-{v['id']}")
    await card.wait_for()
    await page.wait_for_timeout(500)  # the pushes that follow the first position
    await close_toasts(page)

    await card.get_by_role("link", name=v["title"]).click()  # from a card
    view = page.locator("#jobview")
    await view.locator("#jobview-title").wait_for()
    assert page.url.endswith(f"#job-{v['id']}")
    text = await view.inner_text()
    expected = [
        "130 kr. i timen", "Café Hasle", "Hasle Torv 3", "Lør, Søn 09:00–15:00",
        "Vi lærer dig op", "Tag gerne en ven med", "Det kan du:", "Jeg er interesseret",
    ]  # fmt: skip
    for part in expected:
        assert part in text, part
    assert await view.locator('a[href="https://job.example.dk/barista"]').count() == 1
    assert await view.locator('a[href="tel:+4586123456"]').count() == 1
    await view.locator(f'.leaflet-marker-icon[data-vacancy-id="{v["id"]}"]').wait_for()
    await screenshot(page, "app-job")

    await page.click("#jobview-close")
    await view.wait_for(state="hidden")
    await page.locator(f'#map .leaflet-marker-icon[data-vacancy-id="{v["id"]}"]').click()  # a pin
    await view.locator("#jobview-title").wait_for()
    await page.click("#jobview-close")

    # A notification's and a share page's link ("Åbn i appen") is /app#job-<id>.
    share = await client.get(f"/v/{v['id']}")
    assert f'href="/app#job-{v["id"]}"' in share.text
    await page.goto(f"/app#job-{v['id']}")
    await page.locator("#jobview #jobview-title").wait_for()
    assert await page.inner_text("#jobview-title") == v["title"]
    assert errors == []


async def test_interest_reaches_the_employer_and_the_answer_comes_back(
    browser: Browser, server: ServerProcess, client: httpx.AsyncClient,
    contexts: list[BrowserContext],
) -> None:  # fmt: skip
    seeker, emp, v = await setup(client)
    phone, phone_errors = await page_with(
        browser, server, contexts, "jotr.seeker.token", seeker["token"], geolocation=HASLE
    )
    await phone.goto(f"/app#job-{v['id']}")
    await phone.wait_for_selector('#conn[data-state="open"]')
    view = phone.locator("#jobview")
    await view.locator("#interest-open").click()
    sheet = view.locator("#interest-sheet")
    await sheet.wait_for()
    await sheet.locator("#interest-send").click()  # neither phone nor e-mail: asked for one
    assert "telefonnummer" in await sheet.locator(".error").inner_text()
    await sheet.locator("#interest-phone").fill("20 30 40 50")
    await sheet.locator("#interest-message").fill("Jeg kan starte på lørdag!")
    await close_toasts(phone)
    await sheet.evaluate("e => e.scrollIntoView({block: 'start'})")
    await screenshot(phone, "app-interest")
    await sheet.locator("#interest-send").click()
    await view.locator("#jobview-reply").wait_for()
    assert "Venter på svar" in await view.locator("#jobview-reply").inner_text()
    # The "applied" signal is still recorded for feedback and learning.
    fb = await client.get("/v1/jobseekers/me/feedback", params={"action": "applied"},
                          headers=auth(seeker["token"]))  # fmt: skip
    assert [i["vacancy_id"] for i in fb.json()["items"]] == [v["id"]]

    shop, shop_errors = await page_with(
        browser, server, contexts, "jotr.employer.key", emp["api_key"]
    )
    await shop.goto("/employer")
    count = shop.locator(f'[data-interest="{v["id"]}"]')
    await count.wait_for()
    assert "1 interesseret" in await count.inner_text() and "1 nye" in await count.inner_text()
    await count.click()
    person = shop.locator(f'[data-interest-list="{v["id"]}"] li').first
    await person.wait_for()
    who = await person.inner_text()
    assert "Sofie" in who and "17 år" in who and "+45 20 30 40 50" in who
    assert "Jeg kan starte på lørdag!" in who
    await person.locator("input").fill("Kom forbi lørdag kl. 10")
    await screenshot(shop, "employer-interest")
    await person.locator('[data-reply="come_by"]').click()
    await shop.locator(f'[data-interest-list="{v["id"]}"] li [role="status"]').wait_for()
    # The editor sets pay too: a range now.
    await (
        shop.locator(f'#jobs [data-vacancy-id="{v["id"]}"]')
        .get_by_role("button", name="Ret", exact=True)
        .click()
    )
    assert await shop.input_value("#f-pay-kind") == "hourly"
    assert await shop.input_value("#f-pay-dkk") == "130"
    await shop.select_option("#f-pay-kind", "range")
    await shop.fill("#f-pay-min", "120")
    await shop.fill("#f-pay-max", "150")
    await shop.click("#job-form button[type=submit]")
    await shop.wait_for_selector("#dashboard:not([hidden])")
    stored = (await client.get(f"/v1/vacancies/{v['id']}")).json()
    assert stored["pay"] == {"kind": "range", "min_dkk": 120, "max_dkk": 150}

    # The answer reaches the phone as a push: a notice and the open job view.
    reply = view.locator("#jobview-reply.come_by")
    await reply.wait_for(timeout=15_000)
    assert "Kom forbi lørdag kl. 10" in await reply.inner_text()
    await phone.locator(".toast", has_text="Svar fra Café Hasle").wait_for()
    assert phone_errors == [] and shop_errors == []


async def test_the_app_follows_the_phones_language_and_share_links_carry_it(
    browser: Browser, server: ServerProcess, client: httpx.AsyncClient,
    contexts: list[BrowserContext],
) -> None:  # fmt: skip
    seeker, _, v = await setup(client)
    # A phone set to British English opens a notification's link.
    page, errors = await page_with(
        browser, server, contexts, "jotr.seeker.token", seeker["token"], geolocation=HASLE,
        locale="en-GB",
    )  # fmt: skip
    # The phone's share sheet (navigator.share), recorded: what the app hands it.
    await page.add_init_script("window.__shared = []; navigator.share = async (d) => {"
                               " window.__shared.push(d); };")  # fmt: skip
    await page.goto(f"/app#job-{v['id']}")
    view = page.locator("#jobview")
    await view.locator("#jobview-title").wait_for()
    text = await view.inner_text()
    for part in ("DKK 130 an hour", "How to apply", "I'm interested", "Sat, Sun 09:00–15:00"):
        assert part in text, (part, text)
    await page.click("#jobview-close")
    card = page.locator(f"#job-{v['id']}")
    await card.wait_for()
    await close_toasts(page)
    await card.locator('[data-action="share"]').click()
    await page.wait_for_function("window.__shared.length > 0")
    shared = await page.evaluate("window.__shared[0].url")
    assert shared == f"{server.base_url}/v/{v['id']}?lang=en"

    # A friend whose phone is in Danish opens the link: the page and the app stay English.
    friend, friend_errors = await page_with(
        browser, server, contexts, "jotr.seeker.token", seeker["token"], geolocation=HASLE
    )
    await friend.goto(shared.removeprefix(server.base_url))
    assert await friend.get_attribute("html", "lang") == "en"
    open_app = friend.get_by_role("link", name="Open in the app")
    assert await open_app.get_attribute("href") == f"/app?lang=en#job-{v['id']}"
    await open_app.click()
    await friend.locator("#jobview #jobview-title").wait_for()
    assert "How to apply" in await friend.locator("#jobview").inner_text()
    assert errors == [] and friend_errors == []


async def test_a_map_destroyed_at_once_leaves_no_page_error(
    browser: Browser, server: ServerProcess, contexts: list[BrowserContext]
) -> None:
    """The job view re-renders (an answer arrives, "Jeg er interesseret" is sent)
    and replaces its small map within the map's first 50 ms: its delayed resize
    must not touch the removed map (it read a removed pane: `_leaflet_pos`)."""
    context = await new_context(browser, server.base_url)
    contexts.append(context)
    page = await context.new_page()
    errors = watch_errors(page)
    await page.goto("/static/share.html")
    await page.add_script_tag(url="/static/vendor/leaflet/leaflet.js")
    await page.evaluate(
        """async () => {
          const { JobMap } = await import("/static/js/map.js");
          const box = document.createElement("div");
          box.style.cssText = "width:300px;height:200px";
          document.body.append(box);
          const map = new JobMap(box, { zoom: 16 });
          map.destroy();
          box.remove();
          // Registered after the map's own 50 ms resize timer with the same
          // delay, so it runs after it: an ordered probe, not a guess.
          await new Promise((done) => setTimeout(done, 50));
        }"""
    )
    assert errors == []
