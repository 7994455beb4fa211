"""Consent, parents and a person's data rights (docs/privacy.md): the privacy
notice, consent at sign-up, location consent, the parent contact, the export
of everything about a person, and the inactive-account sweep. Real server,
real PostGIS, real websockets."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from api.cli import app as cli_app
from matcher.people.consent import current_version
from matcher.settings import get_settings
from tests.builders import (
    auth,
    birth_date_for_age,
    new_consultant,
    new_employer,
    new_seeker,
    new_vacancy,
    next_spot,
    seeker_body,
)
from tests.conftest import ServerProcess, _libpq
from tests.push_client import Phone, push_spot


def _sql(database_url: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(_libpq(database_url)) as conn:
        cur = conn.execute(query, args)
        return cur.fetchall() if cur.description else []


async def _poll(check: Any, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


# --- the notice and consent at sign-up ------------------------------------------------


async def test_privacy_notice_is_public_versioned_and_in_danish_and_english(
    client: httpx.AsyncClient,
) -> None:
    da = (await client.get("/v1/privacy-notice", params={"lang": "da"})).json()
    en = (await client.get("/v1/privacy-notice", params={"lang": "en"})).json()
    assert da["version"] == en["version"] == current_version()
    assert [p["id"] for p in da["points"]] == [p["id"] for p in en["points"]]
    assert {"what", "location", "parents", "copy", "delete"} <= {p["id"] for p in da["points"]}
    for point in da["points"] + en["points"]:
        assert point["icon"] and point["title"] and point["text"]
        # Plain language: short sentences.
        assert all(len(s.split()) <= 16 for s in point["text"].split(". ")), point
    assert da["points"][0]["text"] != en["points"][0]["text"]
    delete = next(p for p in en["points"] if p["id"] == "delete")
    assert "12 months" in delete["text"]  # from JOTR_INACTIVE_DELETE_AFTER_DAYS=365
    assert (await client.get("/v1/privacy-notice", params={"lang": "de"})).status_code == 422


async def test_sign_up_needs_explicit_consent_to_the_current_notice(
    client: httpx.AsyncClient, database_url: str
) -> None:
    name = f"Consent {uuid.uuid4().hex[:8]}"
    cases = [
        ({k: v for k, v in seeker_body(display_name=name).items() if k != "consent"},
         "consent_required"),
        (seeker_body(display_name=name, consent={"notice_version": current_version(),
                                                  "accepted": False}), "consent_required"),
        (seeker_body(display_name=name, consent={"notice_version": "2020-01-01",
                                                  "accepted": True}), "stale_notice"),
    ]  # fmt: skip
    for body, code in cases:
        r = await client.post("/v1/jobseekers", json=body)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == code
    # Nothing was written by the refused sign-ups.
    assert _sql(database_url, "SELECT 1 FROM jobseekers WHERE display_name = %s", name) == []

    before = dt.datetime.now(dt.UTC)
    seeker = await new_seeker(client, location_consent=False, display_name=name)
    rows = _sql(
        database_url,
        "SELECT kind, notice_version, granted_at, withdrawn_at FROM consents"
        " WHERE jobseeker_id = %s",
        seeker["id"],
    )
    assert len(rows) == 1
    kind, version, granted_at, withdrawn_at = rows[0]
    assert (kind, version, withdrawn_at) == ("service", current_version(), None)
    assert before - dt.timedelta(seconds=5) <= granted_at <= dt.datetime.now(dt.UTC)
    r = await client.get("/v1/jobseekers/me/consents", headers=auth(seeker["token"]))
    assert r.status_code == 200
    body = r.json()
    assert body["service"]["granted"] and body["service"]["notice_version"] == current_version()
    assert body["location"] == {
        "granted": False, "notice_version": None, "granted_at": None, "withdrawn_at": None
    }  # fmt: skip


# --- location consent ---------------------------------------------------------------


def _position(database_url: str, seeker_id: str) -> Any:
    return _sql(
        database_url,
        "SELECT last_position FROM jobseekers j LEFT JOIN push_streams s"
        " ON s.jobseeker_id = j.id WHERE j.id = %s",
        seeker_id,
    )[0][0]


async def test_location_is_neither_used_nor_kept_without_its_own_consent(
    client: httpx.AsyncClient, server: ServerProcess, database_url: str
) -> None:
    seeker = await new_seeker(client, location_consent=False)
    lat, lon = push_spot()
    phone = await Phone.connect(server.base_url, seeker["token"])
    try:
        await phone.move(lat, lon)
        err = await phone.wait_for("error")
        assert err["code"] == "location_consent_required"
        assert _position(database_url, seeker["id"]) is None

        h = auth(seeker["token"])
        r = await client.put(
            "/v1/jobseekers/me/consents/location", json={"granted": True}, headers=h
        )
        assert r.status_code == 200 and r.json()["location"]["granted"]
        await phone.move(lat, lon)
        await _poll(lambda: _position(database_url, seeker["id"]) is not None)

        # Withdrawn: the stored position goes at once, and new ones are refused.
        r = await client.put(
            "/v1/jobseekers/me/consents/location", json={"granted": False}, headers=h
        )
        assert r.status_code == 200
        loc = r.json()["location"]
        assert not loc["granted"] and loc["withdrawn_at"] is not None
        assert _position(database_url, seeker["id"]) is None
        await phone.move(lat + 0.01, lon)
        assert (await phone.wait_for("error"))["code"] == "location_consent_required"
        assert _position(database_url, seeker["id"]) is None
    finally:
        await phone.close()
    # The history stays: one granted-then-withdrawn row; a new yes is a new row.
    await client.put("/v1/jobseekers/me/consents/location", json={"granted": True}, headers=h)
    rows = _sql(
        database_url,
        "SELECT withdrawn_at IS NULL FROM consents WHERE jobseeker_id = %s AND kind = 'location'"
        " ORDER BY id",
        seeker["id"],
    )
    assert [r[0] for r in rows] == [False, True]
    # A match query at an explicit point needs no location consent: it is not stored.
    await client.put("/v1/jobseekers/me/consents/location", json={"granted": False}, headers=h)
    r = await client.get("/v1/jobseekers/me/matches", params={"lat": lat, "lon": lon}, headers=h)
    assert r.status_code == 200
    assert _position(database_url, seeker["id"]) is None
    bad = await client.put("/v1/jobseekers/me/consents/location", json={"granted": "ja"}, headers=h)
    assert bad.status_code == 422


# --- parents ------------------------------------------------------------------------


async def test_parent_contact_and_who_needs_their_parents_informed(
    client: httpx.AsyncClient,
) -> None:
    cases = [
        ({"birth_date": birth_date_for_age(14), "finished_compulsory_school": False}, True),
        ({"birth_date": birth_date_for_age(16), "finished_compulsory_school": False}, True),
        ({"birth_date": birth_date_for_age(16), "finished_compulsory_school": True}, False),
        ({"birth_date": birth_date_for_age(19)}, False),
    ]
    for fields, informed in cases:
        s = await new_seeker(client, location_consent=False, **fields)
        me = (await client.get("/v1/jobseekers/me", headers=auth(s["token"]))).json()
        assert me["parents_informed"] is informed, fields
        assert me["parent_contact"] is None

    h = auth(s["token"])
    parent = {"name": "Mor Hansen", "phone": "+45 12 34 56 78"}
    r = await client.patch("/v1/jobseekers/me", json={"parent_contact": parent}, headers=h)
    assert r.status_code == 200 and r.json()["parent_contact"] == parent
    for bad in ({"name": "Far"}, {"name": "", "email": "far@example.dk"},
                {"name": "Far", "email": "not an address"}):  # fmt: skip
        r = await client.patch("/v1/jobseekers/me", json={"parent_contact": bad}, headers=h)
        assert r.status_code == 422, bad
    r = await client.patch("/v1/jobseekers/me", json={"parent_contact": None}, headers=h)
    assert r.status_code == 200 and r.json()["parent_contact"] is None


# --- the export ---------------------------------------------------------------------

# Every table that holds a person, found the way an auditor would: from the
# catalog, not from the code under test.
PERSON_TABLES = """
SELECT DISTINCT tc.table_name
FROM information_schema.table_constraints tc
JOIN information_schema.constraint_column_usage ccu
  ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
WHERE tc.constraint_type = 'FOREIGN KEY' AND ccu.table_name = 'jobseekers'
UNION
SELECT table_name FROM information_schema.columns
WHERE table_schema = 'public' AND column_name IN ('jobseeker_id', 'seeker_id')
"""


def _seed_rows(database_url: str, seeker_id: str, vacancy_id: str, consultant_id: str) -> None:
    """A row in each table that holds the person. A new table that holds people
    needs a line here too: the test below fails and names it until it has one."""
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute(
            "INSERT INTO match_reviews (id, consultant_id, jobseeker_id, vacancy_id, verdict)"
            " VALUES (%s, %s, %s, %s, 'good')",
            (uuid.uuid4(), consultant_id, seeker_id, vacancy_id),
        )
        conn.execute(
            "INSERT INTO push_streams (jobseeker_id, push_seq) VALUES (%s, 1)", (seeker_id,)
        )
        conn.execute(
            "INSERT INTO push_deliveries (jobseeker_id, seq, kind, vacancy_id, payload)"
            " VALUES (%s, 1, 'match', %s, '{}')",
            (seeker_id, vacancy_id),
        )
        conn.execute(
            "INSERT INTO push_device_acks (jobseeker_id, device_id, acked_seq)"
            " VALUES (%s, 'export-test-device', 1)",
            (seeker_id,),
        )
        conn.execute(
            "INSERT INTO push_presence (id, jobseeker_id, device_id, node)"
            " VALUES (%s, %s, 'export-test-device', 'export-test-node')",
            (uuid.uuid4(), seeker_id),
        )
        conn.execute(
            "INSERT INTO match_events (jobseeker_id, vacancy_id, kind, actor, actor_id, score,"
            " features, scorer, age_band) VALUES (%s, %s, 'hired', 'consultant', %s, 0.8,"
            " '{0.5}', 'test', '18-24')",
            (seeker_id, vacancy_id, consultant_id),
        )
        conn.execute(
            "INSERT INTO applications (id, vacancy_id, jobseeker_id, shared, message)"
            " VALUES (%s, %s, %s, '{\"first_name\": \"Eksport\"}', 'Hej')",
            (uuid.uuid4(), vacancy_id, seeker_id),
        )
        conn.execute(
            "INSERT INTO vacancy_reports (vacancy_id, jobseeker_id, reason)"
            " VALUES (%s, %s, 'fake')",
            (vacancy_id, seeker_id),
        )
        conn.execute(
            "INSERT INTO webpush_subscriptions (id, jobseeker_id, endpoint, p256dh, auth)"
            " VALUES (%s, %s, %s, 'export-test-p256dh', 'export-test-auth')",
            (uuid.uuid4(), seeker_id, f"https://push.example/{uuid.uuid4()}"),
        )
        conn.execute(
            "INSERT INTO jobseeker_home_areas (jobseeker_id, point, source, postcode, consent_by)"
            " VALUES (%s, ST_MakePoint(10.2, 56.15)::geography, 'postcode', '8000', 'jobseeker')",
            (seeker_id,),
        )
        conn.execute(
            "INSERT INTO passkeys (id, jobseeker_id, credential_id, public_key, name)"
            " VALUES (%s, %s, %s, %s, 'Min telefon')",
            (uuid.uuid4(), seeker_id, uuid.uuid4().bytes, b"export-test-public-key"),
        )
        conn.execute(
            "INSERT INTO webauthn_challenges (id, challenge, purpose, jobseeker_id, expires_at)"
            " VALUES (%s, %s, 'register', %s, now() + interval '5 minutes')",
            (uuid.uuid4(), uuid.uuid4().bytes, seeker_id),
        )
        conn.execute(
            "INSERT INTO seeker_vacancy_marks (jobseeker_id, vacancy_id, mark)"
            " VALUES (%s, %s, 'saved')",
            (seeker_id, vacancy_id),
        )
        conn.execute(  # a second signed-in device (sign-up made the first)
            "INSERT INTO seeker_devices (id, jobseeker_id, token_hash, label)"
            " VALUES (%s, %s, %s, 'Firefox · Android')",
            (uuid.uuid4(), seeker_id, uuid.uuid4().bytes + uuid.uuid4().bytes),
        )
        conn.execute(
            "INSERT INTO integration_events (type, subject, jobseeker_id, data)"
            " VALUES ('jobseeker.linked', %s, %s, '{}')",
            (f"jobseekers/{seeker_id}", seeker_id),
        )


async def test_export_holds_every_table_about_the_person_and_no_secrets(
    client: httpx.AsyncClient, database_url: str
) -> None:
    lat, lon = next_spot()
    employer = await new_employer(client)
    vacancy = await new_vacancy(client, employer["api_key"], lat, lon)
    seeker = await new_seeker(client, display_name="Eksport Person")
    other = await new_seeker(client)
    consultant = new_consultant(database_url, caseload=[seeker["id"], other["id"]])
    h = auth(seeker["token"])
    parent = {"name": "Mor", "email": "mor@example.dk"}
    assert (
        await client.patch("/v1/jobseekers/me", json={"parent_contact": parent}, headers=h)
    ).status_code == 200
    # A consultant's read of the person: an audit row about them.
    r = await client.get(f"/v1/jobseekers/{seeker['id']}", headers=auth(consultant["token"]))
    assert r.status_code == 200
    for who in (seeker, other):
        _seed_rows(database_url, who["id"], vacancy["id"], consultant["id"])

    r = await client.get("/v1/jobseekers/me/export", headers=h)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith("attachment; filename=")
    assert r.headers["cache-control"] == "no-store"
    export = r.json()
    assert export["jobseeker_id"] == seeker["id"]
    tables = export["tables"]

    expected = {row[0] for row in _sql(database_url, PERSON_TABLES)} | {"jobseekers", "audit_log"}
    assert expected <= set(tables), f"missing from the export: {expected - set(tables)}"
    empty = sorted(t for t in expected if not tables[t])
    assert not empty, f"tables without the seeded row (add a seed line for them): {empty}"

    # Only this person's rows, nowhere another's.
    text = json.dumps(export)
    assert other["id"] not in text
    for tbl in expected - {"jobseekers", "audit_log"}:
        for row in tables[tbl]:
            assert seeker["id"] in (row.get("jobseeker_id"), row.get("seeker_id")), (tbl, row)
    (profile,) = tables["jobseekers"]
    assert profile["id"] == seeker["id"] and profile["display_name"] == "Eksport Person"
    assert profile["parent_contact"] == parent
    # No secrets: no token hash, no hash of any kind.
    assert not [(t, k) for t, rows in tables.items() for row in rows for k in row if "hash" in k]
    assert seeker["token"] not in text
    # A Web Push subscription is listed, without its keys or its (capability) URL.
    (subscription,) = tables["webpush_subscriptions"]
    assert not {"endpoint", "p256dh", "auth"} & set(subscription)
    assert "export-test-auth" not in text and "push.example" not in text
    actions = {row["action"] for row in tables["audit_log"]}
    assert {"jobseeker.read", "jobseeker.export"} <= actions
    kinds = {row["kind"] for row in tables["consents"]}
    assert kinds == {"service", "location"}
    assert tables["match_events"][0]["kind"] == "hired"
    assert tables["match_reviews"][0]["verdict"] == "good"
    # Both signed-in devices, with their labels and days of use, never a token hash.
    assert sorted(d["label"] for d in tables["seeker_devices"]) == ["", "Firefox · Android"]
    assert all("token_hash" not in d and d["last_used_on"] for d in tables["seeker_devices"])

    # Only the person: no one else gets it.
    assert (await client.get("/v1/jobseekers/me/export")).status_code == 401
    r = await client.get("/v1/jobseekers/me/export", headers=auth(employer["api_key"]))
    assert r.status_code == 403


# --- the inactive sweep -------------------------------------------------------------


def _age_account(database_url: str, seeker_id: str, days: int) -> None:
    _sql(
        database_url,
        "UPDATE jobseekers SET last_active_at = now() - make_interval(days => %s),"
        " created_at = now() - make_interval(days => %s) WHERE id = %s",
        days,
        days,
        seeker_id,
    )


def _exists(database_url: str, seeker_id: str) -> bool:
    return bool(_sql(database_url, "SELECT 1 FROM jobseekers WHERE id = %s", seeker_id))


async def test_inactive_accounts_are_swept_with_everything_and_counts_only_logged(
    client: httpx.AsyncClient, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    lat, lon = next_spot()
    employer = await new_employer(client)
    vacancy = await new_vacancy(client, employer["api_key"], lat, lon)
    old = await new_seeker(client)
    returning = await new_seeker(client)
    recent = await new_seeker(client)
    nearly = await new_seeker(client)
    consultant = new_consultant(database_url, caseload=[old["id"]])
    _seed_rows(database_url, old["id"], vacancy["id"], consultant["id"])
    r = await client.get(f"/v1/jobseekers/{old['id']}", headers=auth(consultant["token"]))
    assert r.status_code == 200
    for who, days in ((old, 400), (returning, 400), (nearly, 300)):
        _age_account(database_url, who["id"], days)
    # Coming back to the app counts as use: the account stays.
    assert (
        await client.get("/v1/jobseekers/me", headers=auth(returning["token"]))
    ).status_code == 200
    touched = _sql(
        database_url, "SELECT last_active_at FROM jobseekers WHERE id = %s", returning["id"]
    )[0][0]
    assert dt.datetime.now(dt.UTC) - touched < dt.timedelta(minutes=1)

    get_settings.cache_clear()
    caplog.set_level(logging.INFO, logger="jotr.retention")
    try:
        # The command runs its own event loop: in a thread, as from a shell.
        result = await asyncio.to_thread(
            CliRunner().invoke, cli_app, ["sweep", "inactive"], env={"DATABASE_URL": database_url}
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "deleted" in result.output and "365 days" in result.output

    assert not _exists(database_url, old["id"])
    for kept in (returning, recent, nearly):
        assert _exists(database_url, kept["id"])
    for tbl in ("consents", "caseload", "match_reviews", "push_deliveries", "push_device_acks",
                "push_presence", "match_events", "seeker_devices"):  # fmt: skip
        assert not _sql(database_url, f"SELECT 1 FROM {tbl} WHERE jobseeker_id = %s", old["id"])
    # Audit rows keep only ids, their details emptied (as DELETE /v1/jobseekers/me does).
    details = _sql(database_url, "SELECT detail FROM audit_log WHERE subject_id = %s", old["id"])
    assert details and all(d[0] == {} for d in details)
    assert (await client.get("/v1/jobseekers/me", headers=auth(old["token"]))).status_code == 401
    # Counts only: no id in any log record or the command's output.
    records = [r for r in caplog.records if r.name == "jotr.retention"]
    assert records and records[-1].deleted >= 1  # type: ignore[attr-defined]
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in records) + result.output
    assert old["id"] not in logged


def test_sweep_refuses_a_period_under_30_days(database_url: str) -> None:
    result = CliRunner().invoke(
        cli_app, ["sweep", "inactive", "--days", "5"], env={"DATABASE_URL": database_url}
    )
    assert result.exit_code != 0
