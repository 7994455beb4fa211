"""Growable columns in the CandidateBatch layout: the replica's storage.

A `CandidateBatch` (matcher/matching/scoring.py) is one NumPy array per field with the
skill lists flattened behind offsets. The replica holds every open vacancy in
that very layout, so a query answers with `view().take(rows)`: a few fancy
indexings, no per-row Python. Rows are only appended (an update appends the new
version and marks the old one dead); arrays grow by doubling, so an append of k
rows costs O(k), and dead rows are dropped by `compacted()` once they pile up.

Which fields are per-row is read from the dataclasses themselves, so a field
added to `CandidateBatch` or `EligibilityColumns` is carried without a change
here (the flattened skill fields and `ids` are the only special cases).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from matcher.matching.eligibility import EligibilityColumns
from matcher.matching.scoring import CandidateBatch

# Fields of CandidateBatch that are not one entry per row.
_FLAT = {"req_ids": "req_offsets", "req_weights": "req_offsets", "opt_ids": "opt_offsets"}
_SPECIAL = {"ids", "eligibility", "req_offsets", "opt_offsets", *_FLAT}
BATCH_ROW_FIELDS = tuple(
    f.name for f in dataclasses.fields(CandidateBatch) if f.name not in _SPECIAL
)
ELIGIBILITY_FIELDS = tuple(f.name for f in dataclasses.fields(EligibilityColumns))


# Required skill ids kept per row in a fixed-width column (`required_head`),
# padded with -1: most vacancies list fewer, and a dense circle's weak test
# (matcher/matching/scoring.py `head_earns`) then reads one (rows x 8) block
# instead of walking tens of thousands of segments. Rows listing more (or an
# id that cannot be a table index) are marked and checked on their segments.
REQ_HEAD = 8
_NO_SKILL = -1


def required_head(req_ids: np.ndarray, req_offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of a flattened required-skill list: its first REQ_HEAD ids
    (int32, padded with -1) and whether the head holds all of them."""
    n = len(req_offsets) - 1
    head = np.full((n, REQ_HEAD), _NO_SKILL, dtype=np.int32)
    starts = req_offsets[:-1]
    lengths = req_offsets[1:] - starts
    ids = np.asarray(req_ids, dtype=np.int64)
    # An id outside [0, 2**31) would index the wrong slot: such a row goes to
    # the segment walk (none in a sound batch; geo.sound_rows).
    bad = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum((ids < 0) | (ids >= 2**31), out=bad[1:])
    bad_rows = bad[req_offsets[1:]] > bad[starts]
    for k in range(REQ_HEAD):
        has = lengths > k
        head[has, k] = ids[starts[has] + k]
    complete = (lengths <= REQ_HEAD) & ~bad_rows
    head[bad_rows] = _NO_SKILL
    return head, complete


def _grow(a: np.ndarray, need: int) -> np.ndarray:
    """`a` with room for at least `need` entries on its first axis."""
    if len(a) >= need:
        return a
    out = np.empty((max(need, 2 * len(a), 64), *a.shape[1:]), dtype=a.dtype)
    out[: len(a)] = a
    return out


class ColumnStore:
    """Rows 0..n-1 of candidate columns plus the replica's own per-row extras
    (place, expiry, start day, certificate set; see matcher/matching/replica.py)."""

    def __init__(self, extra_dtypes: dict[str, Any]) -> None:
        self.n = 0
        self.ids: list[object] = []
        self._extra_dtypes = dict(extra_dtypes)
        self._rows: dict[str, np.ndarray] = {}  # batch and eligibility row fields
        self._flat: dict[str, np.ndarray] = {}
        self._flat_n = {"req_offsets": 0, "opt_offsets": 0}
        self.req_id_bound = 0  # above every id in the required heads
        self._offsets = {
            "req_offsets": np.zeros(64, dtype=np.int64),
            "opt_offsets": np.zeros(64, dtype=np.int64),
        }
        self.extra: dict[str, np.ndarray] = {
            k: np.empty(0, dtype=dt) for k, dt in self._extra_dtypes.items()
        }
        self._view: CandidateBatch | None = None
        self._ids_array = np.empty(0, dtype=object)  # `ids` as an array too, for `take`

    def __len__(self) -> int:
        return self.n

    def append(self, batch: CandidateBatch, extra: dict[str, np.ndarray]) -> np.ndarray:
        """Append the batch's rows; returns their row numbers here."""
        k = len(batch)
        first, end = self.n, self.n + k
        if k == 0:
            return np.empty(0, dtype=np.int64)
        for name in BATCH_ROW_FIELDS:
            self._put_row(name, getattr(batch, name), first, end)
        for name in ELIGIBILITY_FIELDS:
            self._put_row("e." + name, getattr(batch.eligibility, name), first, end)
        for name, offsets_name in _FLAT.items():
            base = self._flat_n[offsets_name]
            src = getattr(batch, name)
            arr = self._flat.get(name)
            if arr is None:
                arr = np.empty(0, dtype=src.dtype)
            arr = _grow(arr, base + len(src))
            arr[base : base + len(src)] = src
            self._flat[name] = arr
        for offsets_name in ("req_offsets", "opt_offsets"):
            src = getattr(batch, offsets_name)
            off = _grow(self._offsets[offsets_name], end + 1)
            off[first + 1 : end + 1] = src[1:] + off[first]
            self._offsets[offsets_name] = off
            self._flat_n[offsets_name] = int(off[end])
        head, complete = required_head(batch.req_ids, batch.req_offsets)
        self._put_row("req_head", head, first, end)
        self._put_row("req_complete", complete, first, end)
        self.req_id_bound = max(self.req_id_bound, int(head.max(initial=-1)) + 1)
        for name in self._extra_dtypes:
            arr = _grow(self.extra[name], end)
            arr[first:end] = extra[name]
            self.extra[name] = arr
        self.ids.extend(batch.ids)
        self._ids_array = _grow(self._ids_array, end)
        self._ids_array[first:end] = np.fromiter(batch.ids, dtype=object, count=k)
        self.n = end
        self._view = None
        return np.arange(first, end, dtype=np.int64)

    def _put_row(self, key: str, src: np.ndarray | None, first: int, end: int) -> None:
        if src is None:  # an optional column the batch does not carry
            src = np.full(end - first, -1, dtype=np.int64)
        arr = self._rows.get(key)
        if arr is None:
            arr = np.empty((0, *src.shape[1:]), dtype=src.dtype)
        arr = _grow(arr, end)
        arr[first:end] = src
        self._rows[key] = arr

    def column(self, name: str) -> np.ndarray:
        """An extra column's live part (a view)."""
        return self.extra[name][: self.n]

    def view(self) -> CandidateBatch:
        """All rows as one batch of views (no copy); `take` copies what it picks.
        Its `distance_m` is meaningless: distances belong to a query."""
        if self._view is not None:
            return self._view
        n = self.n
        if n == 0:
            raise LookupError("empty store")
        e = EligibilityColumns(**{f: self._rows["e." + f][:n] for f in ELIGIBILITY_FIELDS})
        fields: dict[str, Any] = {f: self._rows[f][:n] for f in BATCH_ROW_FIELDS}
        req_n, opt_n = self._flat_n["req_offsets"], self._flat_n["opt_offsets"]
        self._view = CandidateBatch(
            ids=self.ids,
            req_ids=self._flat["req_ids"][:req_n],
            req_weights=self._flat["req_weights"][:req_n],
            req_offsets=self._offsets["req_offsets"][: n + 1],
            opt_ids=self._flat["opt_ids"][:opt_n],
            opt_offsets=self._offsets["opt_offsets"][: n + 1],
            eligibility=e,
            **fields,
        )
        return self._view

    def take(self, rows: np.ndarray) -> CandidateBatch:
        """`view().take(rows)`, the same batch, cheaper where it counts for a
        dense circle (tens of thousands of rows): the ids come from an object
        array, and the required skills' index serves their weights too."""
        req_ids, req_weights, req_off = _take_segments2(
            self._flat["req_ids"], self._flat["req_weights"], self._offsets["req_offsets"], rows
        )
        opt_ids, _, opt_off = _take_segments2(
            self._flat["opt_ids"], None, self._offsets["opt_offsets"], rows
        )
        assert req_weights is not None
        e = self.eligibility(rows)
        fields: dict[str, Any] = {f: self._rows[f][rows] for f in BATCH_ROW_FIELDS}
        return CandidateBatch(
            ids=self._ids_array[rows].tolist(),
            req_ids=req_ids,
            req_weights=req_weights,
            req_offsets=req_off,
            opt_ids=opt_ids,
            opt_offsets=opt_off,
            eligibility=e,
            **fields,
        )

    def required(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows' required skills: (ids, weights, offsets), flattened as in a batch."""
        ids, weights, offsets = _take_segments2(
            self._flat["req_ids"], self._flat["req_weights"], self._offsets["req_offsets"], rows
        )
        assert weights is not None
        return ids, weights, offsets

    def eligibility(self, rows: np.ndarray) -> EligibilityColumns:
        """The rows' eligibility columns (`take`'s, without the rest of a batch)."""
        return EligibilityColumns(**{f: self._rows["e." + f][rows] for f in ELIGIBILITY_FIELDS})

    def optional(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows' optional skills: (ids, offsets), flattened as in a batch."""
        ids, _, offsets = _take_segments2(
            self._flat["opt_ids"], None, self._offsets["opt_offsets"], rows
        )
        return ids, offsets

    def required_head(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows' first REQ_HEAD required skill ids (padded with -1, each
        below `req_id_bound`) and whether that is all of them (`required_head`)."""
        head = np.take(self._rows["req_head"], rows, axis=0)  # far faster than [rows] in 2-D
        return head, self._rows["req_complete"][rows]

    def compacted(self, rows: np.ndarray) -> ColumnStore:
        """A new store holding only `rows` (in that order)."""
        out = ColumnStore(self._extra_dtypes)
        if len(rows):
            out.append(self.view().take(rows), {k: self.column(k)[rows] for k in self.extra})
        return out

    def nbytes(self) -> int:
        """Bytes held by the arrays (capacity included), plus the id objects."""
        arrays = [*self._rows.values(), *self._flat.values(), *self._offsets.values()]
        arrays += list(self.extra.values())
        total = sum(a.nbytes for a in arrays)
        # A uuid.UUID is ~56 bytes (its int ~44 more) plus the list slot.
        return total + self.n * 108


def _take_segments2(
    flat: np.ndarray, flat2: np.ndarray | None, offsets: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """The rows' segments of one or two flat arrays sharing `offsets`, and the
    new offsets (scoring._take_segments, the index computed once)."""
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    new_offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    index = np.repeat(starts - new_offsets[:-1], lengths) + np.arange(new_offsets[-1])
    return flat[index], None if flat2 is None else flat2[index], new_offsets
