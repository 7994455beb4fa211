"""How to apply (`apply` on a vacancy): set by employers with checks, shown read-only."""

from __future__ import annotations

import httpx
import pytest

from tests.builders import auth, count_rows, new_employer, new_vacancy, next_spot, vacancy_body

APPLY = {
    "url": "https://karriere.example.dk/ansog/1",
    "email": "job@kaffe.example.dk",
    "phone": "86 12 34 56",
    "how": "Send en kort ansøgning  og et billede",
    "walk_in": True,
    "contacts": [{"name": "Mette Hansen", "phone": "+45 20-30-40-50"}],
}


async def test_an_employer_sets_changes_and_clears_how_to_apply(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon, apply=APPLY)
    assert v["apply"] == {
        "url": "https://karriere.example.dk/ansog/1",
        "email": "job@kaffe.example.dk",
        "phone": "+4586123456",  # normalised
        "how": "Send en kort ansøgning og et billede",
        "walk_in": True,
        "contacts": [{"name": "Mette Hansen", "phone": "+4520304050"}],
    }
    public = (await client.get(f"/v1/vacancies/{v['id']}")).json()
    assert public["apply"] == v["apply"]

    r = await client.patch(f"/v1/vacancies/{v['id']}", json={"apply": {"email": "a@b.dk"}},
                           headers=auth(emp["api_key"]))  # fmt: skip
    assert r.status_code == 200 and r.json()["apply"] == {"email": "a@b.dk"}
    r = await client.patch(f"/v1/vacancies/{v['id']}", json={"title": "Barista"},
                           headers=auth(emp["api_key"]))  # fmt: skip
    assert r.json()["apply"] == {"email": "a@b.dk"}  # untouched when not sent
    r = await client.patch(f"/v1/vacancies/{v['id']}", json={"apply": None},
                           headers=auth(emp["api_key"]))  # fmt: skip
    assert r.status_code == 200 and r.json()["apply"] is None


@pytest.mark.parametrize(
    ("apply", "reason"),
    [
        ({"url": "ftp://firma.dk/job"}, "apply.url must be an http(s) URL"),
        ({"url": "javascript:alert(1)"}, "apply.url must be an http(s) URL"),
        ({"email": "nobody@localhost"}, "apply.email is not a plausible"),
        ({"phone": "+46 70 123 45 67"}, "apply.phone must be a Danish number"),
        ({"contacts": [{"name": "A", "email": "x@"}]}, "apply.email is not a plausible"),
        ({"contacts": [{}]}, "a contact needs a name, phone or e-mail"),
        ({"website": "https://firma.dk"}, "website"),
    ],
)
async def test_bad_apply_details_are_refused_with_a_reason(
    client: httpx.AsyncClient, database_url: str, apply: dict[str, object], reason: str
) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client)
    before = count_rows(database_url, "vacancies")
    r = await client.post("/v1/vacancies", json=vacancy_body(lat, lon, apply=apply),
                          headers=auth(emp["api_key"]))  # fmt: skip
    assert r.status_code == 422 and reason in r.text, r.text
    assert count_rows(database_url, "vacancies") == before
