"""Every test server's stderr, kept for the run and checked for leaks at its end.

Each ServerProcess (tests/conftest.py) copies its stderr here; the builders
(tests/builders.py) register the secrets and personal data they make; at the end
of the run conftest's `pytest_sessionfinish` fails the run if any server log holds
a secret prefix or anything registered (docs/security.md). One module, imported
by one name, so there is one directory and one registry per run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

# Set JOTR_TEST_LOG_DIR to keep them elsewhere.
SERVER_LOG_DIR = Path(
    os.environ.get("JOTR_TEST_LOG_DIR") or tempfile.mkdtemp(prefix="jotr-test-logs-")
)
SERVER_LOG_DIR.mkdir(parents=True, exist_ok=True)
SECRET_PREFIXES = ("jotr_js_", "jotr_emp_", "jotr_con_")
# What the builders handed out or seeded: none of it may appear in a server's log.
MUST_NOT_BE_LOGGED: set[str] = set()
# Each test server's database by its base URL, for builders that must do what
# only an operator or a consultant does (tests/builders.py: verified employers).
SERVER_DATABASES: dict[str, str] = {}


def leaks_in(text: str, needles: Iterable[str] = ()) -> list[str]:
    """The secret prefixes and needles that occur in `text`."""
    return [n for n in (*SECRET_PREFIXES, *needles) if n and n in text]


def server_log_leaks() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(SERVER_LOG_DIR.glob("*.log")):
        hits = leaks_in(path.read_text(errors="replace"), MUST_NOT_BE_LOGGED)
        if hits:
            found[path.name] = sorted(hits)
    return found
