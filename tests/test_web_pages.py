"""The web faces as HTTP: pages, manifest, service worker, static files, the
share page's Open Graph tags (escaped), and place suggestions."""

from __future__ import annotations

import json
import uuid
from html.parser import HTMLParser

import httpx

from tests.builders import auth, new_employer, new_vacancy, next_spot


class Meta(HTMLParser):
    """<meta property|name=… content=…> of a page, and its <title>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, str] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and a.get("content") is not None:
            key = a.get("property") or a.get("name")
            if key:
                self.tags[key] = a["content"] or ""
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def meta(html: str) -> Meta:
    parser = Meta()
    parser.feed(html)
    return parser


async def test_pages_are_served_with_a_strict_policy(client: httpx.AsyncClient) -> None:
    for path in ("/", "/app", "/app/", "/employer", "/console"):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html")
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "$tile" not in r.text  # the tile settings were filled in
    app = (await client.get("/app")).text
    tags = meta(app).tags
    assert tags["jotr-tiles"].startswith("https://") and "{z}" in tags["jotr-tiles"]
    assert '<link rel="manifest" href="/manifest.webmanifest">' in app
    # Tiles may be loaded from the tile server; nothing else from outside.
    csp = (await client.get("/app")).headers["content-security-policy"]
    assert "img-src 'self' data: blob: https://tile.openstreetmap.org" in csp


async def test_manifest_and_service_worker(client: httpx.AsyncClient) -> None:
    r = await client.get("/manifest.webmanifest")
    assert r.status_code == 200 and r.headers["content-type"] == "application/manifest+json"
    manifest = json.loads(r.text)
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/app"
    sizes = {i["sizes"] for i in manifest["icons"] if i["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        got = await client.get(icon["src"])
        assert got.status_code == 200 and got.headers["content-type"] == icon["type"]
    sw = await client.get("/sw.js")
    assert sw.status_code == 200
    assert sw.headers["content-type"].startswith("text/javascript")
    assert sw.headers["service-worker-allowed"] == "/"
    # Everything the worker caches for offline use exists.
    shell = sw.text.split("const SHELL = [", 1)[1].split("];", 1)[0]
    for path in json.loads("[" + shell.rstrip().rstrip(",") + "]"):
        assert (await client.get(path)).status_code == 200, path


async def test_static_files_and_no_way_out(client: httpx.AsyncClient) -> None:
    r = await client.get("/static/vendor/leaflet/leaflet.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "max-age" in r.headers["cache-control"]
    r = await client.get("/static/js/app.js")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
    for path in (
        "/static/../routers/web.py",
        "/static/%2e%2e/routers/web.py",
        "/static/..%2frouters/web.py",
        "/static/nope.js",
        "/static/js",
    ):
        assert (await client.get(path)).status_code == 404, path


async def test_share_page_has_escaped_open_graph_tags(client: httpx.AsyncClient) -> None:
    lat, lon = next_spot()
    emp = await new_employer(client, name='Café "Ø" & <Co>')
    title = 'Barista <script>alert("x")</script> & "friends"'
    v = await new_vacancy(
        client,
        emp["api_key"],
        lat,
        lon,
        title=title,
        description="Kaffe & kage.\nHver lørdag.",
        address="Åboulevarden 22, 8000 Aarhus C",
        walk_in=True,
    )
    r = await client.get(f"/v/{v['id']}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<script>alert" not in r.text and "<Co>" not in r.text
    page = meta(r.text)
    tags = page.tags
    assert tags["og:title"] == title == tags["twitter:title"]
    assert page.title == f"{title} – Job On the Run"
    base = str(client.base_url).rstrip("/")
    assert tags["og:url"] == f"{base}/v/{v['id']}"
    assert tags["og:type"] == "website" and tags["og:locale"] == "da_DK"
    assert tags["twitter:card"] == "summary_large_image"
    description = tags["og:description"]
    assert description == tags["twitter:description"] == tags["description"]
    for part in ("Fritidsjob", "10 timer/uge", 'Café "Ø" & <Co>', "Åboulevarden 22", "Kaffe"):
        assert part in description, part
    assert tags["og:image"].startswith(base + "/")
    image = await client.get(tags["og:image"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    english = meta((await client.get(f"/v/{v['id']}", params={"lang": "en"})).text).tags
    assert "Spare-time job" in english["og:description"] and english["og:locale"] == "en_GB"


async def test_share_page_of_a_missing_or_closed_vacancy(client: httpx.AsyncClient) -> None:
    for path in (f"/v/{uuid.uuid4()}", "/v/not-a-uuid"):
        r = await client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert meta(r.text).tags["robots"] == "noindex"
    lat, lon = next_spot()
    emp = await new_employer(client)
    v = await new_vacancy(client, emp["api_key"], lat, lon, title="Lukket job")
    await client.delete(f"/v1/vacancies/{v['id']}", headers=auth(emp["api_key"]))
    r = await client.get(f"/v/{v['id']}")
    assert r.status_code == 404 and "Lukket job" not in r.text
    assert "ikke længere ledigt" in r.text


async def test_places_for_the_map_search(client: httpx.AsyncClient) -> None:
    async def labels(q: str) -> list[str]:
        r = await client.get("/v1/places", params={"q": q})
        assert r.status_code == 200
        return [p["label"] for p in r.json()["items"]]

    assert (await labels("8000"))[0] == "8000 Aarhus C"
    assert all(label.startswith("82") for label in await labels("82"))
    assert "8000 Aarhus C" in await labels("århus") or "8000 Aarhus C" in await labels("aarhus")
    assert "8260 Viby J" in await labels("viby")
    r = await client.get("/v1/places", params={"q": "8260"})
    place = r.json()["items"][0]
    assert abs(place["lat"] - 56.13) < 0.1 and abs(place["lon"] - 10.15) < 0.1
    assert (await client.get("/v1/places", params={"q": ""})).status_code == 422
