"""The seam between where ads come from and how they are stored.

A `Source` yields `SourceBatch`es of internal records (`AdRecord`, `Tombstone`);
the importer (matcher/ingest/importer.py) turns each batch into one transaction
together with the source's opaque `state` after it, so a source resumes exactly
after its last committed batch. Two sources exist:

- `FeedSource` (here): the paginated "changed since" feed of docs/jobnet-feed.md
  ("Feed source"), with a cursor as state;
- `SearchSource` (matcher/ingest/search_source.py): the JSON behind jobnet.dk's own
  search page, newest first, with detail requests only for new or changed ads.

STAR's official JobannonceService (an agreement and a certificate) would be a third
`Source` yielding the same records.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from matcher.ingest import jobnet_mapping as feed_format
from matcher.ingest.feed_client import FeedClient
from matcher.ingest.jobnet_mapping import AdRecord, BrokenRecord, Tombstone

# ref -> the content hash stored for it (None: stored without a hash); missing: never seen.
KnownHashes = Callable[[Sequence[str]], Awaitable[dict[str, str | None]]]


class ImportFailed(Exception):
    """The import stopped; everything before the failing batch is committed."""


@dataclass
class SourceBatch:
    records: list[AdRecord | Tombstone]  # one per ref (a source keeps only the last copy)
    state: str  # the source's position after this batch, saved in its transaction
    ads: int = 0  # items read, broken ones included
    broken: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    remaining: int | None = None  # items still to come, if known (progress bars)
    # Listing sources: (ref, content hash) of every ad the batch saw in the listing.
    seen: list[tuple[str, str]] = field(default_factory=list)
    # A finished full sweep: close this source's vacancies not seen since this moment.
    close_unseen_since: dt.datetime | None = None
    # ...but only if the sweep saw at least this share of the source's open vacancies.
    min_seen_share: float = 0.0


class Source(Protocol):
    """Where ads come from; `name` keys its state, source_refs and employers."""

    name: str

    @property
    def retries(self) -> int: ...

    @property
    def resumed(self) -> bool:
        """Whether this run continued from a stored position (set once batches began)."""

    def batches(self, state: str | None, known: KnownHashes) -> AsyncIterator[SourceBatch]: ...


class FeedSource:
    """The "changed since" feed (docs/jobnet-feed.md, "Feed source"): state is its cursor."""

    def __init__(
        self,
        client: FeedClient,
        since: dt.datetime | None = None,
        page_size: int = 100,
        name: str = feed_format.SOURCE,
    ) -> None:
        self.client = client
        self.since = since
        self.page_size = page_size
        self.name = name
        self._resumed = False

    @property
    def retries(self) -> int:
        return self.client.retries

    @property
    def resumed(self) -> bool:
        return self._resumed

    async def batches(self, state: str | None, known: KnownHashes) -> AsyncIterator[SourceBatch]:
        self._resumed = state is not None
        if state is None and self.since is None:
            raise ImportFailed(f"no stored position for {self.name}: say where to start (since)")
        params = (
            feed_format.next_request(state, self.page_size)
            if state is not None
            else feed_format.first_request(self.since, self.page_size)  # type: ignore[arg-type]
        )
        pages = 0
        while True:
            body = await self.client.get_json(params)
            try:
                page = feed_format.parse_page(body)
            except feed_format.BrokenPage as exc:
                raise ImportFailed(f"page {pages + 1}: {exc}") from None
            pages += 1
            batch = SourceBatch(records=[], state=page.cursor, ads=len(page.items),
                                remaining=page.remaining)  # fmt: skip
            latest: dict[str, AdRecord | Tombstone] = {}
            for raw in page.items:
                try:
                    record = feed_format.map_ad(raw)
                except BrokenRecord as exc:
                    batch.broken[exc.reason] += 1
                    continue
                if record.ref in latest:
                    batch.duplicates += 1
                    del latest[record.ref]  # re-insert: the last copy keeps its feed position
                latest[record.ref] = record
            batch.records = list(latest.values())
            yield batch
            if not page.has_more:
                return
            params = feed_format.next_request(page.cursor, self.page_size)
