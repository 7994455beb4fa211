"""A jobseeker's signed-in devices (matcher/people/devices.py) over the real API and
real websockets: a passkey sign-in on a second phone leaves the first working,
rotating is per device, signing a lost phone out closes only its sockets, and a
consultant's re-issue or an operator's revoke signs every device out.
Also the migration that moved `jobseekers.token_hash` into `seeker_devices`."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from websockets.exceptions import ConnectionClosed

from alembic import command
from matcher.people.devices import label_of
from matcher.people.tokens import Principal, new_secret
from matcher.settings import get_settings
from tests.builders import (
    auth,
    new_consultant,
    new_employer,
    new_seeker,
    new_vacancy,
    next_spot,
    remember,
)
from tests.conftest import ServerProcess, _libpq, alembic_config, create_database, drop_database
from tests.push_client import Phone
from tests.test_passkeys import register, sign_in_options
from tests.webauthn_soft import SoftAuthenticator

ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


async def second_device(
    client: httpx.AsyncClient, token: str, user_agent: str = ANDROID_CHROME
) -> str:
    """Register a passkey with `token`'s phone, then sign in with it on another
    (which sends `user_agent`); returns the new phone's token."""
    authn = SoftAuthenticator()
    assert (await register(client, token, authn)).status_code == 201
    c = await sign_in_options(client)
    r = await client.post(
        "/v1/passkeys/authentication",
        json={"ceremony_id": c["ceremony_id"], "credential": authn.get(c["options"])},
        headers={"User-Agent": user_agent},
    )
    assert r.status_code == 200, r.text
    token_b: str = r.json()["token"]
    remember(token_b)
    return token_b


async def status_of(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get("/v1/jobseekers/me", headers=auth(token))).status_code


async def devices_of(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    r = await client.get("/v1/jobseekers/me/devices", headers=auth(token))
    assert r.status_code == 200, r.text
    listed: list[dict[str, Any]] = r.json()["devices"]
    return listed


def audit_actions(database_url: str, seeker_id: str) -> list[str]:
    with psycopg.connect(_libpq(database_url)) as db:
        return [
            a for (a,) in db.execute(
                "SELECT action FROM audit_log WHERE subject_id = %s ORDER BY id", (seeker_id,)
            )
        ]  # fmt: skip


def test_a_device_label_is_a_family_never_the_user_agent() -> None:
    assert label_of(ANDROID_CHROME) == "Chrome · Android"
    assert label_of(IPHONE_SAFARI) == "Safari · iPhone"
    firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
    assert label_of(firefox) == "Firefox · Windows"
    samsung = ANDROID_CHROME.replace("Chrome/131", "SamsungBrowser/26.0 Chrome/131")
    assert label_of(samsung) == "Samsung Internet · Android"
    edge = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0"
    assert label_of(edge) == "Edge · Windows"
    assert label_of("python-httpx/0.28.1") == ""
    assert label_of(None) == ""
    assert len(label_of("Chrome/1 Android " + "x" * 1000)) <= 40


async def test_a_second_phone_signs_in_and_both_keep_working(
    client: httpx.AsyncClient, database_url: str
) -> None:
    s = await new_seeker(client, display_name="Tofoner")
    token_a = s["token"]
    token_b = await second_device(client, token_a)
    assert token_b != token_a
    assert await status_of(client, token_a) == 200
    assert await status_of(client, token_b) == 200

    # Each phone sees both, itself marked; no hash, no User-Agent beyond the family.
    seen_by_b = await devices_of(client, token_b)
    assert [d["label"] for d in seen_by_b] == ["", "Chrome · Android"]
    assert [d["current"] for d in seen_by_b] == [False, True]
    assert [d["current"] for d in await devices_of(client, token_a)] == [True, False]
    assert set(seen_by_b[0]) == {"id", "label", "created_at", "last_used_on", "current"}
    assert seen_by_b[1]["last_used_on"] == dt.date.today().isoformat()

    # What one phone dismisses or saves, the other honours at once.
    employer = await new_employer(client)
    lat, lon = next_spot()
    vacancy = await new_vacancy(client, employer["api_key"], lat, lon)
    r = await client.put(
        f"/v1/jobseekers/me/marks/{vacancy['id']}", json={"mark": "saved"}, headers=auth(token_b)
    )
    assert r.status_code == 200, r.text
    saved = (await client.get("/v1/jobseekers/me/saved", headers=auth(token_a))).json()
    assert [m["vacancy_id"] for m in saved["marks"]] == [vacancy["id"]]

    # Rotating on phone A replaces A's token only.
    r = await client.post("/v1/jobseekers/me/token", headers=auth(token_a))
    assert r.status_code == 200, r.text
    token_a2 = r.json()["token"]
    remember(token_a2)
    assert await status_of(client, token_a) == 401
    assert await status_of(client, token_a2) == 200
    assert await status_of(client, token_b) == 200
    assert [d["id"] for d in await devices_of(client, token_a2)] == [d["id"] for d in seen_by_b]
    actions = audit_actions(database_url, s["id"])
    assert actions.count("passkey.sign_in") == 1 and actions.count("token.rotate") == 1


async def test_signing_a_lost_phone_out_closes_only_its_sockets(
    client: httpx.AsyncClient, server: ServerProcess, database_url: str
) -> None:
    s = await new_seeker(client)
    token_a = s["token"]
    token_b = await second_device(client, token_a)
    a_phones = [
        await Phone.connect(server.base_url, token_a, auth=how) for how in ("header", "frame")
    ]  # type: ignore[arg-type]
    b_phone = await Phone.connect(server.base_url, token_b)
    a_id, b_id = (d["id"] for d in await devices_of(client, token_b))

    # Someone else cannot see or sign out this person's devices: 404, nothing changes.
    stranger = await new_seeker(client)
    r = await client.delete(f"/v1/jobseekers/me/devices/{a_id}", headers=auth(stranger["token"]))
    assert r.status_code == 404
    assert a_id not in {d["id"] for d in await devices_of(client, stranger["token"])}
    assert await status_of(client, token_a) == 200

    r = await client.delete(f"/v1/jobseekers/me/devices/{a_id}", headers=auth(token_b))
    assert r.status_code == 204, r.text
    assert await status_of(client, token_a) == 401
    assert await status_of(client, token_b) == 200
    for phone in a_phones:
        with pytest.raises(ConnectionClosed) as closed:
            while True:  # frames queued before the close may still arrive
                await asyncio.wait_for(phone.ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert closed.value.rcvd.reason == "token revoked; sign in again"
    # Phone B's socket is still open and answers.
    await b_phone.send(type="resume", after_seq=0)
    assert (await b_phone.recv(5))["type"] == "resumed"
    assert [d["id"] for d in await devices_of(client, token_b)] == [b_id]
    # Gone is gone: a second delete of A is a 404.
    r = await client.delete(f"/v1/jobseekers/me/devices/{a_id}", headers=auth(token_b))
    assert r.status_code == 404
    assert audit_actions(database_url, s["id"]).count("device.sign_out") == 1
    await b_phone.close()


async def test_a_consultant_reissue_signs_every_device_out(
    client: httpx.AsyncClient, server: ServerProcess, database_url: str
) -> None:
    s = await new_seeker(client)
    token_a = s["token"]
    token_b = await second_device(client, token_a, IPHONE_SAFARI)
    phones = [await Phone.connect(server.base_url, t) for t in (token_a, token_b)]
    con = new_consultant(database_url, caseload=[s["id"]])
    r = await client.post(
        f"/v1/consultants/me/caseload/{s['id']}/token", headers=auth(con["token"])
    )
    assert r.status_code == 200, r.text
    fresh = r.json()["token"]
    remember(fresh)
    assert await status_of(client, token_a) == 401
    assert await status_of(client, token_b) == 401
    (only,) = await devices_of(client, fresh)
    assert only["current"] and only["label"] == ""  # issued by the consultant, no browser
    # The phone the token is handed to names the device on its first use, once.
    r = await client.get("/v1/jobseekers/me", headers={**auth(fresh), "User-Agent": IPHONE_SAFARI})
    assert r.status_code == 200
    assert [d["label"] for d in await devices_of(client, fresh)] == ["Safari · iPhone"]
    r = await client.get("/v1/jobseekers/me", headers={**auth(fresh), "User-Agent": ANDROID_CHROME})
    assert [d["label"] for d in await devices_of(client, fresh)] == ["Safari · iPhone"]
    for phone in phones:
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(phone.ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert "jobseeker.token.reissue" in audit_actions(database_url, s["id"])


async def test_an_operator_revokes_every_device(
    client: httpx.AsyncClient, database_url: str
) -> None:
    from typer.testing import CliRunner

    from api.cli import app as cli_app

    s = await new_seeker(client)
    token_b = await second_device(client, s["token"])
    get_settings.cache_clear()
    try:
        done = await asyncio.to_thread(
            CliRunner().invoke,
            cli_app,
            ["jobseeker", "revoke-devices", s["id"]],
            env={"DATABASE_URL": database_url},
        )
        missing = await asyncio.to_thread(
            CliRunner().invoke,
            cli_app,
            ["jobseeker", "revoke-devices", str(uuid.uuid4())],
            env={"DATABASE_URL": database_url},
        )
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    (fresh,) = [line.split()[-1] for line in done.stdout.splitlines() if "jotr_js_" in line]
    remember(fresh)
    assert missing.exit_code == 1 and "no jobseeker" in missing.output
    assert await status_of(client, s["token"]) == 401
    assert await status_of(client, token_b) == 401
    assert await status_of(client, fresh) == 200
    assert len(await devices_of(client, fresh)) == 1
    assert "jobseeker.devices.revoke" in audit_actions(database_url, s["id"])


async def test_erasure_deletes_every_device(client: httpx.AsyncClient, database_url: str) -> None:
    s = await new_seeker(client)
    token_b = await second_device(client, s["token"])
    assert (await client.delete("/v1/jobseekers/me", headers=auth(token_b))).status_code == 204
    with psycopg.connect(_libpq(database_url)) as db:
        left = db.execute(
            "SELECT count(*) FROM seeker_devices WHERE jobseeker_id = %s", (s["id"],)
        ).fetchone()
    assert left == (0,)
    assert await status_of(client, s["token"]) == 401


def test_the_migration_moves_each_token_into_a_device_and_back() -> None:
    name = f"jotr_mig_dev_{uuid.uuid4().hex[:8]}"
    url = create_database(name)
    try:
        cfg = alembic_config(url)
        command.upgrade(cfg, "0018")
        seeker_id = uuid.uuid4()
        _, token_hash = new_secret(Principal.JOBSEEKER)
        engine = create_engine(url, poolclass=NullPool)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO jobseekers (id, token_hash, birth_date)"
                    " VALUES (:i, :h, '2008-01-01')"
                ),
                {"i": seeker_id, "h": token_hash},
            )
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT jobseeker_id, token_hash, label FROM seeker_devices")
            ).all()
            columns = conn.execute(
                text(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_name = 'jobseekers' AND column_name = 'token_hash'"
                )
            ).all()
        assert [(r[0], bytes(r[1]), r[2]) for r in rows] == [(seeker_id, token_hash, "")]
        assert columns == []
        command.downgrade(cfg, "0018")
        with engine.connect() as conn:
            back = conn.execute(
                text("SELECT token_hash FROM jobseekers WHERE id = :i"), {"i": seeker_id}
            ).scalar_one()
        assert bytes(back) == token_hash
        engine.dispose()
    finally:
        drop_database(name)
