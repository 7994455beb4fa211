"""The Jobnet feed format, and only the format: requests, pages, ad -> record.

Everything that knows a field name of the feed lives here (docs/jobnet-feed.md
describes the format), so a real feed's format slots in by changing this module.
The importer sees `FeedPage`, `AdRecord`, `Tombstone` and `BrokenRecord`.

Field names follow Jobnet's own JSON (`JobPositionPostings`, `HiringOrgName`,
`WorkPlacePostalCode`, `LastDateApplication` ...); the paging envelope
(`NextCursor`, `HasMore`) and the per-ad `Changed`/`Deleted` are what a change
feed needs on top. Mapping is pure and checks everything the vacancies table
would reject, so a record is either written whole or skipped as broken.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

from matcher.models import JobType
from matcher.posting import apply_info

SOURCE = "jobnet"
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# Denmark with Bornholm and Ertholmene; Greenland and the Faroes are outside.
DK_LAT = (54.4, 57.9)
DK_LON = (7.8, 15.3)

FULL_TIME_HOURS = 37.0
PART_TIME_HOURS = 20.0  # "Deltid" with no hours given


class BrokenRecord(ValueError):
    """An ad that cannot become a vacancy. `reason` is a short, countable key."""

    def __init__(self, reason: str, ad_id: str | None = None, detail: str = "") -> None:
        self.reason, self.ad_id, self.detail = reason, ad_id, detail
        super().__init__(f"{reason} (ad {ad_id or '?'}){': ' + detail if detail else ''}")


class BrokenPage(ValueError):
    """The page itself is not in the expected shape: nothing on it can be trusted."""


@dataclass(frozen=True, slots=True)
class FeedPage:
    items: list[Any]  # raw ads; each is mapped on its own
    cursor: str  # where the feed continues (after this page)
    has_more: bool
    remaining: int | None  # ads left in this query, if the feed says (for progress bars)


@dataclass(frozen=True, slots=True)
class AdRecord:
    ref: str  # the feed's ad id
    title: str
    text: str  # plain text (the ad's HTML stripped)
    lang: str  # "da" | "en"
    employer_name: str
    employer_cvr: str | None
    address: str | None  # "Street 12, 8000 Town" as written, for display and geocoding
    lat: float | None  # coordinates the feed gave, None when it gave none
    lon: float | None
    job_type: JobType
    hours_per_week: float
    min_age: int
    openings: int
    start_date: dt.date | None
    expires_at: dt.datetime | None
    # How to apply (matcher/posting/apply_info.py shape), kept on the vacancy.
    apply: dict[str, Any] | None = None
    # The source's own occupation, when it names one: a Danish label and a STAR URI.
    occupation_label: str | None = None
    occupation_star_uri: str | None = None


@dataclass(frozen=True, slots=True)
class Tombstone:
    """The ad was withdrawn at the source."""

    ref: str


# --- requests and pages ----------------------------------------------------------


def first_request(since: dt.datetime, page_size: int) -> dict[str, str]:
    return {"changedSince": since.astimezone(dt.UTC).isoformat(), "pageSize": str(page_size)}


def next_request(cursor: str, page_size: int) -> dict[str, str]:
    return {"cursor": cursor, "pageSize": str(page_size)}


def parse_page(body: Any) -> FeedPage:
    if not isinstance(body, dict):
        raise BrokenPage("the page is not a JSON object")
    items = body.get("JobPositionPostings")
    cursor = body.get("NextCursor")
    has_more = body.get("HasMore")
    if not isinstance(items, list):
        raise BrokenPage("JobPositionPostings is missing or not a list")
    if not isinstance(cursor, str) or not cursor:
        raise BrokenPage("NextCursor is missing")
    if not isinstance(has_more, bool):
        raise BrokenPage("HasMore is missing or not true/false")
    remaining = body.get("TotalResultCount")
    return FeedPage(items, cursor, has_more, remaining if isinstance(remaining, int) else None)


# --- one ad ----------------------------------------------------------------------


def map_ad(raw: Any) -> AdRecord | Tombstone:
    """One feed item as a record to upsert, or a tombstone; raises BrokenRecord."""
    if not isinstance(raw, dict):
        raise BrokenRecord("not_an_object")
    ad_id = _text(raw.get("ID"))
    if not ad_id or len(ad_id) > 100:
        raise BrokenRecord("missing_id")
    if raw.get("Deleted") is True:
        return Tombstone(ad_id)
    try:
        return _map(raw, ad_id)
    except BrokenRecord:
        raise
    except (TypeError, ValueError, OverflowError) as exc:  # a field of the wrong type
        raise BrokenRecord("bad_field", ad_id, str(exc)[:200]) from None


def _map(raw: Mapping[str, Any], ad_id: str) -> AdRecord:
    title = " ".join(_text(raw.get("Title") or raw.get("JobHeadline")).split())
    if not title:
        raise BrokenRecord("missing_title", ad_id)
    employer = " ".join(_text(raw.get("HiringOrgName")).split())
    if not employer:
        raise BrokenRecord("missing_employer", ad_id)
    text = html_to_text(_text(raw.get("Presentation")))
    lat, lon = _coordinates(raw, ad_id)
    address = _address(raw)
    if lat is None and not address:
        raise BrokenRecord("missing_location", ad_id)
    kinds = " ".join(_text(raw.get(k)) for k in ("JobAnnouncementType", "EmploymentType", "Title"))
    job_type = job_type_of(kinds)
    work_time = raw.get("JoblogWorkTime") or {}
    if not isinstance(work_time, dict):
        raise BrokenRecord("bad_field", ad_id, "JoblogWorkTime is not an object")
    hours = hours_of(_text(raw.get("WorkHours")), _text(work_time.get("WorkHour")), job_type)
    openings = raw.get("NumberToFill")
    openings = int(openings) if openings not in (None, "", 0) else 1
    if not 1 <= openings <= 999:
        raise BrokenRecord("bad_field", ad_id, f"NumberToFill {openings}")
    return AdRecord(
        ref=ad_id,
        title=title[:200],
        text=text,
        lang=_lang(raw, title, text),
        employer_name=employer[:200],
        employer_cvr=_cvr(raw.get("HiringOrgCVR")),
        address=address,
        lat=lat,
        lon=lon,
        job_type=job_type,
        hours_per_week=hours,
        min_age=min_age_of(job_type, text, _text(work_time.get("DailyWorkTime"))),
        openings=openings,
        start_date=_date(raw.get("AssignmentStartDate")),
        expires_at=_deadline(raw.get("LastDateApplication")),
        apply=apply_info.clean(url=_text(raw.get("Url"))),
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value).replace("\x00", "").strip()
    raise ValueError(f"expected text, got {type(value).__name__}")


def _coordinates(raw: Mapping[str, Any], ad_id: str) -> tuple[float | None, float | None]:
    loc = raw.get("Location")
    if not isinstance(loc, dict):
        loc = {}
    lat = raw.get("Latitude", loc.get("Latitude"))
    lon = raw.get("Longitude", loc.get("Longitude"))
    if lat in (None, "", 0) or lon in (None, "", 0):  # Jobnet sends 0, 0 for "no location"
        return None, None
    lat, lon = float(lat), float(lon)
    if not (DK_LAT[0] <= lat <= DK_LAT[1] and DK_LON[0] <= lon <= DK_LON[1]):
        raise BrokenRecord("outside_denmark", ad_id, f"{lat}, {lon}")
    return lat, lon


def _address(raw: Mapping[str, Any]) -> str | None:
    street = " ".join(_text(raw.get("WorkPlaceAddress")).split())
    place = " ".join(
        p for p in (_text(raw.get("WorkPlacePostalCode")), _text(raw.get("WorkPlaceCity"))) if p
    )
    address = ", ".join(p for p in (street, place) if p)
    return address[:300] or None


def _cvr(value: Any) -> str | None:
    digits = _text(value)
    return digits.zfill(8) if digits.isdigit() and 0 < len(digits) <= 8 else None


def _parse_time(value: Any) -> dt.datetime | None:
    """ISO 8601; Jobnet writes Danish local time without an offset."""
    text = _text(value)
    if not text or text.startswith("0001-01-01"):  # .NET's DateTime.MinValue: "not set"
        return None
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=COPENHAGEN)


def _date(value: Any) -> dt.date | None:
    moment = _parse_time(value)
    return moment.astimezone(COPENHAGEN).date() if moment else None


def _deadline(value: Any) -> dt.datetime | None:
    """The last day one may apply, inclusive: the ad expires at the next local midnight."""
    day = _date(value)
    if day is None:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), COPENHAGEN)


def parse_since(text: str) -> dt.datetime:
    """A `--since` value: ISO date or date-time; no offset means Danish local time."""
    moment = dt.datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=COPENHAGEN)


# --- interpretation ----------------------------------------------------------------

# Looked for in the ad's announcement type, employment type and title, in this
# order of precedence. "elev" also as the end of a compound ("kontorelev") but not
# inside "relevant" or "elevator".
_JOB_TYPES: tuple[tuple[re.Pattern[str], JobType], ...] = tuple(
    (re.compile(pattern), job_type)
    for pattern, job_type in (
        (r"fleksjob", JobType.FLEKSJOB),
        (r"løntilskud", JobType.LOENTILSKUD),
        (r"virksomhedspraktik|\bpraktik(?:plads|forløb)?\b", JobType.VIRKSOMHEDSPRAKTIK),
        (r"\bigu\b|integrationsgrunduddannelse", JobType.IGU),
        (r"elev(?:plads|pladser|er)?\b|lærling", JobType.ELEV_LAERLING),
        (r"fritidsjob", JobType.FRITIDSJOB),
        (r"småjob", JobType.SMAAJOB),
    )
)


def job_type_of(kinds: str) -> JobType:
    folded = kinds.casefold()
    for pattern, job_type in _JOB_TYPES:
        if pattern.search(folded):
            return job_type
    return JobType.ORDINARY


_HOURS = re.compile(r"(\d+(?:[.,]\d+)?)")


def hours_of(work_hours: str, detail: str, job_type: JobType) -> float:
    """Weekly hours: the numbers in "(15 - 20 timer ugentligt)" (their mean), else by kind."""
    numbers = [float(n.replace(",", ".")) for n in _HOURS.findall(detail)]
    numbers = [n for n in numbers if 0 < n <= 80]
    if numbers:
        return round(sum(numbers) / len(numbers), 1)
    if "fuld" in work_hours.casefold():
        return FULL_TIME_HOURS
    if job_type in (JobType.FRITIDSJOB, JobType.SMAAJOB):
        return 8.0
    return PART_TIME_HOURS if "del" in work_hours.casefold() else FULL_TIME_HOURS


_AGE = re.compile(
    r"(?:mindst|min\.?|minimum|fyldt|fra|over|at least|aged?)\s*(1[3-9]|[2-9]\d)\s*(?:år|years?)"
)


def min_age_of(job_type: JobType, text: str, daily_work_time: str) -> int:
    """The youngest who may be shown the ad.

    An imported ad says nothing the youth rules need (kind of workplace, days and
    hours, alcohol, work alone, hazards), so it is for adults unless the employer
    states an age in the ad: then that age, and the rules judge the rest from what
    the import knows (weekly hours; an unknown workplace is 'other'). Evening or
    night work ("aften", "nat" in the working times) means 18 whatever the ad
    says, since its hours cannot be checked against the evening limits.
    """
    found = _AGE.search(text.casefold())
    age = int(found.group(1)) if found else 18
    if re.search(r"(?<!\w)(nat|aften)", daily_work_time.casefold()):
        age = max(age, 18)
    return min(max(age, 13), 99)


_DA = {"og", "at", "du", "vi", "til", "med", "er", "på", "af", "for", "det", "har", "som", "en"}
_EN = {"and", "to", "you", "we", "the", "with", "are", "on", "of", "for", "it", "have", "as", "a"}


def _lang(raw: Mapping[str, Any], title: str, text: str) -> str:
    given = _text(raw.get("Language")).casefold()[:2]
    if given in ("da", "en"):
        return given
    words = re.findall(r"\w+", f"{title} {text}".casefold())[:400]
    english = sum(w in _EN for w in words)
    danish = sum(w in _DA for w in words)
    return "en" if english > danish else "da"


class _TextOnly(HTMLParser):
    """Text of an ad's HTML: tags dropped, their content kept, except script and
    style (and the like), whose content is code, not text. The result is stored
    and shown as plain text, never as markup, so nothing of the HTML survives."""

    _BREAKS = frozenset({"p", "br", "li", "div", "h1", "h2", "h3", "h4", "tr", "ul", "ol"})
    _HIDDEN = frozenset({"script", "style", "template", "noscript", "iframe", "object", "svg"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self.hidden += 1
        elif tag in self._BREAKS:
            self.parts.append("\n- " if tag == "li" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The ad's HTML as plain text with one line per paragraph or bullet."""
    if "<" not in markup:
        return html.unescape(markup).strip()
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line and line != "-")
