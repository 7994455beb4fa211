"""Passkeys over the real API (matcher/people/passkeys.py): register with the phone you
have, sign in on a new one with no token, and every way a ceremony can go wrong
answers a clear 4xx. The authenticator is a software one (tests/webauthn_soft.py)
speaking WebAuthn's JSON; the server's checks are the `webauthn` library's."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg

from tests.builders import auth, new_employer, new_seeker, new_vacancy, next_spot
from tests.conftest import _libpq
from tests.webauthn_soft import SoftAuthenticator


async def register(client: httpx.AsyncClient, token: str, authn: SoftAuthenticator) -> Any:
    r = await client.post("/v1/jobseekers/me/passkeys/registration/options", headers=auth(token))
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["options"]["authenticatorSelection"]["residentKey"] == "required"
    body = {
        "ceremony_id": c["ceremony_id"],
        "credential": authn.create(c["options"]),
        "name": "Min telefon",
    }
    return await client.post("/v1/jobseekers/me/passkeys", json=body, headers=auth(token))


async def sign_in_options(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.post("/v1/passkeys/authentication/options")
    assert r.status_code == 200, r.text
    c: dict[str, Any] = r.json()
    assert c["options"]["userVerification"] == "preferred"
    assert c["options"].get("allowCredentials", []) == []  # usernameless
    return c


async def test_a_passkey_brings_the_profile_to_a_new_phone(
    client: httpx.AsyncClient, database_url: str
) -> None:
    s = await new_seeker(client, display_name="Passkeyperson")
    authn = SoftAuthenticator()
    r = await register(client, s["token"], authn)
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Min telefon"

    # The new phone knows nothing but the passkey.
    c = await sign_in_options(client)
    r = await client.post(
        "/v1/passkeys/authentication",
        json={"ceremony_id": c["ceremony_id"], "credential": authn.get(c["options"])},
    )
    assert r.status_code == 200, r.text
    new_token = r.json()["token"]
    assert r.json()["id"] == s["id"] and new_token.startswith("jotr_js_")
    me = await client.get("/v1/jobseekers/me", headers=auth(new_token))
    assert me.status_code == 200 and me.json()["display_name"] == "Passkeyperson"
    # The first phone is a device of its own and keeps working (tests/test_devices.py
    # signs a lost one out).
    assert (await client.get("/v1/jobseekers/me", headers=auth(s["token"]))).status_code == 200
    assert new_token != s["token"]

    # The ceremony was single use: the same answer again is refused.
    r = await client.post(
        "/v1/passkeys/authentication",
        json={"ceremony_id": c["ceremony_id"], "credential": authn.get(c["options"])},
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "challenge_unknown"

    # Listed, audited, removable; once removed it signs in nobody.
    listed = (await client.get("/v1/jobseekers/me/passkeys", headers=auth(new_token))).json()
    [key] = listed["passkeys"]
    assert key["last_used_at"] is not None
    with psycopg.connect(_libpq(database_url)) as db:
        actions = [
            a for (a,) in db.execute(
                "SELECT action FROM audit_log WHERE subject_id = %s ORDER BY id", (s["id"],)
            )
        ]  # fmt: skip
        stored = db.execute(
            "SELECT count(*) FROM passkeys WHERE jobseeker_id = %s", (s["id"],)
        ).fetchone()
    assert "passkey.register" in actions and "passkey.sign_in" in actions
    assert stored == (1,)
    r = await client.delete(f"/v1/jobseekers/me/passkeys/{key['id']}", headers=auth(new_token))
    assert r.status_code == 204
    c = await sign_in_options(client)
    r = await client.post(
        "/v1/passkeys/authentication",
        json={"ceremony_id": c["ceremony_id"], "credential": authn.get(c["options"])},
    )
    assert r.status_code == 401 and r.json()["error"]["code"] == "passkey_unknown"


async def test_bad_ceremonies_get_clear_answers(client: httpx.AsyncClient) -> None:
    s = await new_seeker(client)
    authn = SoftAuthenticator()
    assert (await register(client, s["token"], authn)).status_code == 201
    # The same authenticator again: already registered.
    assert (await register(client, s["token"], authn)).status_code == 409

    # Another site's origin.
    r = await client.post(
        "/v1/jobseekers/me/passkeys/registration/options", headers=auth(s["token"])
    )
    c = r.json()
    evil = SoftAuthenticator()
    body = {
        "ceremony_id": c["ceremony_id"],
        "credential": evil.create(c["options"], origin="https://evil.example"),
    }
    r = await client.post("/v1/jobseekers/me/passkeys", json=body, headers=auth(s["token"]))
    assert r.status_code == 400 and r.json()["error"]["code"] == "passkey_invalid"

    # Someone else's registration ceremony is not yours to finish.
    other = await new_seeker(client)
    c = (
        await client.post(
            "/v1/jobseekers/me/passkeys/registration/options", headers=auth(other["token"])
        )
    ).json()
    body = {"ceremony_id": c["ceremony_id"], "credential": SoftAuthenticator().create(c["options"])}
    r = await client.post("/v1/jobseekers/me/passkeys", json=body, headers=auth(s["token"]))
    assert r.status_code == 404 and r.json()["error"]["code"] == "challenge_unknown"

    # A signature over another challenge.
    c1, c2 = await sign_in_options(client), await sign_in_options(client)
    r = await client.post(
        "/v1/passkeys/authentication",
        json={"ceremony_id": c1["ceremony_id"], "credential": authn.get(c2["options"])},
    )
    assert r.status_code == 401 and r.json()["error"]["code"] == "passkey_rejected"

    # A counter that went backwards (a cloned key).
    c = await sign_in_options(client)
    ok = await client.post(
        "/v1/passkeys/authentication",
        json={"ceremony_id": c["ceremony_id"], "credential": authn.get(c["options"], count=10)},
    )
    assert ok.status_code == 200, ok.text
    c = await sign_in_options(client)
    r = await client.post(
        "/v1/passkeys/authentication",
        json={"ceremony_id": c["ceremony_id"], "credential": authn.get(c["options"], count=5)},
    )
    assert r.status_code == 401 and r.json()["error"]["code"] == "sign_count_regressed"

    # Garbage for a credential, and an unknown ceremony.
    c = await sign_in_options(client)
    r = await client.post(
        "/v1/passkeys/authentication",
        json={"ceremony_id": c["ceremony_id"], "credential": {"id": 1}},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "passkey_invalid"
    r = await client.post(
        "/v1/passkeys/authentication",
        json={"ceremony_id": "00000000-0000-4000-8000-000000000000", "credential": {}},
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "challenge_unknown"


async def test_dismissed_never_comes_back_and_saved_follows_the_person(
    client: httpx.AsyncClient,
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    a = await new_vacancy(client, emp["api_key"], lat + 0.001, lon, walk_in=False, title="A")
    b = await new_vacancy(client, emp["api_key"], lat - 0.001, lon, walk_in=False, title="B")
    s = await new_seeker(client)
    h = auth(s["token"])

    async def listed() -> set[str]:
        r = await client.get(
            "/v1/jobseekers/me/matches", params={"lat": lat, "lon": lon}, headers=h
        )
        assert r.status_code == 200, r.text
        return {m["vacancy"]["id"] for m in r.json()["matches"]}

    assert {a["id"], b["id"]} <= await listed()
    r = await client.put(
        f"/v1/jobseekers/me/marks/{a['id']}", json={"mark": "dismissed"}, headers=h
    )
    assert r.status_code == 200 and r.json()["mark"] == "dismissed"
    r = await client.put(f"/v1/jobseekers/me/marks/{b['id']}", json={"mark": "saved"}, headers=h)
    assert r.status_code == 200
    found = await listed()
    assert a["id"] not in found and b["id"] in found
    saved = (await client.get("/v1/jobseekers/me/saved", headers=h)).json()["marks"]
    assert [m["vacancy_id"] for m in saved] == [b["id"]]
    marks = (await client.get("/v1/jobseekers/me/marks", headers=h)).json()["marks"]
    assert {(m["vacancy_id"], m["mark"]) for m in marks} == {
        (a["id"], "dismissed"),
        (b["id"], "saved"),
    }

    # Undo brings it back; unknown vacancies and bad marks are refused.
    assert (await client.delete(f"/v1/jobseekers/me/marks/{a['id']}", headers=h)).status_code == 204
    assert a["id"] in await listed()
    assert (await client.delete(f"/v1/jobseekers/me/marks/{a['id']}", headers=h)).status_code == 404
    unknown = "00000000-0000-4000-8000-000000000000"
    r = await client.put(f"/v1/jobseekers/me/marks/{unknown}", json={"mark": "saved"}, headers=h)
    assert r.status_code == 404
    r = await client.put(f"/v1/jobseekers/me/marks/{a['id']}", json={"mark": "liked"}, headers=h)
    assert r.status_code == 422
    # Someone else's token sees none of it.
    other = await new_seeker(client)
    r = await client.get("/v1/jobseekers/me/saved", headers=auth(other["token"]))
    assert r.json()["marks"] == []
