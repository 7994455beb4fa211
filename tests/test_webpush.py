"""Alerts while the app is closed, end to end: a real server (two workers), real
PostGIS, and a local push service on 127.0.0.1 started here that speaks the real
protocol: it checks each request's VAPID JWT (RFC 8292: ES256 with the `k` key,
`aud` its own origin, `exp` within 24 h, a `sub`) and decrypts the aes128gcm
body (RFC 8291) with the key pair and auth secret the test made as a browser
would. The decryption is written out here from the RFCs, not taken from the
library that encrypts."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import struct
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from matcher.people import home_area
from matcher.settings import Settings
from push import webpush
from tests.builders import auth, birth_date_for_age, new_employer, new_seeker, occupation, remember
from tests.conftest import SUITE_VAPID_KEY, SUITE_VAPID_PEM, ServerProcess, _libpq
from tests.push_client import Phone, push_spot
from tests.test_api_vacancies import offset


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- a browser's side of a subscription, and the push service -------------------


@dataclass
class Browser:
    """What a browser makes on `pushManager.subscribe`: a P-256 key pair and a
    16-byte auth secret; the endpoint is the push service's."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def public(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def subscription(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64u(self.public), "auth": b64u(self.auth_secret)},
        }

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291 section 3.4 with RFC 8188's aes128gcm framing (one record)."""
        salt, rs, idlen = body[:16], struct.unpack(">I", body[16:20])[0], body[20]
        as_public, ciphertext = body[21 : 21 + idlen], body[21 + idlen :]
        assert idlen == 65 and rs >= 18 and len(ciphertext) <= rs
        sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public)
        ecdh_secret = self.key.exchange(ec.ECDH(), sender)
        key_info = b"WebPush: info\x00" + self.public + as_public
        ikm = HKDF(hashes.SHA256(), 32, self.auth_secret, key_info).derive(ecdh_secret)
        cek = HKDF(hashes.SHA256(), 16, salt, b"Content-Encoding: aes128gcm\x00").derive(ikm)
        nonce = HKDF(hashes.SHA256(), 12, salt, b"Content-Encoding: nonce\x00").derive(ikm)
        padded = AESGCM(cek).decrypt(nonce, ciphertext, None)
        text = padded.rstrip(b"\x00")
        assert text[-1:] == b"\x02", "the last record ends with the delimiter 2"
        return text[:-1]


@dataclass
class Received:
    token: str
    headers: dict[str, str]
    body: bytes
    claims: dict[str, Any]
    vapid_key: str


class PushService:
    """A push service on 127.0.0.1: endpoints `/push/<token>`. Every request must
    carry a valid VAPID authorization, or it is refused (and recorded as bad).
    Tokens in `gone` answer 410 Gone, as a real service does for an expired
    subscription; the rest 201 Created."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.bad: list[str] = []
        self.gone: set[str] = set()
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def new_endpoint(self, gone: bool = False) -> str:
        token = secrets.token_urlsafe(24)
        remember(token)  # a capability: no server may log it
        if gone:
            self.gone.add(token)
        return f"{self.origin}/push/{token}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/push/{token}", self._push)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def verify_vapid(self, header: str) -> tuple[dict[str, Any], str]:
        """RFC 8292: `vapid t=<JWT>, k=<public key>`; returns (claims, k)."""
        scheme, _, params = header.partition(" ")
        assert scheme.lower() == "vapid", header[:10]
        fields = dict(p.strip().split("=", 1) for p in params.split(","))
        token, k = fields["t"], fields["k"]
        head_b64, claims_b64, sig_b64 = token.split(".")
        head = json.loads(unb64u(head_b64))
        assert head["alg"] == "ES256" and head.get("typ", "JWT") == "JWT"
        sig = unb64u(sig_b64)
        assert len(sig) == 64, "ES256 signatures are r || s, 32 bytes each"
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64u(k))
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        try:
            public.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise AssertionError("VAPID signature does not verify with k") from None
        claims = json.loads(unb64u(claims_b64))
        assert claims["aud"] == self.origin, claims["aud"]
        now = time.time()
        assert now < claims["exp"] <= now + 24 * 3600 + 60, claims["exp"]
        assert str(claims["sub"]).startswith(("mailto:", "https:")), claims["sub"]
        return claims, k

    async def _push(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        try:
            claims, k = self.verify_vapid(request.headers.get("Authorization", ""))
            assert request.headers["Content-Encoding"] == "aes128gcm"
            assert int(request.headers["TTL"]) > 0
        except (AssertionError, KeyError, ValueError) as exc:
            self.bad.append(f"{type(exc).__name__}: {exc}")
            return web.Response(status=401)
        self.received.append(
            Received(
                token,
                {n.lower(): v for n, v in request.headers.items()},
                await request.read(),
                claims,
                k,
            )
        )
        return web.Response(status=410 if token in self.gone else 201)

    def to(self, endpoint: str) -> list[Received]:
        token = endpoint.rsplit("/", 1)[1]
        return [r for r in self.received if r.token == token]

    async def wait_for(self, endpoint: str, count: int = 1, within: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + within
        while len(self.to(endpoint)) < count:
            assert not self.bad, self.bad
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.to(endpoint))} pushes arrived, wanted {count}")
            await asyncio.sleep(0.05)
        return self.to(endpoint)


# --- fixtures ----------------------------------------------------------------------

# The suite's key (tests/conftest.py): every server on the test database signs with it.
VAPID_KEY = SUITE_VAPID_KEY
VAPID_PEM = SUITE_VAPID_PEM


@pytest.fixture(scope="module")
async def push_service() -> AsyncIterator[PushService]:
    service = PushService()
    await service.start()
    yield service
    await service.stop()


@pytest.fixture(scope="module")
def wp_server(database_url: str, esco_loaded: object) -> Iterator[ServerProcess]:
    srv = ServerProcess(
        database_url,
        workers=2,
        env={
            "JOTR_VAPID_PRIVATE_KEY": VAPID_PEM,
            "JOTR_VAPID_SUBJECT": "mailto:drift@example.org",
            "JOTR_WEBPUSH_ALLOW_LOOPBACK_HTTP": "true",
        },
    )
    srv.start(timeout=240)  # two workers loading ESCO on a shared, busy machine
    yield srv
    srv.stop()


@pytest.fixture
async def api(wp_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=wp_server.base_url, timeout=10.0) as c:
        yield c


async def seeker_at_home(
    api: httpx.AsyncClient, lat: float, lon: float, browser: Browser | None, **kw: Any
) -> dict[str, Any]:
    s = await new_seeker(
        api, birth_date=birth_date_for_age(19), skills=occupation("barista")["essential"][:3],
        preferences={"radius_m": 3000}, **kw,
    )  # fmt: skip
    r = await api.put(
        "/v1/jobseekers/me/home-area",
        json={"lat": lat, "lon": lon, "consent": True},
        headers=auth(s["token"]),
    )
    assert r.status_code == 200, r.text
    if browser is not None:
        r = await api.post(
            "/v1/jobseekers/me/webpush", json=browser.subscription(), headers=auth(s["token"])
        )
        assert r.status_code == 204, r.text
    return s


async def post_vacancy(api: httpx.AsyncClient, key: str, lat: float, lon: float, title: str) -> Any:
    barista = occupation("barista")
    body = {
        "title": title,
        "description": "Kaffebar.",
        "occupation_uri": barista["uri"],
        "location": {"lat": lat, "lon": lon},
        "required_skills": [{"uri": u} for u in barista["essential"][:4]],
        "job_type": "fritidsjob",
        "hours_per_week": 10,
        "min_age": 15,
        "walk_in": False,
    }
    r = await api.post("/v1/vacancies", json=body, headers=auth(key))
    assert r.status_code == 201, r.text
    return r.json()


def match_rows(database_url: str, seeker_id: str, vacancy_id: str) -> int:
    with psycopg.connect(_libpq(database_url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM push_deliveries WHERE jobseeker_id = %s AND vacancy_id = %s"
            " AND kind = 'match'",
            (seeker_id, vacancy_id),
        ).fetchone()
    return int(row[0]) if row else 0


def presence_count(database_url: str, seeker_id: str) -> int:
    with psycopg.connect(_libpq(database_url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM push_presence WHERE jobseeker_id = %s", (seeker_id,)
        ).fetchone()
    return int(row[0]) if row else 0


def subscription_count(database_url: str, seeker_id: str) -> int:
    with psycopg.connect(_libpq(database_url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM webpush_subscriptions WHERE jobseeker_id = %s", (seeker_id,)
        ).fetchone()
    return int(row[0]) if row else 0


# --- end to end ----------------------------------------------------------------------


async def test_a_disconnected_seeker_gets_a_vacancy_in_their_home_area_once_by_web_push(
    api: httpx.AsyncClient, push_service: PushService, database_url: str
) -> None:
    home = push_spot()
    away = Browser(push_service.new_endpoint())
    s = await seeker_at_home(api, *home, away)
    key = (await new_employer(api))["api_key"]

    v = await post_vacancy(api, key, *offset(*home, 900, 45), "Barista i nabolaget")
    [got] = await push_service.wait_for(away.endpoint)
    payload = json.loads(away.decrypt(got.body))
    assert payload["type"] == "match" and payload["vacancy_id"] == v["id"]
    assert payload["title"] == "Barista i nabolaget"
    assert 0 < payload["distance_m"] <= 1400  # from the snapped home point
    assert set(payload) == {"type", "vacancy_id", "title", "distance_m"}  # no position
    # The key the app subscribed with signed it, for this push service's origin.
    r = await api.get("/v1/push/vapid-public-key")
    assert got.vapid_key.rstrip("=") == r.json()["application_server_key"]
    assert r.json()["application_server_key"] == webpush.application_server_key(VAPID_KEY)
    assert got.headers["urgency"] == "normal" and int(got.headers["ttl"]) == 6 * 3600

    # The vacancy changes (both workers hear of it): no second alert. Then a new
    # vacancy nearby arrives, so the change has been handled by then.
    r = await api.patch(f"/v1/vacancies/{v['id']}", json={"hours_per_week": 12}, headers=auth(key))
    assert r.status_code == 200, r.text
    v2 = await post_vacancy(api, key, *offset(*home, 600, 200), "Opvasker")
    both = await push_service.wait_for(away.endpoint, 2)
    ids = [json.loads(away.decrypt(x.body))["vacancy_id"] for x in both]
    assert sorted(ids) == sorted([v["id"], v2["id"]]), ids
    assert match_rows(database_url, s["id"], v["id"]) == 1
    # Far outside the radius (3 km) of the home area: nothing.
    far = await post_vacancy(api, key, *offset(*home, 4500, 0), "Langt væk")
    v3 = await post_vacancy(api, key, *offset(*home, 300, 90), "Tæt på")
    third = await push_service.wait_for(away.endpoint, 3)
    assert json.loads(away.decrypt(third[-1].body))["vacancy_id"] == v3["id"]
    assert match_rows(database_url, s["id"], far["id"]) == 0
    assert len(push_service.to(away.endpoint)) == 3


async def test_a_connected_seeker_gets_it_by_websocket_not_web_push(
    api: httpx.AsyncClient, push_service: PushService, wp_server: ServerProcess, database_url: str
) -> None:
    home = push_spot()
    browser = Browser(push_service.new_endpoint())
    s = await seeker_at_home(api, *home, browser)
    key = (await new_employer(api))["api_key"]
    phone = await Phone.connect(wp_server.base_url, s["token"])
    await phone.move(*home)
    v = await post_vacancy(api, key, *offset(*home, 400, 0), "Café")
    msg = await phone.wait_for("match", within=10)
    assert msg["vacancy"]["id"] == v["id"]
    await phone.close()
    deadline = time.monotonic() + 10
    while presence_count(database_url, s["id"]):  # the server has seen the close
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    # Closed: the next one comes by Web Push, and it is the only one that does.
    v2 = await post_vacancy(api, key, *offset(*home, 500, 180), "Bager")
    [got] = await push_service.wait_for(browser.endpoint)
    assert json.loads(browser.decrypt(got.body))["vacancy_id"] == v2["id"]


async def test_the_persons_rules_hold_for_web_push_too(
    api: httpx.AsyncClient, push_service: PushService, database_url: str
) -> None:
    """Threshold, paused and quiet hours, as for a websocket push."""
    home = push_spot()
    ok, quiet, paused, picky = (Browser(push_service.new_endpoint()) for _ in range(4))
    s_ok = await seeker_at_home(api, *home, ok)
    s_quiet = await seeker_at_home(api, *home, quiet)
    s_paused = await seeker_at_home(api, *home, paused)
    s_picky = await seeker_at_home(api, *home, picky)
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute(
            "UPDATE jobseekers SET quiet_from = '00:00', quiet_until = '23:59' WHERE id = %s",
            (s_quiet["id"],),
        )
        conn.execute("UPDATE jobseekers SET push_paused = true WHERE id = %s", (s_paused["id"],))
        conn.execute("UPDATE jobseekers SET push_min_score = 0.99 WHERE id = %s", (s_picky["id"],))
    key = (await new_employer(api))["api_key"]
    v = await post_vacancy(api, key, *offset(*home, 700, 300), "Kaffe")
    await push_service.wait_for(ok.endpoint)
    # Recorded in the same transaction as the one that was sent: the others were judged.
    for s, b in ((s_quiet, quiet), (s_paused, paused), (s_picky, picky)):
        assert match_rows(database_url, s["id"], v["id"]) == 0
        assert push_service.to(b.endpoint) == []
    assert match_rows(database_url, s_ok["id"], v["id"]) == 1


async def test_a_subscription_the_push_service_calls_gone_is_removed(
    api: httpx.AsyncClient, push_service: PushService, database_url: str
) -> None:
    home = push_spot()
    expired = Browser(push_service.new_endpoint(gone=True))
    s = await seeker_at_home(api, *home, expired)
    assert subscription_count(database_url, s["id"]) == 1
    key = (await new_employer(api))["api_key"]
    await post_vacancy(api, key, *offset(*home, 500, 0), "Kiosk")
    await push_service.wait_for(expired.endpoint)
    deadline = time.monotonic() + 10
    while subscription_count(database_url, s["id"]) != 0:
        assert time.monotonic() < deadline, "the gone subscription is still there"
        await asyncio.sleep(0.05)


# --- the API's answers ----------------------------------------------------------------


async def test_home_area_is_stored_coarse_and_can_be_withdrawn(
    api: httpx.AsyncClient, database_url: str
) -> None:
    s = await new_seeker(api)
    h = auth(s["token"])
    assert (await api.get("/v1/jobseekers/me/home-area", headers=h)).status_code == 404
    lat, lon = 56.1572134, 10.2107123
    r = await api.put(
        "/v1/jobseekers/me/home-area", json={"lat": lat, "lon": lon, "consent": True}, headers=h
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["lat"], out["lon"]) == home_area.snap(lat, lon) != (lat, lon)
    assert out["source"] == "position" and out["grid_m"] == 500 and out["consent_by"] == "jobseeker"
    # What is stored is the snapped point, nothing finer.
    with psycopg.connect(_libpq(database_url)) as conn:
        row = conn.execute(
            "SELECT ST_Y(point::geometry), ST_X(point::geometry) FROM jobseeker_home_areas"
            " WHERE jobseeker_id = %s",
            (s["id"],),
        ).fetchone()
    assert row is not None and (round(row[0], 6), round(row[1], 6)) == home_area.snap(lat, lon)

    r = await api.put(
        "/v1/jobseekers/me/home-area", json={"postcode": "8000", "consent": True}, headers=h
    )
    assert r.status_code == 200 and r.json()["postcode"] == "8000" and r.json()["grid_m"] is None
    assert r.json()["lat"] == pytest.approx(56.15, abs=0.05)
    bad_bodies = [
        {"postcode": "0000", "consent": True},  # no such postcode
        {"postcode": "8000", "lat": 56.1, "lon": 10.2, "consent": True},
        {"lat": 56.1, "consent": True},
        {"postcode": "8000"},  # no consent
        {"postcode": "8000", "consent": False},
        {"postcode": "80000", "consent": True},
    ]
    for body in bad_bodies:
        r = await api.put("/v1/jobseekers/me/home-area", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert set(r.json()["error"]) == {"code", "message", "details"}
    assert (await api.delete("/v1/jobseekers/me/home-area", headers=h)).status_code == 204
    assert (await api.get("/v1/jobseekers/me/home-area", headers=h)).status_code == 404
    assert (await api.put("/v1/jobseekers/me/home-area", json=bad_bodies[0])).status_code == 401


async def test_subscriptions_are_checked_and_can_be_removed(
    api: httpx.AsyncClient, push_service: PushService, database_url: str
) -> None:
    s = await new_seeker(api)
    h = auth(s["token"])
    good = Browser(push_service.new_endpoint()).subscription()
    keys = good["keys"]
    bad = [
        {**good, "endpoint": "http://push.example.org/push/abc"},  # not https
        {**good, "endpoint": "https://10.0.0.5/push/abc"},  # a private network
        {**good, "endpoint": "https://localhost/push/abc"},
        {**good, "endpoint": "https://user:pw@push.example.org/x"},
        {**good, "endpoint": "http://127.0.0.2:9/push/abc"},
        {**good, "keys": {**keys, "p256dh": keys["p256dh"][:-4]}},
        {**good, "keys": {**keys, "auth": b64u(os.urandom(15))}},
        {**good, "keys": {**keys, "p256dh": b64u(b"\x03" + os.urandom(64))}},
        {"endpoint": good["endpoint"]},
    ]
    for body in bad:
        r = await api.post("/v1/jobseekers/me/webpush", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
    assert subscription_count(database_url, s["id"]) == 0
    r = await api.post("/v1/jobseekers/me/webpush", json=good, headers=h)
    assert r.status_code == 204
    r = await api.post("/v1/jobseekers/me/webpush", json=good, headers=h)  # again: one row
    assert subscription_count(database_url, s["id"]) == 1
    r = await api.request(
        "DELETE", "/v1/jobseekers/me/webpush", json={"endpoint": good["endpoint"]}, headers=h
    )
    assert r.status_code == 204 and subscription_count(database_url, s["id"]) == 0
    assert (await api.post("/v1/jobseekers/me/webpush", json=good)).status_code == 401


# --- the app ------------------------------------------------------------------------

# Headless Chromium has no push service, so the Push API's subscribe is replaced
# by one that answers with the test browser's subscription and records what the
# app asked for; everything after it (the POST, the server's checks) is real.
PUSH_MANAGER_STUB = """
window.__subscribeCalls = [];
(() => {
  const SUB = %s;
  let current = null;
  if (!window.PushManager) return;
  PushManager.prototype.subscribe = async function (opts) {
    window.__subscribeCalls.push({
      userVisibleOnly: opts.userVisibleOnly,
      key: Array.from(new Uint8Array(opts.applicationServerKey)),
    });
    current = { endpoint: SUB.endpoint, toJSON: () => SUB, unsubscribe: async () => true };
    return current;
  };
  PushManager.prototype.getSubscription = async function () { return current; };
})();
"""


async def test_the_app_sets_the_home_area_and_switches_alerts_on(
    wp_server: ServerProcess, api: httpx.AsyncClient, push_service: PushService, database_url: str
) -> None:
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    from tests.browser import accessibility_problems, launch, new_context, screenshot, watch_errors

    s = await new_seeker(api, skills=occupation("barista")["essential"][:3])
    browser_sub = Browser(push_service.new_endpoint())
    here = (56.1525, 10.2060)  # Aarhus C
    async with async_playwright() as pw:
        chromium = await launch(pw)
        try:
            context = await new_context(chromium, wp_server.base_url, geolocation=here)
            await context.add_init_script(
                f"localStorage.setItem('jotr.seeker.token', {json.dumps(s['token'])})"
            )
            await context.add_init_script(
                PUSH_MANAGER_STUB % json.dumps(browser_sub.subscription())
            )
            page = await context.new_page()
            errors = watch_errors(page)
            await page.goto("/app")
            await page.wait_for_selector("#home:not([hidden])")
            await page.click('#tabbar [data-view="settings"]')
            await page.locator("#webpush").wait_for()
            assert await page.inner_text("#wp-area") == "Intet område valgt"
            # Alerts need an area first.
            await page.click("#wp-switch")
            await page.wait_for_selector("#wp-switch:not(:checked)")
            await page.fill("#wp-postcode", "8000")
            await page.press("#wp-postcode", "Enter")
            await page.wait_for_function(
                "() => document.querySelector('#wp-area')?.textContent === 'Postnummer 8000'"
            )
            await page.click("#wp-position")
            await page.wait_for_function(
                "() => document.querySelector('#wp-area')?.textContent.startsWith('Omkring dig')"
            )
            r = await api.get("/v1/jobseekers/me/home-area", headers=auth(s["token"]))
            area = r.json()
            assert area["source"] == "position"
            assert (area["lat"], area["lon"]) == home_area.snap(*here)
            await page.click("#wp-switch")
            await page.wait_for_selector("#wp-switch:checked")
            deadline = time.monotonic() + 10
            while subscription_count(database_url, s["id"]) != 1:
                assert time.monotonic() < deadline, "the app did not subscribe"
                await asyncio.sleep(0.05)
            calls = await page.evaluate("window.__subscribeCalls")
            key = (await api.get("/v1/push/vapid-public-key")).json()["application_server_key"]
            assert calls == [{"userVisibleOnly": True, "key": list(unb64u(key))}]
            closers = page.locator(".toast .toast-close")
            while await closers.count():  # the notices sit over the card, as on a phone
                with contextlib.suppress(PlaywrightError):
                    await closers.first.click(timeout=2000)
            await page.locator("#webpush").scroll_into_view_if_needed()
            assert await accessibility_problems(page) == []
            await screenshot(page, "app-webpush")
            assert errors == []
        finally:
            await chromium.close()


# --- the pieces -----------------------------------------------------------------------


def test_snapping_keeps_a_point_within_the_cell_and_is_stable() -> None:
    for lat, lon in [(56.1572134, 10.2107123), (55.676, 12.568), (57.048, 9.919)]:
        s_lat, s_lon = home_area.snap(lat, lon)
        moved = webpush_distance(lat, lon, s_lat, s_lon)
        assert moved <= 500 * 2**0.5 / 2 + 1, moved
        assert home_area.snap(s_lat, s_lon) == (s_lat, s_lon)
        # Anywhere in the same cell gives the same point.
        assert home_area.snap(*offset(lat, lon, 1, 90)) in {
            (s_lat, s_lon),
            home_area.snap(*offset(s_lat, s_lon, 500, 90)),
        }


def webpush_distance(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    from push.rules import haversine_m

    return haversine_m(lat1, lon1, lat2, lon2)


def test_a_vapid_key_is_made_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, vapid_private_key=None)
    first = webpush.load_or_create_key(settings)
    again = webpush.load_or_create_key(settings)
    assert webpush.application_server_key(first) == webpush.application_server_key(again)
    assert (tmp_path / webpush.KEY_FILE).stat().st_mode & 0o077 == 0
    raw = b64u(first.private_numbers().private_value.to_bytes(32, "big"))
    from_raw = webpush.load_or_create_key(Settings(home=tmp_path, vapid_private_key=raw))
    assert webpush.application_server_key(from_raw) == webpush.application_server_key(first)
    with pytest.raises(ValueError):
        webpush.parse_private_key(b64u(os.urandom(31)))


def test_the_service_worker_shows_the_alert_and_opens_the_job() -> None:
    sw = (Path(__file__).resolve().parents[1] / "api" / "static" / "sw.js").read_text()
    assert 'addEventListener("push"' in sw and "showNotification" in sw
    assert "/app#job-" in sw and 'addEventListener("notificationclick"' in sw
