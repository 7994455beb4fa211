"""A real local HTTP server for import and geocoding tests.

It serves two things on a free loopback port, from a thread:

- `/feed`: a Jobnet-style change feed in the format of docs/jobnet-feed.md,
  paged by a keyset cursor over (Changed, ID), exactly as the importer expects
  a real feed to behave; items are served as stored, so tests can put broken
  records and duplicates on a page.
- `/bff/FindJob/Search` and `/bff/FindJob/JobAdDetails/{id}`: the JSON behind
  jobnet.dk's own search page (docs/jobnet-feed.md, "Search source"): rows newest
  first by `publicationDate`, paged by `pageNumber`/`resultsPerPage`, details per
  ad (404 for ads without details, as Jobnet answers for external ads). Every
  request's headers are recorded, and requests without `x-csrf: 1` are refused.
- `/datavask/adresser` and `/adresser/{id}`: the two DAWA endpoints that
  matcher/location/geocode.py uses, answering from a small table of addresses.

Faults are scripted per endpoint (`fail_feed`, `fail_search`, `fail_details`,
`fail_dawa`): a status with an optional Retry-After, a delay longer than the
client's timeout, or a body that is not JSON; each fault is used once, in order.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from matcher.location.geocode import normalise


@dataclass
class Fault:
    status: int = 503
    retry_after: str | None = None
    delay_s: float = 0.0  # sleep before answering (longer than the client timeout: a timeout)
    garbage: bool = False  # answer 200 with a body that is not JSON
    payload: Any = None  # answer 200 with this JSON instead of the page


@dataclass
class Entry:
    changed: dt.datetime
    key: str
    item: Any  # served as is: an ad, a tombstone or something broken


@dataclass
class DawaAddress:
    id: str
    vejnavn: str
    husnr: str
    postnr: str
    postnrnavn: str
    lat: float
    lon: float
    kategori: str = "A"

    @property
    def betegnelse(self) -> str:
        return f"{self.vejnavn} {self.husnr}, {self.postnr} {self.postnrnavn}"


@dataclass
class Seen:
    """One request as the server saw it."""

    path: str
    params: dict[str, str]
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival


@dataclass
class State:
    entries: list[Entry] = field(default_factory=list)
    search_rows: list[dict[str, Any]] = field(default_factory=list)  # the listing
    details: dict[str, Any] = field(default_factory=dict)  # jobAdId -> details (absent: 404)
    search_faults: list[Fault] = field(default_factory=list)
    details_faults: list[Fault] = field(default_factory=list)
    search_requests: list[Seen] = field(default_factory=list)
    details_requests: list[Seen] = field(default_factory=list)
    addresses: dict[str, DawaAddress] = field(default_factory=dict)  # normalised input -> found
    feed_faults: list[Fault] = field(default_factory=list)
    dawa_faults: list[Fault] = field(default_factory=list)
    feed_requests: list[dict[str, str]] = field(default_factory=list)
    dawa_requests: list[str] = field(default_factory=list)


def encode_cursor(changed: dt.datetime, key: str) -> str:
    raw = json.dumps([changed.isoformat(), key]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(token: str) -> tuple[dt.datetime, str]:
    changed, key = json.loads(base64.urlsafe_b64decode(token.encode()))
    return dt.datetime.fromisoformat(changed), key


class FeedServer:
    def __init__(self) -> None:
        self.state = State()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.feed_url = f"{self.base_url}/feed"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- scripting -------------------------------------------------------------------

    def put(self, item: Any, changed: dt.datetime, key: str | None = None) -> None:
        """Add or replace a feed entry (replacing by key moves it to its new Changed)."""
        key = key if key is not None else str(item["ID"])
        with self.lock:
            self.state.entries = [e for e in self.state.entries if e.key != key]
            self.state.entries.append(Entry(changed, key, item))

    def add_address(self, written: str, found: DawaAddress) -> None:
        with self.lock:
            self.state.addresses[normalise(written)] = found

    def fail_feed(self, *faults: Fault) -> None:
        with self.lock:
            self.state.feed_faults.extend(faults)

    def publish(self, row: dict[str, Any], details: Any = None) -> None:
        """Add or replace a listed ad (by jobAdId) and its details (None: no details)."""
        with self.lock:
            ad_id = row["jobAdId"]
            self.state.search_rows = [r for r in self.state.search_rows if r["jobAdId"] != ad_id]
            self.state.search_rows.append(row)
            if details is None:
                self.state.details.pop(ad_id, None)
            else:
                self.state.details[ad_id] = details

    def unlist(self, ad_id: str) -> None:
        """The ad leaves the listing (filled, withdrawn): no tombstone, it is just gone."""
        with self.lock:
            self.state.search_rows = [r for r in self.state.search_rows if r["jobAdId"] != ad_id]
            self.state.details.pop(ad_id, None)

    def fail_search(self, *faults: Fault) -> None:
        with self.lock:
            self.state.search_faults.extend(faults)

    def fail_details(self, *faults: Fault) -> None:
        with self.lock:
            self.state.details_faults.extend(faults)

    def detail_ids(self) -> list[str]:
        with self.lock:
            return [r.path.rsplit("/", 1)[-1] for r in self.state.details_requests]

    def fail_dawa(self, *faults: Fault) -> None:
        with self.lock:
            self.state.dawa_faults.extend(faults)

    # --- serving ---------------------------------------------------------------------

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(req.path)
        params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        try:
            if url.path.startswith("/bff/FindJob/"):
                self._search_api(req, url.path, params)
            elif url.path == "/feed":
                with self.lock:
                    self.state.feed_requests.append(params)
                    fault = self.state.feed_faults.pop(0) if self.state.feed_faults else None
                self._answer(req, fault, lambda: self._page(params))
            elif url.path.startswith(("/datavask/adresser", "/adresser/")):
                with self.lock:
                    self.state.dawa_requests.append(req.path)
                    fault = self.state.dawa_faults.pop(0) if self.state.dawa_faults else None
                self._answer(req, fault, lambda: self._dawa(url.path, params))
            else:
                self._send(req, 404, {"error": "not found"})
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass

    def _search_api(self, req: BaseHTTPRequestHandler, path: str, params: dict[str, str]) -> None:
        seen = Seen(path, params, {k.lower(): v for k, v in req.headers.items()}, time.monotonic())
        details = path.startswith("/bff/FindJob/JobAdDetails/")
        with self.lock:
            if details:
                self.state.details_requests.append(seen)
                faults = self.state.details_faults
            else:
                self.state.search_requests.append(seen)
                faults = self.state.search_faults
            fault = faults.pop(0) if faults else None
        if seen.headers.get("x-csrf") != "1":  # as the site does: no header, no JSON
            self._send(req, 400, {"error": "x-csrf header missing"})
            return
        if details:
            self._answer(req, fault, lambda: self._details(path.rsplit("/", 1)[-1]))
        elif path == "/bff/FindJob/Search":
            self._answer(req, fault, lambda: self._search(params))
        else:
            self._send(req, 404, {"error": "not found"})

    def _search(self, params: dict[str, str]) -> tuple[int, Any]:
        try:
            per_page = int(params["resultsPerPage"])
            page = int(params["pageNumber"])
        except (KeyError, ValueError):
            return 400, {"errorCode": 1014, "message": "Fejl i formatering af inputs"}
        if params.get("orderType") != "PublicationDate":
            return 400, {"error": "this server only serves orderType=PublicationDate"}
        with self.lock:
            rows = sorted(
                self.state.search_rows,
                key=lambda r: (r["publicationDate"], r["jobAdId"]),
                reverse=True,
            )
        chunk = rows[(page - 1) * per_page : page * per_page]
        return 200, {
            "jobAds": chunk,
            "totalJobAdCount": len(rows),
            "searchFacets": {"regions": [], "workHours": []},
            "searchString": params.get("searchString", ""),
        }

    def _details(self, ad_id: str) -> tuple[int, Any]:
        ad_id = urllib.parse.unquote(ad_id)
        with self.lock:
            found = self.state.details.get(ad_id)
        if found is None:
            return 404, {"error": "not found"}
        return 200, found

    def _answer(self, req: BaseHTTPRequestHandler, fault: Fault | None, body: Any) -> None:
        if fault is not None:
            if fault.delay_s:
                time.sleep(fault.delay_s)
            if fault.garbage:
                self._send_raw(req, 200, b'{"JobPositionPostings": [', {})
                return
            if fault.payload is not None:
                self._send(req, 200, fault.payload)
                return
            if not fault.delay_s:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._send(req, fault.status, {"error": "scripted"}, headers)
                return
        status, payload = body()
        self._send(req, status, payload)

    def _page(self, params: dict[str, str]) -> tuple[int, Any]:
        size = int(params.get("pageSize", "100"))
        with self.lock:
            entries = sorted(self.state.entries, key=lambda e: (e.changed, e.key))
        if "cursor" in params:
            after = decode_cursor(params["cursor"])
            rest = [e for e in entries if (e.changed, e.key) > after]
            start = after
        else:
            since = dt.datetime.fromisoformat(params["changedSince"])
            rest = [e for e in entries if e.changed >= since]
            start = (since - dt.timedelta(microseconds=1), "\uffff")
        page, later = rest[:size], rest[size:]
        last = (page[-1].changed, page[-1].key) if page else start
        return 200, {
            "JobPositionPostings": [e.item for e in page],
            "NextCursor": encode_cursor(*last),
            "HasMore": bool(later),
            "TotalResultCount": len(later),
        }

    def _dawa(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        with self.lock:
            addresses = dict(self.state.addresses)
        if path.startswith("/datavask/"):
            found = addresses.get(normalise(params.get("betegnelse", "")))
            if found is None:
                return 200, {"kategori": "C", "resultater": []}
            adresse = {
                "id": found.id,
                "vejnavn": found.vejnavn,
                "husnr": found.husnr,
                "postnr": found.postnr,
                "postnrnavn": found.postnrnavn,
                "betegnelse": found.betegnelse,
            }
            return 200, {
                "kategori": found.kategori,
                "resultater": [{"adresse": adresse, "aktueladresse": adresse}],
            }
        address_id = path.rsplit("/", 1)[-1]
        for found in addresses.values():
            if found.id == address_id:
                return 200, {
                    "id": found.id,
                    "betegnelse": found.betegnelse,
                    "x": found.lon,
                    "y": found.lat,
                }
        return 404, {"type": "ResourceNotFoundError"}

    @staticmethod
    def _send(
        req: BaseHTTPRequestHandler,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        FeedServer._send_raw(req, status, json.dumps(payload).encode(), headers or {})

    @staticmethod
    def _send_raw(
        req: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]
    ) -> None:
        req.send_response(status)
        req.send_header("Content-Type", "application/json; charset=utf-8")
        req.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            req.send_header(name, value)
        req.end_headers()
        req.wfile.write(body)
