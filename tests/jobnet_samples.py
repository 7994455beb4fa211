"""Job ads in the recorded Jobnet feed format (docs/jobnet-feed.md) for import tests.

The field names and value styles are Jobnet's own (`JobPositionPostings` items:
HTML `Presentation`, local times without an offset, `0001-01-01T00:00:00` for
"not set", coordinates 0 when unknown); the texts are written like real Danish
youth-job ads.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

CPH = ZoneInfo("Europe/Copenhagen")
BASE = dt.datetime(2026, 11, 2, 8, 0, tzinfo=CPH)

# (title, presentation HTML, employer, cvr, street, postcode, city, lat, lon, kind, hours)
_TEMPLATES: list[tuple[str, str, str, int | None, str, str, str, float, float, str, str]] = [
    (
        "Barista til weekendvagter",
        "<p>Vi søger en glad barista til vores kaffebar i Latinerkvarteret.</p>"
        "<ul><li>Du brygger espresso og laver kaffe</li><li>Du betjener kunder i kassen</li>"
        "</ul><p>Du skal være fyldt 15 år.</p>",
        "Kaffe & Kage ApS",
        38129456,
        "Mejlgade 24",
        "8000",
        "Aarhus C",
        56.1596,
        10.2108,
        "Fritidsjob",
        "(8 - 12 timer ugentligt)",
    ),
    (
        "Køkkenmedhjælper",
        "<p>Travl restaurant søger køkkenmedhjælper til opvask og klargøring af grøntsager."
        "</p><p>Arbejdstid: aften og weekend.</p>",
        "Restaurant Åen",
        29384756,
        "Åboulevarden 30",
        "8000",
        "Aarhus C",
        56.1567,
        10.2071,
        "Ordinært job",
        "(15 - 20 timer ugentligt)",
    ),
    (
        "Butiksassistent",
        "<p>Netto søger butiksassistent til opfyldning af varer og arbejde i kassen.</p>",
        "Netto Frederiks Allé",
        35954716,
        "Frederiks Allé 100",
        "8000",
        "Aarhus C",
        0.0,
        0.0,
        "",
        "",
    ),
    (
        "Lagermedarbejder",
        "<p>Vi søger lagermedarbejder til plukning og pakning af ordrer. Truckcertifikat er "
        "en fordel.</p>",
        "Lager Nord A/S",
        None,
        "Industrivej 9999",
        "8200",
        "Aarhus N",
        0.0,
        0.0,
        "",
        "Fuldtid",
    ),
    (
        "Cleaning assistant",
        "<p>We are looking for a cleaning assistant for offices in the city centre. "
        "You clean floors and empty bins in the early morning.</p>",
        "CleanCo Denmark",
        40112233,
        "Søren Frichs Vej 38",
        "8230",
        "Åbyhøj",
        56.1520,
        10.1560,
        "",
        "Deltid",
    ),
]


def ad(i: int, **overrides: Any) -> dict[str, Any]:
    """Ad number i (ID str(i)), cycling through the templates; fields can be overridden."""
    t = _TEMPLATES[i % len(_TEMPLATES)]
    title, text, employer, cvr, street, postcode, city, lat, lon, kind, hours = t
    item: dict[str, Any] = {
        "ID": str(i),
        "Title": title,
        "JobHeadline": title,
        "Presentation": text,
        "HiringOrgName": employer,
        "HiringOrgCVR": cvr,
        "WorkPlaceAddress": street,
        "WorkPlacePostalCode": postcode,
        "WorkPlaceCity": city,
        "Latitude": lat,
        "Longitude": lon,
        "PostingCreated": "2026-11-01T00:00:00",
        "LastDateApplication": "2027-01-15T00:00:00",
        "AssignmentStartDate": "0001-01-01T00:00:00",
        "JobAnnouncementType": kind,
        "EmploymentType": "",
        "WorkHours": "Deltid" if "timer" in hours else hours,
        "JoblogWorkTime": {"WorkHour": hours, "DailyWorkTime": ""},
        "NumberToFill": 1,
        "Url": f"https://job.jobnet.dk/CV/FindWork/Details/{i}",
        "Changed": changed(i).isoformat(),
        "Deleted": False,
    }
    item.update(overrides)
    return item


def changed(i: int) -> dt.datetime:
    return BASE + dt.timedelta(minutes=i)


def tombstone(i: int, when: dt.datetime) -> dict[str, Any]:
    return {"ID": str(i), "Changed": when.isoformat(), "Deleted": True}


# --- the search JSON behind jobnet.dk's own page (docs/jobnet-feed.md, "Search source") ---

# Danish occupation labels as Jobnet writes them, one per template: exact ESCO
# labels, a typo (found by the fuzzy step), and one ESCO has no Danish label for.
_OCCUPATIONS = ["Barista", "Køkkenmedhjælper", "Butiksasistent", "Lagermedarbejder",
                "Rengøringsassistent"]  # fmt: skip
STAR = "http://data.star.dk/esco/occupation/"


def search_id(i: int) -> str:
    return f"5e1f0000-0000-4000-8000-{i:012d}"


def star_uri(i: int) -> str:
    """A STAR occupation URI: its UUID is STAR's own, unknown to ESCO."""
    return f"{STAR}{(i % len(_TEMPLATES)):08d}-57a2-4000-8000-000000000000"


def published(i: int) -> dt.datetime:
    return BASE + dt.timedelta(minutes=i)


def search_row(i: int, **overrides: Any) -> dict[str, Any]:
    """A `FindJob/Search` row: ad number i, newer the larger i."""
    t = _TEMPLATES[i % len(_TEMPLATES)]
    title, text, employer, cvr, street, postcode, city, _, _, _, hours = t
    row: dict[str, Any] = {
        "jobAdId": search_id(i),
        "title": title,
        "description": text,
        "hiringOrgName": employer,
        "cvr": str(cvr) if cvr else "",
        "workPlaceAddress": street,
        "postalCode": int(postcode),
        "postalDistrictName": city,
        "municipality": "Aarhus",
        "country": "Danmark",
        "occupation": _OCCUPATIONS[i % len(_OCCUPATIONS)],
        "conceptUriDa": star_uri(i),
        "jobAnnouncementTypeName": "Almindelige vilkår",
        "workHourPartTime": "Deltid" in hours or "timer" in hours,
        "publicationDate": published(i).isoformat(),
        "applicationDeadline": "2027-01-15T21:59:00+01:00",
        "applicationDeadlineStatus": "ExpirationDate",
        "jobAdUrl": f"https://karriere.example.dk/job/{i}",
        "isExternal": False,
        "hasLogo": False,
        "isSeen": False,
        "isFavorite": False,
    }
    row.update(overrides)
    return row


def details(i: int, **overrides: Any) -> dict[str, Any]:
    """The `FindJob/JobAdDetails/{id}` answer for ad number i."""
    row = search_row(i)
    body: dict[str, Any] = {
        "id": row["jobAdId"],
        "title": row["title"],
        "body": row["description"] + "<p>Vi tilbyder 15-20 timer om ugen.</p>",
        "publicationDateTime": row["publicationDate"],
        "employer": {
            "cvrNumber": row["cvr"],
            "pNumber": "1003367314",
            "name": row["hiringOrgName"],
        },
        "job": {
            "type": "Ordinaert",
            "address": {
                "streetName": row["workPlaceAddress"],
                "city": row["postalDistrictName"],
                "postalCode": str(row["postalCode"]),
                "municipality": "Aarhus",
                "countryCode": "DK",
                "countryName": "Danmark",
            },
            "isPartTime": row["workHourPartTime"],
            "employmentDate": "2026-12-01T00:00:00+01:00",
            "conceptUriDa": row["conceptUriDa"],
            "preferredLabelDa": row["occupation"],
        },
        "application": {
            "deadlineDate": row["applicationDeadline"],
            "availablePositions": 2,
            "contactPersons": [
                {
                    "firstNames": "Mette",
                    "lastName": "Hansen",
                    "phoneNumber": "+45 86 12 34 56",
                    "emailAddress": "mette@firma.example.dk",
                },
            ],
            "url": f"https://karriere.example.dk/ansog/{i}",
            "urlText": "Søg jobbet",
            "isApplicationDeadlineASAP": False,
        },
    }
    body.update(overrides)
    return body
