"""Jobnet's search JSON as a `Source`: newest first, details only for new or changed ads.

How a run goes (docs/jobnet-feed.md, "Search source"):

- An **incremental pass** reads `FindJob/Search` newest first, a page at a time.
  Each row's content hash (jobnet_search.row_hash) is compared with the one stored
  in `import_ads`; only new or changed rows get a `FindJob/JobAdDetails` request.
  The pass stops after the first page on which every ad was already imported and
  unchanged: everything older was seen by an earlier run.
- A **sweep** reads every page (no early stop) and then closes the vacancies of
  ads that were not seen since the sweep began: they have left the listing. It
  runs with `--sweep`, on the first run, and by itself every `sweep_every_runs`
  runs or `sweep_every_hours` hours. A sweep that saw fewer than
  `MIN_SWEEP_SHARE` of the open ads closes nothing (a listing that came back
  nearly empty is a broken listing, not a mass withdrawal).

State (JSON in `import_state.cursor`, saved with every page's transaction): the
pass under way and the next page, runs since the last sweep, when it was. A run
that crashed resumes its pass one page before where it stopped (new ads push
the listing down by a few places; the overlap costs no detail requests since
those ads are stored), and then does a fresh incremental pass from page 1 to
pick up what was published meanwhile.

Details answer 404 or 400 for ads hosted elsewhere (`isExternal`, EURES ads);
those are imported from the search row alone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from typing import Any

from matcher.ingest import jobnet_search as fmt
from matcher.ingest.feed_client import FeedClient, FeedError
from matcher.ingest.jobnet_mapping import AdRecord, BrokenPage, BrokenRecord, Tombstone
from matcher.ingest.source import ImportFailed, KnownHashes, SourceBatch

DETAIL_CONCURRENCY = 4  # details in flight at once; the rate limiter still spaces them
MIN_SWEEP_SHARE = 0.5
NO_DETAILS = (400, 404, 410)  # the ad has no Jobnet details (external) or just went away


@dataclass
class SearchState:
    pass_kind: str | None = None  # "incremental" | "sweep" while a pass is under way
    pass_started_at: str | None = None
    next_page: int = 1
    runs_since_sweep: int = 0
    last_sweep_at: str | None = None

    @classmethod
    def decode(cls, text: str | None) -> SearchState:
        if not text:
            return cls()
        try:
            raw = json.loads(text)
            return cls(**{k: raw[k] for k in asdict(cls()) if k in raw})
        except (ValueError, TypeError):
            return cls()  # a cursor of another source format: start afresh

    def encode(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


class SearchSource:
    def __init__(
        self,
        client: FeedClient,
        base_url: str,
        per_page: int = 100,
        sweep: bool = False,
        sweep_every_runs: int = 24,
        sweep_every_hours: float = 24.0,
        name: str = fmt.SOURCE,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.per_page = per_page
        self.force_sweep = sweep
        self.sweep_every_runs = sweep_every_runs
        self.sweep_every_hours = sweep_every_hours
        self.name = name
        self._now = clock or (lambda: dt.datetime.now(dt.UTC))
        self._resumed = False
        self.detail_requests = 0
        self.passes: list[str] = []

    @property
    def retries(self) -> int:
        return self.client.retries

    @property
    def resumed(self) -> bool:
        return self._resumed

    def sweep_due(self, state: SearchState) -> bool:
        if self.force_sweep or state.last_sweep_at is None:
            return True
        if state.runs_since_sweep + 1 >= self.sweep_every_runs:
            return True
        last = dt.datetime.fromisoformat(state.last_sweep_at)
        return self._now() - last >= dt.timedelta(hours=self.sweep_every_hours)

    async def batches(
        self, state_text: str | None, known: KnownHashes
    ) -> AsyncIterator[SourceBatch]:
        state = SearchState.decode(state_text)
        sweep = self.sweep_due(state)
        if state.pass_kind is not None and not (sweep and state.pass_kind == "incremental"):
            self._resumed = True  # an interrupted pass: go on with it
            kind, start = state.pass_kind, max(1, state.next_page - 1)
        else:
            kind, start = ("sweep" if sweep else "incremental"), 1
            state.pass_kind, state.pass_started_at = kind, self._now().isoformat()
        async for batch in self._pass(state, kind, start, known, overlap=self._resumed):
            yield batch
        if self._resumed:
            # What was published while the interrupted pass waited.
            state.pass_kind, state.pass_started_at = "incremental", self._now().isoformat()
            async for batch in self._pass(state, "incremental", 1, known, overlap=False):
                yield batch

    async def _pass(
        self, state: SearchState, kind: str, page: int, known: KnownHashes, overlap: bool
    ) -> AsyncIterator[SourceBatch]:
        self.passes.append(kind)
        started = dt.datetime.fromisoformat(state.pass_started_at or self._now().isoformat())
        overlap_page = page if overlap else None  # read again after a crash: not "caught up"
        previous: list[str] = []
        while True:
            body = await self.client.get_json(
                fmt.search_params(page, self.per_page), url=self.base_url + fmt.SEARCH_PATH
            )
            try:
                listing = fmt.parse_search(body)
            except BrokenPage as exc:
                raise ImportFailed(f"search page {page}: {exc}") from None
            batch, fresh = await self._page(listing, known)
            refs = [ref for ref, _ in batch.seen]
            if refs and refs == previous:  # a listing that ignores pageNumber would loop forever
                raise ImportFailed(f"search page {page} repeats page {page - 1}; stopped")
            previous = refs
            last = not listing.rows or (
                listing.total is not None and page * self.per_page >= listing.total
            )
            caught_up = (
                kind == "incremental" and page != overlap_page and bool(listing.rows) and fresh == 0
            )
            if listing.total is not None:
                batch.remaining = max(0, listing.total - page * self.per_page)
            state.next_page = page + 1
            if last or caught_up:
                self._finish(state, kind, batch, started)
            batch.state = state.encode()
            yield batch
            if last or caught_up:
                return
            page += 1

    def _finish(
        self, state: SearchState, kind: str, batch: SourceBatch, started: dt.datetime
    ) -> None:
        state.pass_kind, state.pass_started_at, state.next_page = None, None, 1
        if kind == "sweep":
            batch.close_unseen_since = started
            batch.min_seen_share = MIN_SWEEP_SHARE
            state.runs_since_sweep, state.last_sweep_at = 0, started.isoformat()
        elif not self.passes[:-1]:  # the run's first pass (a resumed one counts once)
            state.runs_since_sweep += 1

    async def _page(self, listing: fmt.SearchPage, known: KnownHashes) -> tuple[SourceBatch, int]:
        """The page's records (new or changed ads only) and how many rows were fresh."""
        batch = SourceBatch(records=[], state="", ads=len(listing.rows))
        rows: dict[str, dict[str, Any]] = {}
        for row in listing.rows:
            try:
                ref = fmt.row_ref(row)
            except BrokenRecord as exc:
                batch.broken[exc.reason] += 1
                continue
            if ref in rows:
                batch.duplicates += 1
            rows[ref] = row
        hashes = {ref: fmt.row_hash(row) for ref, row in rows.items()}
        stored = await known(list(rows))
        fresh = [ref for ref in rows if stored.get(ref) != hashes[ref]]
        batch.seen = list(hashes.items())
        details = await self._details(fresh)
        records: list[AdRecord | Tombstone] = []
        for ref in fresh:
            try:
                records.append(fmt.map_search_ad(rows[ref], details[ref]))
            except BrokenRecord as exc:
                batch.broken[exc.reason] += 1
        batch.records = records
        return batch, len(fresh)

    async def _details(self, refs: list[str]) -> dict[str, Any]:
        limit = asyncio.Semaphore(DETAIL_CONCURRENCY)

        async def one(ref: str) -> Any:
            async with limit:
                self.detail_requests += 1
                try:
                    return await self.client.get_json(
                        {"incrementViews": "false"}, url=fmt.details_url(self.base_url, ref)
                    )
                except FeedError as exc:
                    if exc.status in NO_DETAILS:
                        return None
                    raise

        found = await asyncio.gather(*(one(ref) for ref in refs))
        return dict(zip(refs, found, strict=True))
