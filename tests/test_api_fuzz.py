"""Property-based fuzzing of the whole published contract: whatever a client
sends, the server answers as /openapi.json says it will.

Schemathesis generates requests from the document (examples, boundary values,
random and deliberately invalid data, and stateful sequences that follow the
links between operations) and sends them over real HTTP to the real server,
anonymously and authenticated as an employer and as a jobseeker. ALL its checks
run: no 5xx, only declared statuses, content types and headers, bodies that
match their schema, invalid data refused and valid data accepted, deleted
resources available, authentication not ignored. The exceptions (a few
operations' domain 422s, and use_after_free since DELETE of a vacancy closes
it) are in tests/schemathesis.toml, each with its reason.

A fixed seed keeps the run repeatable. CI runs a small number of cases per
operation; the long local run (`JOTR_FUZZ_EXAMPLES=...`) and its figures are in
docs/api.md, "Contract testing".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.builders import signup_consent
from tests.conftest import ServerProcess

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = os.environ.get("JOTR_FUZZ_EXAMPLES", "8")


def _st() -> list[str]:
    exe = shutil.which("st", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "schemathesis.cli"]


def _secret(base: str, who: str) -> str | None:
    if who == "employer":
        return str(httpx.post(f"{base}/v1/employers", json={"name": "Fuzz ApS"}).json()["api_key"])
    if who == "jobseeker":
        body = {"birth_date": "2004-04-04", "consent": signup_consent()}
        return str(httpx.post(f"{base}/v1/jobseekers", json=body).json()["token"])
    return None


@pytest.mark.parametrize("who", ["anonymous", "employer", "jobseeker"])
def test_every_answer_is_the_documented_one(server: ServerProcess, who: str) -> None:
    base = server.base_url
    # The first extraction builds the extractor (seconds); not a fuzz finding.
    warm = {"title": "Barista", "lang": "en"}
    assert httpx.post(f"{base}/v1/extract", json=warm, timeout=120).status_code == 200
    secret = _secret(base, who)
    headers = ["-H", f"Authorization: Bearer {secret}"] if secret else []
    args = [
        *_st(), "--config-file", str(CONFIG), "run", f"{base}/openapi.json",
        "--checks", "all",
        # why use_after_free: tests/schemathesis.toml. Every other check runs, including
        # negative_data_rejection (schema-violating requests must be refused).
        "--exclude-checks", "use_after_free",
        "--max-examples", EXAMPLES,
        "--seed", "20261203",
        "--request-timeout", "30",
        "--no-color",
        *headers,
    ]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
