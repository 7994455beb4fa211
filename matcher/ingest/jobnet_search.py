"""The JSON behind jobnet.dk's own search page, and only that: requests, pages, ad -> record.

Everything that knows a field name of `FindJob/Search` and `FindJob/JobAdDetails`
lives here (docs/jobnet-feed.md, "Search source"). It is the JSON the public site
uses, not a published API: when it changes, this module and that page change.
Mapping is pure and checks what the vacancies table would reject, so a record is
either written whole or skipped as broken (`BrokenRecord`, shared with the feed).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from matcher.ingest.jobnet_mapping import (
    AdRecord,
    BrokenPage,
    BrokenRecord,
    _date,
    _deadline,
    _lang,
    _text,
    hours_of,
    html_to_text,
    job_type_of,
    min_age_of,
)
from matcher.models import JobType
from matcher.posting import apply_info

SOURCE = "jobnet-search"
SEARCH_PATH = "/FindJob/Search"
DETAILS_PATH = "/FindJob/JobAdDetails/"
HEADERS = {"x-csrf": "1"}  # the site's own requests carry it; without it the JSON is refused
DENMARK = {"", "danmark", "denmark", "dk"}

# What a search row is compared by: a change in any of these fetches the details
# again. Left out on purpose: flags about the viewer (isSeen, isFavorite), logo
# URLs, and `applicationDeadlineStatus`, which can change as the day nears
# without the ad changing.
HASHED_FIELDS = (
    "jobAdId", "title", "description", "hiringOrgName", "cvr", "workPlaceAddress",
    "postalCode", "postalDistrictName", "municipality", "country", "occupation",
    "conceptUriDa", "jobAnnouncementTypeName", "workHourPartTime", "publicationDate",
    "applicationDeadline", "jobAdUrl", "isExternal",
)  # fmt: skip

# `jobAnnouncementTypeName` (and the details' `job.type`) -> job_type. Names not
# listed, and these when they say nothing of the kind, fall back to the title's
# words (elev, fritidsjob, ...; jobnet_mapping.job_type_of), else ordinary.
ANNOUNCEMENT_TYPES: dict[str, JobType] = {
    "almindelige vilkår": JobType.ORDINARY,
    "ordinaert": JobType.ORDINARY,
    "ordinært": JobType.ORDINARY,
    "fleksjob": JobType.FLEKSJOB,
    "job med løntilskud": JobType.LOENTILSKUD,
    "løntilskud": JobType.LOENTILSKUD,
    "loentilskud": JobType.LOENTILSKUD,
    "efterløn": JobType.ORDINARY,  # jobs open to people on early retirement pay
    "efterloenner": JobType.ORDINARY,
    "førtidspension": JobType.ORDINARY,  # jobs for people on disability pension
    "foertidspension": JobType.ORDINARY,
}


@dataclass(frozen=True, slots=True)
class SearchPage:
    rows: list[Any]
    total: int | None  # totalJobAdCount: every ad in the listing


def search_params(page: int, per_page: int) -> dict[str, str]:
    return {
        "resultsPerPage": str(per_page),
        "pageNumber": str(page),
        "orderType": "PublicationDate",  # newest first
        "searchString": "",
    }


def details_url(base_url: str, ad_id: str) -> str:
    return f"{base_url.rstrip('/')}{DETAILS_PATH}{quote(ad_id, safe='')}"


def parse_search(body: Any) -> SearchPage:
    if not isinstance(body, dict):
        raise BrokenPage("the search answer is not a JSON object")
    rows = body.get("jobAds")
    if not isinstance(rows, list):
        raise BrokenPage("jobAds is missing or not a list")
    total = body.get("totalJobAdCount")
    return SearchPage(rows, total if isinstance(total, int) and total >= 0 else None)


def row_ref(row: Any) -> str:
    if not isinstance(row, dict):
        raise BrokenRecord("not_an_object")
    ad_id = _text(row.get("jobAdId")) if isinstance(row.get("jobAdId"), str) else ""
    if not ad_id or len(ad_id) > 100:
        raise BrokenRecord("missing_id")
    return ad_id


def row_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 of the compared fields, canonical JSON: the same row, the same hash."""
    content = {k: row.get(k) for k in HASHED_FIELDS}
    raw = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def map_search_ad(row: Mapping[str, Any], details: Any) -> AdRecord:
    """A search row and its details (None when there are none, e.g. external ads)."""
    ad_id = row_ref(row)
    try:
        return _map(row, details if isinstance(details, dict) else {}, ad_id)
    except BrokenRecord:
        raise
    except (TypeError, ValueError, OverflowError) as exc:  # a field of the wrong type
        raise BrokenRecord("bad_field", ad_id, str(exc)[:200]) from None


def _obj(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{key} is not an object")
    return value


def _first(*values: Any) -> str:
    for value in values:
        text = " ".join(_text(value).split())
        if text:
            return text
    return ""


def _map(row: Mapping[str, Any], details: Mapping[str, Any], ad_id: str) -> AdRecord:
    job, application = _obj(details, "job"), _obj(details, "application")
    employer, address = _obj(details, "employer"), _obj(job, "address")
    title = _first(details.get("title"), row.get("title"))
    if not title:
        raise BrokenRecord("missing_title", ad_id)
    employer_name = _first(employer.get("name"), row.get("hiringOrgName"))
    if not employer_name:
        raise BrokenRecord("missing_employer", ad_id)
    country = _first(address.get("countryName"), row.get("country")).casefold()
    if country not in DENMARK:
        raise BrokenRecord("outside_denmark", ad_id, country)
    street = _first(address.get("streetName"), row.get("workPlaceAddress"))
    postcode = _first(address.get("postalCode"), row.get("postalCode"))
    town = _first(address.get("city"), row.get("postalDistrictName"))
    place = " ".join(p for p in (postcode, town) if p)
    full_address = ", ".join(p for p in (street, place) if p)[:300]
    if not street and not postcode:
        raise BrokenRecord("missing_location", ad_id)
    text = html_to_text(_first(details.get("body"), row.get("description")))
    kinds = _first(row.get("jobAnnouncementTypeName"), job.get("type"))
    job_type = ANNOUNCEMENT_TYPES.get(kinds.casefold()) or JobType.ORDINARY
    if job_type == JobType.ORDINARY:
        job_type = job_type_of(f"{kinds} {title}")
    part_time = job.get("isPartTime", row.get("workHourPartTime"))
    if part_time is not None and not isinstance(part_time, bool):
        raise ValueError("isPartTime is not true/false")
    work_hours = {True: "Deltid", False: "Fuldtid", None: ""}[part_time]
    hours = hours_of(work_hours, stated_hours(text), job_type)
    openings = application.get("availablePositions")
    openings = int(openings) if openings not in (None, "", 0) else 1
    if not 1 <= openings <= 999:
        raise BrokenRecord("bad_field", ad_id, f"availablePositions {openings}")
    cvr = _first(employer.get("cvrNumber"), row.get("cvr"))
    return AdRecord(
        ref=ad_id,
        title=title[:200],
        text=text,
        lang=_lang({}, title, text),
        employer_name=employer_name[:200],
        employer_cvr=cvr.zfill(8) if cvr.isdigit() and 0 < len(cvr) <= 8 else None,
        address=full_address or None,
        lat=None,
        lon=None,
        job_type=job_type,
        hours_per_week=hours,
        min_age=min_age_of(job_type, text, ""),
        openings=openings,
        start_date=_date(job.get("employmentDate")),
        expires_at=_deadline(application.get("deadlineDate") or row.get("applicationDeadline")),
        apply=apply_info.clean(
            url=_first(application.get("url"), row.get("jobAdUrl")),
            contacts=_contacts(application.get("contactPersons")),
        ),
        occupation_label=_first(job.get("preferredLabelDa"), row.get("occupation")) or None,
        occupation_star_uri=_first(job.get("conceptUriDa"), row.get("conceptUriDa")) or None,
    )


def _contacts(value: Any) -> list[dict[str, str | None]]:
    if not isinstance(value, list):
        return []
    out: list[dict[str, str | None]] = []
    for person in value:
        if not isinstance(person, dict):
            continue
        name = _first(person.get("firstNames"), "") + " " + _first(person.get("lastName"), "")
        out.append(
            {
                "name": name.strip() or None,
                "phone": _first(person.get("phoneNumber"), person.get("phone")) or None,
                "email": _first(person.get("emailAddress"), person.get("email")) or None,
            }
        )
    return out


# "15-20 timer om ugen", "ca. 10 timer ugentligt", "37 timer pr. uge", "8 t/uge"
_STATED_HOURS = re.compile(
    r"(\d{1,2}(?:[.,]\d)?)(?:\s*(?:-|–|til)\s*(\d{1,2}(?:[.,]\d)?))?\s*"
    r"(?:timer|t\.?)\s*(?:om ugen|pr\.? ?uge|per uge|ugentligt|i ugen|/\s*uge|a week|per week)"
)


def stated_hours(text: str) -> str:
    """The ad's own words for its weekly hours ("15-20 timer om ugen"), or ""."""
    found = _STATED_HOURS.search(text.casefold())
    return found.group(0) if found else ""
