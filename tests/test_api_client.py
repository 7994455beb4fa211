"""A client generated from the live /openapi.json works as it is: the flow of an
employer and a jobseeker, and an error whose message the typed model exposes.

`openapi-python-client` is what a partner would use; if the document lies (an
undeclared status, a nullable that is not, a wrong media type) the generated
code fails here.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.builders import (
    birth_date_for_age,
    next_spot,
    occupation,
    signup_consent,
    verify_employer,
)
from tests.conftest import ServerProcess

PATH = os.environ.get("PATH", "")


def _generator() -> list[str]:
    exe = Path(sys.executable).parent / "openapi-python-client"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "openapi_python_client"]


@pytest.fixture(scope="module")
def generated(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("client")
    spec = root / "openapi.json"
    spec.write_bytes(httpx.get(f"{server.base_url}/openapi.json").content)
    package = f"jotr_client_{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        [*_generator(), "generate", "--path", str(spec), "--meta", "none",
         "--output-path", str(root / package), "--fail-on-warning"],
        capture_output=True, text=True, timeout=120,
        # The generator formats its output with ruff from the same environment.
        env={**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), PATH])},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    sys.path.insert(0, str(root))
    try:
        yield package
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.startswith(package)]:
            del sys.modules[name]


def _mod(package: str, name: str) -> ModuleType:
    return importlib.import_module(f"{package}.{name}")


def test_generated_client_runs_the_whole_flow(server: ServerProcess, generated: str) -> None:
    client_mod = _mod(generated, "client")
    models: Any = _mod(generated, "models")
    create_employer: Any = _mod(generated, "api.employers.create_employer")
    create_vacancy: Any = _mod(generated, "api.vacancies.create_vacancy")
    get_vacancy: Any = _mod(generated, "api.vacancies.get_vacancy")
    search: Any = _mod(generated, "api.vacancies.search_vacancies")
    create_jobseeker: Any = _mod(generated, "api.jobseekers.create_jobseeker")
    list_my_matches: Any = _mod(generated, "api.jobseekers.list_my_matches")
    barista = occupation("barista")
    lat, lon = next_spot()

    anonymous = client_mod.Client(base_url=server.base_url, raise_on_unexpected_status=True)
    employer = create_employer.sync(
        client=anonymous, body=models.EmployerCreate(name="Kaffebaren ApS", cvr="12345607")
    )
    assert isinstance(employer, models.EmployerCreated) and employer.api_key
    verify_employer(server.base_url, str(employer.id))  # a walk-in needs a verified employer
    as_employer = client_mod.AuthenticatedClient(
        base_url=server.base_url, token=employer.api_key, raise_on_unexpected_status=True
    )
    body = models.VacancyCreate(
        title="Barista, weekends",
        location=models.Point(lat=lat, lon=lon),
        job_type=models.JobType.FRITIDSJOB,
        hours_per_week=10,
        occupation_uri=barista["uri"],
        required_skills=[models.RequiredSkill(uri=u) for u in barista["essential"][:3]],
        min_age=15,
        walk_in=True,
    )
    created = create_vacancy.sync_detailed(
        client=as_employer, body=body, idempotency_key=f"gen-{uuid.uuid4().hex}"
    )
    assert created.status_code == 201
    vacancy = created.parsed
    assert isinstance(vacancy, models.VacancyOwner) and vacancy.status == models.VacancyStatus.OPEN
    assert created.headers["location"] == f"/v1/vacancies/{vacancy.id}"

    public = get_vacancy.sync(client=anonymous, vacancy_id=vacancy.id)
    assert isinstance(public, models.VacancyPublic) and public.title == "Barista, weekends"
    found = search.sync(client=anonymous, lat=lat, lon=lon, radius_m=1000)
    assert isinstance(found, models.VacancyFeatureCollection)
    assert any(f.id == vacancy.id for f in found.features)

    seeker = create_jobseeker.sync(
        client=anonymous,
        body=models.SeekerCreate(
            birth_date=dt.date.fromisoformat(birth_date_for_age(19)),
            skills=barista["essential"][:3],
            preferences=models.Preferences(radius_m=3000),
            consent=models.SignupConsent(**signup_consent()),
        ),
    )
    assert isinstance(seeker, models.SeekerCreated)
    as_seeker = client_mod.AuthenticatedClient(
        base_url=server.base_url, token=seeker.token, raise_on_unexpected_status=True
    )
    matches = list_my_matches.sync(client=as_seeker, lat=lat, lon=lon)
    assert isinstance(matches, models.MatchList)
    assert vacancy.id in [m.vacancy.id for m in matches.matches]

    # An error, read through the typed model (no raw JSON digging).
    bad = models.VacancyCreate(
        title="Ghost skills",
        location=models.Point(lat=lat, lon=lon),
        job_type=models.JobType.ORDINARY,
        hours_per_week=10,
        required_skills=[models.RequiredSkill(uri="http://data.europa.eu/esco/skill/nope")],
    )
    refused = create_vacancy.sync_detailed(client=as_employer, body=bad)
    assert refused.status_code == 422
    assert isinstance(refused.parsed, models.Error)
    assert "skill/nope" in refused.parsed.error.message
    missing = get_vacancy.sync(client=anonymous, vacancy_id=uuid.uuid4())
    assert isinstance(missing, models.Error) and missing.error.code == "not_found"
