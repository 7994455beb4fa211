"""Property-based fuzzing of the whole published contract: whatever a client
sends, the server answers with a 2xx or a 4xx, never a 500.

Schemathesis generates requests from /openapi.json (examples, boundary values,
random data) and sends them over real HTTP to the real server, anonymously and
authenticated as an employer and as a jobseeker. A fixed seed keeps the run
repeatable; bugs it found are kept as plain regression tests elsewhere.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess


def _st() -> list[str]:
    exe = shutil.which("st", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "schemathesis.cli"]


@pytest.mark.parametrize("who", ["anonymous", "employer", "jobseeker"])
def test_no_request_produces_a_server_error(server: ServerProcess, who: str) -> None:
    base = server.base_url
    headers: list[str] = []
    if who == "employer":
        key = httpx.post(f"{base}/v1/employers", json={"name": "Fuzz ApS"}).json()["api_key"]
        headers = ["-H", f"Authorization: Bearer {key}"]
    elif who == "jobseeker":
        body = {"birth_date": "2004-04-04"}
        token = httpx.post(f"{base}/v1/jobseekers", json=body).json()["token"]
        headers = ["-H", f"Authorization: Bearer {token}"]
    args = [
        *_st(), "run", f"{base}/openapi.json",
        "--checks", "not_a_server_error",
        "--max-examples", "25",
        "--seed", "20261123",
        "--no-color",
        *headers,
    ]  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
