"""The faces of the service, served by the API itself: the jobseeker app (an
installable web app), the employer page, the consultant console, and the share
page of a vacancy with its Open Graph tags (docs/clients.md).

The pages are plain HTML, CSS and ES modules in api/static; nothing is built at
run time. Map tiles come from `JOTR_MAP_TILE_URL` (OpenStreetMap's by default;
empty: none, the map shows its markers on a plain background, as it does when
tiles cannot be fetched).
"""

from __future__ import annotations

import html
import mimetypes
import uuid
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel

from api.deps import SessionDep, TaxonomyDep
from matcher.errors import NotFound
from matcher.location import places
from matcher.models import Vacancy, VacancyStatus
from matcher.posting import pay as pay_rules
from matcher.posting import vacancies as service
from matcher.settings import Settings

router = APIRouter()

STATIC = Path(__file__).resolve().parents[1] / "static"
PAGES = {"/": "index.html", "/app": "app.html", "/employer": "employer.html",
         "/console": "console.html"}  # fmt: skip
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".png": "image/png",
}
JOB_TYPES = {
    "da": {"ordinary": "Job", "fritidsjob": "Fritidsjob", "smaajob": "Småjob",
           "virksomhedspraktik": "Virksomhedspraktik", "loentilskud": "Løntilskud",
           "elev_laerling": "Elev/lærling", "igu": "IGU", "fleksjob": "Fleksjob"},
    "en": {"ordinary": "Job", "fritidsjob": "Spare-time job", "smaajob": "Small job",
           "virksomhedspraktik": "Work placement", "loentilskud": "Wage-subsidised job",
           "elev_laerling": "Apprenticeship", "igu": "IGU", "fleksjob": "Flex job"},
}  # fmt: skip
# Offers beyond jobs (matcher/offers.py): each kind with its own icon and words.
KIND_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "da": {"leisure": ("⚽", "Fritidsaktivitet"), "volunteering": ("🤝", "Frivilligt arbejde")},
    "en": {"leisure": ("⚽", "Leisure activity"), "volunteering": ("🤝", "Volunteering")},
}
OFFER_TERMS = {
    "da": {"free": "Gratis", "cost": "{n} kr.", "ages": "{lo}-{hi} år"},
    "en": {"free": "Free", "cost": "DKK {n}", "ages": "Ages {lo}-{hi}"},
}
SHARE_SKILLS = 3  # required skills listed on a share page
SHARE_TEXT = {
    "da": {"hours": "timer/uge", "walk_in": "Stik hovedet ind", "open": "Åbn i appen",
           "gone": "Jobbet er ikke længere ledigt", "gone_text": "Find andre job tæt på dig.",
           "find": "Find job tæt på dig", "age": "Fra {age} år", "locale": "da_DK",
           "skills": "Du skal kunne: {skills}"},
    "en": {"hours": "hours/week", "walk_in": "Walk-ins welcome", "open": "Open in the app",
           "gone": "This job is no longer open", "gone_text": "Find other jobs near you.",
           "find": "Find jobs near you", "age": "Age {age}+", "locale": "en_GB",
           "skills": "You should be able to: {skills}"},
}  # fmt: skip


def tile_config(request: Request) -> tuple[str, str]:
    settings: Settings = request.app.state.settings
    return settings.map_tile_url.strip(), settings.map_tile_attribution


def _security_headers(request: Request, tile_url: str) -> dict[str, str]:
    """A strict CSP: our own scripts only, images from us and the tile server,
    connections to us (REST and the push websocket)."""
    ws = ("wss://" if request.url.scheme == "https" else "ws://") + request.url.netloc
    tiles = ""
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "*"))
        tiles = f" {parts.scheme}://{parts.netloc}"
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{tiles}; connect-src 'self' {ws}; "
        "manifest-src 'self'; worker-src 'self'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-cache",
    }


@lru_cache(maxsize=8)
def _read(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def _page(request: Request, name: str) -> HTMLResponse:
    tile_url, attribution = tile_config(request)
    body = Template(_read(name)).safe_substitute(
        tile_url=html.escape(tile_url, quote=True),
        tile_attribution=html.escape(attribution, quote=True),
    )
    return HTMLResponse(body, headers=_security_headers(request, tile_url))


def _register_page(path: str, name: str) -> None:
    async def page(request: Request) -> HTMLResponse:
        return _page(request, name)

    page.__name__ = f"page_{name.split('.')[0]}"
    router.add_api_route(path, page, methods=["GET"], include_in_schema=False)
    if path != "/":
        router.add_api_route(path + "/", page, methods=["GET"], include_in_schema=False)


for _path, _name in PAGES.items():
    _register_page(_path, _name)


def _file(path: Path, cache: str, extra: dict[str, str] | None = None) -> FileResponse:
    media = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff", **(extra or {})}
    return FileResponse(path, media_type=media or "application/octet-stream", headers=headers)


@router.get("/static/{path:path}", include_in_schema=False)
async def static_file(path: str) -> FileResponse:
    try:
        target = (STATIC / path).resolve()
    except (ValueError, OSError):  # e.g. a NUL byte (%00), which no file name holds
        raise NotFound("no such file") from None
    if (
        not target.is_relative_to(STATIC)
        or not target.is_file()
        or any(part.startswith(".") for part in Path(path).parts)
    ):
        raise NotFound("no such file")
    # Our own files change with the code and have no hashed names: revalidate
    # (ETag) every time. The vendored library is versioned in its path.
    cache = "public, max-age=604800" if path.startswith("vendor/") else "no-cache"
    return _file(target, cache)


@router.get("/manifest.webmanifest", include_in_schema=False)
async def manifest() -> FileResponse:
    return _file(STATIC / "manifest.webmanifest", "no-cache")


@router.get("/sw.js", include_in_schema=False)
async def service_worker() -> FileResponse:
    # Served from the root so it may control every page (scope "/").
    return _file(STATIC / "sw.js", "no-cache", {"Service-Worker-Allowed": "/"})


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> FileResponse:
    return _file(STATIC / "icons" / "icon.svg", "public, max-age=86400")


# --- The share page -----------------------------------------------------------


def _absolute(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


def _kind_facts(lang: str, v: Vacancy) -> list[tuple[str, str]]:
    """What kind of offer, and its terms: job type and hours for a job; the kind,
    hours if given, price and age range for leisure and volunteering."""
    text, words, terms = SHARE_TEXT[lang], KIND_WORDS[lang], OFFER_TERMS[lang]
    hours = [("⏱", f"{v.hours_per_week:g} {text['hours']}")] if v.hours_per_week else []
    if v.kind == "job" or v.kind not in words:
        job_type = v.job_type.value if v.job_type is not None else "ordinary"
        return [("💼", JOB_TYPES[lang].get(job_type, job_type)), *hours]
    out = [words[v.kind], *hours]
    if v.cost_dkk is not None:
        cost = terms["free"] if v.cost_dkk == 0 else terms["cost"].format(n=v.cost_dkk)
        out.append(("💰", f"{cost} {v.cost_note}" if v.cost_note and v.cost_dkk else cost))
    return out


def _age_fact(lang: str, v: Vacancy) -> tuple[str, str]:
    if v.max_age is not None:
        return ("🎂", OFFER_TERMS[lang]["ages"].format(lo=v.min_age, hi=v.max_age))
    return ("🎂", SHARE_TEXT[lang]["age"].format(age=v.min_age))


def _share_description(lang: str, parts: dict[str, Any]) -> str:
    text = SHARE_TEXT[lang]
    bits = [label for _, label in parts["kind_facts"]] + [str(parts["employer_name"])]
    if parts["address"]:
        bits.append(str(parts["address"]))
    if parts["walk_in"]:
        bits.append(text["walk_in"])
    line = " · ".join(bits)
    description = str(parts["description"] or "").strip()
    if description:
        snippet = description if len(description) <= 160 else description[:157].rstrip() + "…"
        line = f"{line}. {snippet}"
    return line


@router.get("/v/{vacancy_id}", include_in_schema=False)
async def share_page(
    vacancy_id: str,
    request: Request,
    session: SessionDep,
    taxonomy: TaxonomyDep,
    lang: Annotated[str, Query(pattern="^(da|en)$")] = "da",
) -> HTMLResponse:
    """A vacancy as a page that previews on Facebook, Instagram, X and others:
    Open Graph and Twitter card tags rendered here, every value HTML-escaped."""
    text = SHARE_TEXT[lang]
    esc = html.escape
    vacancy = None
    try:
        vacancy = await service.get(session, uuid.UUID(vacancy_id))
    except (ValueError, NotFound):
        vacancy = None
    tile_url, _ = tile_config(request)
    headers = _security_headers(request, tile_url)
    image = _absolute(request, "/static/img/og-card.png")
    if vacancy is None or vacancy.status != VacancyStatus.OPEN:
        body = Template(_read("share.html")).safe_substitute(
            lang=lang, locale=text["locale"], title=esc(text["gone"]),
            description=esc(text["gone_text"]), url=esc(_absolute(request, "/app"), quote=True),
            image=esc(image, quote=True), heading=esc(text["gone"]), employer="", facts="",
            body=esc(text["gone_text"]), app_link="/app", open_label=esc(text["find"]),
            robots="noindex",
        )  # fmt: skip
        return HTMLResponse(body, status_code=404, headers=headers)
    names = await service.employer_names(session, {vacancy.employer_id})
    employer = names.get(vacancy.employer_id, "")
    description = _share_description(
        lang,
        {
            "kind_facts": _kind_facts(lang, vacancy),
            "employer_name": employer,
            "address": vacancy.address,
            "walk_in": vacancy.walk_in and vacancy.employer_verified,  # employer trust
            "description": vacancy.description,
        },
    )
    facts = [*_kind_facts(lang, vacancy), _age_fact(lang, vacancy)]
    pay_text = pay_rules.label(vacancy.pay, lang)
    if pay_text:
        facts.append(("💰", pay_text))
    if vacancy.address:
        facts.append(("📍", vacancy.address))
    if vacancy.walk_in and vacancy.employer_verified:  # employer trust (matcher/matching/geo.py)
        facts.append(("🚪", text["walk_in"]))
    if any(taxonomy.has_skill(i) for i in vacancy.required_skill_ids):
        # The first few required skills, in the page's language (easy Danish for da).
        known = [i for i in vacancy.required_skill_ids if taxonomy.has_skill(i)]
        shown = [taxonomy.skill_label(i, lang) for i in known[:SHARE_SKILLS]]
        facts.append(("✅", text["skills"].format(skills=", ".join(shown))))
    facts_html = "".join(
        f'<li><span aria-hidden="true">{icon}</span> {esc(label)}</li>' for icon, label in facts
    )
    url = _absolute(request, f"/v/{vacancy.id}")
    # A link shared in a language opens the app in it too (the app reads ?lang=);
    # without one the app follows the phone.
    carried = f"?lang={lang}" if "lang" in request.query_params else ""
    body = Template(_read("share.html")).safe_substitute(
        lang=lang, locale=text["locale"], title=esc(vacancy.title, quote=True),
        description=esc(description, quote=True), url=esc(url, quote=True),
        image=esc(image, quote=True), heading=esc(vacancy.title), employer=esc(employer),
        facts=facts_html, body=esc(vacancy.description or ""),
        app_link=esc(f"/app{carried}#job-{vacancy.id}", quote=True), open_label=esc(text["open"]),
        robots="index",
    )  # fmt: skip
    return HTMLResponse(body, headers=headers)


# --- Places (postcodes and towns) for the map search -------------------------


class PlaceOut(BaseModel):
    label: str
    postcode: str
    locality: str
    lat: float
    lon: float


class PlaceList(BaseModel):
    query: str
    items: list[PlaceOut]


@router.get(
    "/v1/places",
    response_model=PlaceList,
    tags=["taxonomy"],
    summary="Danish postcodes and towns for a few typed letters (to move a map)",
)
async def suggest_places(
    q: Annotated[str, Query(min_length=1, max_length=100)],
    limit: Annotated[int, Query(ge=1, le=20)] = 8,
) -> PlaceList:
    found = places.suggest(q, limit)
    return PlaceList(
        query=q,
        items=[
            PlaceOut(label=p.label, postcode=p.postcode, locality=p.locality, lat=p.lat, lon=p.lon)
            for p in found
        ],
    )
