"""Bearer secrets for employers, jobseekers, consultants and integrations.

A secret is shown once at creation; only its SHA-256 is stored. The prefix says
which kind of principal it belongs to, so a lookup touches one table only and a
leaked secret is recognisable in logs and secret scanners.
"""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum


class Principal(StrEnum):
    EMPLOYER = "employer"
    JOBSEEKER = "jobseeker"
    CONSULTANT = "consultant"
    INTEGRATION = "integration"  # a municipality's case system (docs/integrations.md)


PREFIXES: dict[Principal, str] = {
    Principal.EMPLOYER: "jotr_emp_",
    Principal.JOBSEEKER: "jotr_js_",
    Principal.CONSULTANT: "jotr_con_",
    Principal.INTEGRATION: "jotr_int_",
}


def new_secret(kind: Principal) -> tuple[str, bytes]:
    """Return (secret to hand out, hash to store)."""
    secret = PREFIXES[kind] + secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def kind_of(secret: str) -> Principal | None:
    for kind, prefix in PREFIXES.items():
        if secret.startswith(prefix):
            return kind
    return None
