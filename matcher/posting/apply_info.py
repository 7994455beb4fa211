"""How to apply for a vacancy: the `vacancies.apply` JSON, checked where it enters.

    {"url": "https://...", "email": "job@firma.dk", "phone": "+45 12 34 56 78",
     "how": "Send en kort ansøgning", "walk_in": true,
     "contacts": [{"name": "Jane Doe", "phone": "+4512345678", "email": null}]}

Every key is optional. The API refuses a bad value with a reason (`check`); the
importer keeps what is good and drops the rest (`clean`), because a foreign phone
number in a Jobnet ad must not cost the ad its apply link.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any
from urllib.parse import urlsplit

MAX_URL = 2000
MAX_HOW = 1000
MAX_CONTACTS = 5
KEYS = ("url", "email", "phone", "how", "walk_in", "contacts")
CONTACT_KEYS = ("name", "phone", "email")

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s<>\"]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")
# Danish numbers: 8 digits, optionally +45 / 0045 in front, spaces or dashes between.
_PHONE = re.compile(r"^(?:\+45|0045)?\d{8}$")


class BadApply(ValueError):
    pass


def check_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(value) > MAX_URL:
        raise BadApply("apply.url must be an http(s) URL with a host")
    if any(c.isspace() for c in value):
        raise BadApply("apply.url must not contain spaces")
    return value


def check_email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise BadApply("apply.email is not a plausible e-mail address")
    return value


def check_phone(value: str) -> str:
    """A Danish number, normalised to "+45" and 8 digits."""
    compact = re.sub(r"[\s\-().]", "", value)
    if not _PHONE.match(compact):
        raise BadApply("apply.phone must be a Danish number: 8 digits, optionally +45 first")
    return "+45" + compact[-8:]


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise BadApply(f"{name} must be text")
    value = " ".join(value.split())
    if len(value) > limit:
        raise BadApply(f"{name} is longer than {limit} characters")
    return value


def check(value: Any) -> dict[str, Any] | None:
    """The apply object as stored, or BadApply naming what is wrong."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadApply("apply must be an object")
    unknown = sorted(set(value) - set(KEYS))
    if unknown:
        raise BadApply(f"apply: unknown keys {', '.join(unknown)}; use {', '.join(KEYS)}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if item is None:
            continue
        if key == "url":
            out[key] = check_url(_text(item, "apply.url", MAX_URL))
        elif key == "email":
            out[key] = check_email(_text(item, "apply.email", 254))
        elif key == "phone":
            out[key] = check_phone(_text(item, "apply.phone", 40))
        elif key == "how":
            out[key] = _text(item, "apply.how", MAX_HOW)
        elif key == "walk_in":
            if not isinstance(item, bool):
                raise BadApply("apply.walk_in must be true or false")
            out[key] = item
        else:
            out[key] = _contacts(item)
    return out or None


def _contacts(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or len(value) > MAX_CONTACTS:
        raise BadApply(f"apply.contacts must be a list of at most {MAX_CONTACTS}")
    out = []
    for person in value:
        if not isinstance(person, dict) or set(person) - set(CONTACT_KEYS):
            raise BadApply(f"apply.contacts: each is an object with {', '.join(CONTACT_KEYS)}")
        entry = {}
        if person.get("name") is not None:
            entry["name"] = _text(person["name"], "apply.contacts.name", 200)
        if person.get("phone") is not None:
            entry["phone"] = check_phone(_text(person["phone"], "apply.contacts.phone", 40))
        if person.get("email") is not None:
            entry["email"] = check_email(_text(person["email"], "apply.contacts.email", 254))
        if not entry.get("phone") and not entry.get("email") and not entry.get("name"):
            raise BadApply("apply.contacts: a contact needs a name, phone or e-mail")
        out.append(entry)
    return out


def clean(url: str | None = None, email: str | None = None, phone: str | None = None,
          how: str | None = None, contacts: list[dict[str, str | None]] | None = None,
          ) -> dict[str, Any] | None:  # fmt: skip
    """What an imported ad says about applying, keeping only the values that pass `check`."""
    out: dict[str, Any] = {}
    for key, value, checker in (("url", url, check_url), ("email", email, check_email),
                                ("phone", phone, check_phone)):  # fmt: skip
        if value and value.strip():
            with contextlib.suppress(BadApply):
                out[key] = checker(value)
    if how and how.strip():
        out["how"] = " ".join(how.split())[:MAX_HOW]
    kept = []
    for person in (contacts or [])[:MAX_CONTACTS]:
        entry: dict[str, str] = {}
        name = " ".join((person.get("name") or "").split())[:200]
        if name:
            entry["name"] = name
        for key, checker in (("phone", check_phone), ("email", check_email)):
            value = person.get(key)
            if value and value.strip():
                with contextlib.suppress(BadApply):
                    entry[key] = checker(value)
        if entry:
            kept.append(entry)
    if kept:
        out["contacts"] = kept
    return out or None
