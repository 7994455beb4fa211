"""Caseloads without the command line: invite codes, consent, links and unlinks
from both sides, each audited (matcher/people/caseload_links.py)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import psycopg

from tests.builders import auth, new_consultant, new_integration, new_seeker
from tests.conftest import _libpq


async def invite(client: httpx.AsyncClient, consultant: dict[str, Any]) -> str:
    r = await client.post("/v1/consultants/me/invites", headers=auth(consultant["token"]))
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    assert re.fullmatch(r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}", code), code
    return str(code)


async def link(client: httpx.AsyncClient, seeker: dict[str, Any], code: str) -> httpx.Response:
    return await client.post(
        "/v1/jobseekers/me/consultant",
        json={"code": code, "consent": True},
        headers=auth(seeker["token"]),
    )


def audit_actions(database_url: str, subject_id: str) -> list[tuple[str, str]]:
    with psycopg.connect(_libpq(database_url)) as conn:
        rows = conn.execute(
            "SELECT actor_type, action FROM audit_log WHERE subject_id = %s ORDER BY id",
            (subject_id,),
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


async def caseload_ids(client: httpx.AsyncClient, consultant: dict[str, Any]) -> list[str]:
    r = await client.get("/v1/consultants/me/caseload", headers=auth(consultant["token"]))
    assert r.status_code == 200, r.text
    return [p["id"] for p in r.json()["jobseekers"]]


async def test_a_code_links_the_young_person_with_consent_once(
    client: httpx.AsyncClient, database_url: str
) -> None:
    consultant = new_consultant(database_url)
    seeker = await new_seeker(client)
    code = await invite(client, consultant)

    r = await client.get("/v1/jobseekers/me/consultant", headers=auth(seeker["token"]))
    assert r.json() == {"consultants": [], "share_with_municipality": False}
    # Typed loosely (lower case, no dash) it still works.
    r = await link(client, seeker, code.replace("-", "").lower())
    assert r.status_code == 201, r.text
    assert r.json()["share_with_municipality"] is True
    assert [c["id"] for c in r.json()["consultants"]] == [consultant["id"]]
    assert seeker["id"] in await caseload_ids(client, consultant)

    # Single use: the same code does nothing for anyone else.
    other = await new_seeker(client)
    assert (await link(client, other, code)).status_code == 404
    assert other["id"] not in await caseload_ids(client, consultant)
    assert ("jobseeker", "caseload.link") in audit_actions(database_url, seeker["id"])
    assert ("consultant", "invite.create") in audit_actions(database_url, consultant["id"])


async def test_wrong_expired_or_unconsented_codes_link_no_one(
    client: httpx.AsyncClient, database_url: str
) -> None:
    consultant = new_consultant(database_url)
    seeker = await new_seeker(client)
    assert (await link(client, seeker, "ABCD-EFGH")).status_code == 404
    code = await invite(client, consultant)
    r = await client.post(
        "/v1/jobseekers/me/consultant",
        json={"code": code, "consent": False},
        headers=auth(seeker["token"]),
    )
    assert r.status_code == 422, r.text
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute(
            "UPDATE consultant_invites SET expires_at = now() - interval '1 minute'"
            " WHERE consultant_id = %s",
            (consultant["id"],),
        )
    assert (await link(client, seeker, code)).status_code == 404
    assert await caseload_ids(client, consultant) == []
    # The code is for young people, not for other consultants.
    r = await client.post(
        "/v1/jobseekers/me/consultant",
        json={"code": code, "consent": True},
        headers=auth(consultant["token"]),
    )
    assert r.status_code == 403


async def test_the_young_person_can_leave_and_sharing_stops(
    client: httpx.AsyncClient, database_url: str
) -> None:
    consultant = new_consultant(database_url)
    seeker = await new_seeker(client)
    assert (await link(client, seeker, await invite(client, consultant))).status_code == 201
    r = await client.delete("/v1/jobseekers/me/consultant", headers=auth(seeker["token"]))
    assert r.status_code == 204
    assert seeker["id"] not in await caseload_ids(client, consultant)
    r = await client.get("/v1/jobseekers/me/consultant", headers=auth(seeker["token"]))
    assert r.json() == {"consultants": [], "share_with_municipality": False}
    r = await client.get(f"/v1/jobseekers/{seeker['id']}", headers=auth(consultant["token"]))
    assert r.status_code == 404
    assert ("jobseeker", "caseload.unlink") in audit_actions(database_url, seeker["id"])


async def test_the_consultant_can_take_someone_off_their_caseload(
    client: httpx.AsyncClient, database_url: str
) -> None:
    consultant = new_consultant(database_url)
    seeker = await new_seeker(client)
    assert (await link(client, seeker, await invite(client, consultant))).status_code == 201
    path = f"/v1/consultants/me/jobseekers/{seeker['id']}"
    assert (await client.delete(path, headers=auth(consultant["token"]))).status_code == 204
    assert seeker["id"] not in await caseload_ids(client, consultant)
    assert (await client.delete(path, headers=auth(consultant["token"]))).status_code == 404
    # Another consultant cannot take people off someone else's caseload.
    mine = await new_seeker(client)
    owner = new_consultant(database_url, caseload=[mine["id"]])
    path = f"/v1/consultants/me/jobseekers/{mine['id']}"
    assert (await client.delete(path, headers=auth(consultant["token"]))).status_code == 404
    assert mine["id"] in await caseload_ids(client, owner)
    assert ("consultant", "caseload.unlink") in audit_actions(database_url, seeker["id"])


async def test_an_integration_links_only_within_its_municipality(
    client: httpx.AsyncClient, database_url: str
) -> None:
    aarhus = new_integration(database_url, municipality="0751")
    consultant = new_consultant(database_url)  # 0751 by default
    seeker = await new_seeker(client)
    body = {"consultant_id": consultant["id"], "jobseeker_id": seeker["id"]}
    r = await client.post("/v1/integrations/me/caseload", json=body, headers=auth(aarhus["token"]))
    assert r.status_code == 204, r.text
    assert seeker["id"] in await caseload_ids(client, consultant)
    assert ("integration", "caseload.link") in audit_actions(database_url, seeker["id"])
    # A link by a case system is no consent to share.
    r = await client.get("/v1/jobseekers/me/consultant", headers=auth(seeker["token"]))
    assert r.json()["share_with_municipality"] is False

    copenhagen = new_integration(database_url, municipality="0101")
    other = await new_seeker(client)
    body = {"consultant_id": consultant["id"], "jobseeker_id": other["id"]}
    r = await client.post(
        "/v1/integrations/me/caseload", json=body, headers=auth(copenhagen["token"])
    )
    assert r.status_code == 404
    assert other["id"] not in await caseload_ids(client, consultant)
