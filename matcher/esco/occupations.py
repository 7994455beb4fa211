"""ESCO occupations as arrays, for the occupation part of the score.

Built once when the taxonomy loads (`Taxonomy.occupation_index`), read on every
request. Everything is indexed by occupation id (the `occupations.id` column; ISCO
groups share that table, so the arrays have holes where a group sits):

* each occupation's ESCO profile as flat (occupation, skill) pairs, essential and
  optional apart, so "how much of every occupation's profile does this seeker
  cover?" is one gather and one `np.bincount` over ~130k pairs (about 0.3 ms);
* its ISCO-08 unit group as a small integer (`group`), so "the best occupation of
  each unit group" is one `np.maximum.at`;
* its close occupations by shared essential skills (`neighbours`): the cosine of
  the two essential-skill sets, keeping the best `NEIGHBOURS` per occupation with
  at least `MIN_SIMILARITY`. Skills in more than `COMMON_SKILL_LIMIT` occupations
  ("communicate with customers") are left out of the similarity: they make
  everything a little similar to everything and would dominate the pair count.

How these numbers become a score is scoring.py's business, not this module's.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

NEIGHBOURS = 20
MIN_SIMILARITY = 0.15
COMMON_SKILL_LIMIT = 150


class OccupationIndex:
    """Occupation profiles, unit groups and close occupations, as NumPy arrays."""

    def __init__(
        self,
        n_skills: int,
        occupation_ids: np.ndarray,
        isco: Mapping[int, str],
        profiles: tuple[np.ndarray, np.ndarray, np.ndarray],
    ):
        """`occupation_ids`: ids of ESCO occupations (not ISCO groups); `isco`:
        occupation id -> ISCO-08 code (the first four digits are the unit group);
        `profiles`: (occupation ids, skill ids, essential?) of occupation_skills."""
        occ_ids = np.asarray(occupation_ids, dtype=np.int64)
        self.n = int(occ_ids.max()) + 1 if occ_ids.size else 0
        self.is_occupation = np.zeros(self.n, dtype=bool)
        self.is_occupation[occ_ids] = True

        codes = sorted({c[:4] for c in isco.values() if len(c) >= 4 and c[:4].isdigit()})
        code_index = {c: i for i, c in enumerate(codes)}
        self.n_groups = len(codes)
        self.group = np.full(self.n, -1, dtype=np.int32)
        for o, code in isco.items():
            if 0 <= o < self.n and self.is_occupation[o]:
                self.group[o] = code_index.get(code[:4], -1)

        occ, skill, essential = (np.asarray(a) for a in profiles)
        ok = (occ >= 0) & (occ < self.n) & (skill >= 0) & (skill < n_skills)
        occ, skill, essential = occ[ok], skill[ok], essential[ok].astype(bool)
        ok = self.is_occupation[occ]
        occ, skill, essential = occ[ok], skill[ok], essential[ok]
        self.ess_occ, self.ess_skill = occ[essential].astype(np.int64), skill[essential]
        self.opt_occ, self.opt_skill = occ[~essential].astype(np.int64), skill[~essential]
        # The same links by skill (CSR), so a seeker's few credited skills find
        # their occupations without touching the other ~130k links.
        order = np.argsort(skill, kind="stable")
        self.skill_ptr = np.zeros(n_skills + 1, dtype=np.int64)
        np.cumsum(np.bincount(skill, minlength=n_skills), out=self.skill_ptr[1:])
        self.skill_occ = occ[order].astype(np.int64)
        self.skill_essential = essential[order]
        # Occupations sorted by unit group, for the best of each group (reduceat).
        grouped = np.flatnonzero(self.group >= 0)
        self.group_order = grouped[np.argsort(self.group[grouped], kind="stable")]
        g_sorted = self.group[self.group_order]
        self.group_starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
        self.group_of_start = g_sorted[self.group_starts] if g_sorted.size else g_sorted
        self.n_essential = np.bincount(self.ess_occ, minlength=self.n).astype(np.float64)
        self.n_optional = np.bincount(self.opt_occ, minlength=self.n).astype(np.float64)
        self.nb_ptr, self.nb_occ, self.nb_sim = _neighbours(
            self.n, self.ess_occ, self.ess_skill, self.n_essential
        )
        # Per-seeker results of scoring.occupation_fit, kept by matching.py.
        self.fit_cache: dict[object, object] = {}

    def neighbours(self, occupation_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(close occupation ids, cosine similarity), best first."""
        if not 0 <= occupation_id < self.n:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        s, e = self.nb_ptr[occupation_id], self.nb_ptr[occupation_id + 1]
        return self.nb_occ[s:e], self.nb_sim[s:e]

    def coverage(self, credit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per occupation id: the credit summed over its essential and over its
        optional skills (`credit` is a seeker's credit vector)."""
        held = np.flatnonzero(credit[: len(self.skill_ptr) - 1])
        starts = self.skill_ptr[held]
        counts = self.skill_ptr[held + 1] - starts
        pos = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
        occ, ess = self.skill_occ[pos], self.skill_essential[pos]
        w = np.repeat(credit[held].astype(np.float64), counts)
        return (
            np.bincount(occ[ess], weights=w[ess], minlength=self.n),
            np.bincount(occ[~ess], weights=w[~ess], minlength=self.n),
        )

    def best_in_group(self, values: np.ndarray) -> np.ndarray:
        """Per occupation id: the largest of `values` over its unit group (0 without one)."""
        out = np.zeros(self.n)
        if self.group_order.size == 0:
            return out
        best = np.zeros(self.n_groups)
        best[self.group_of_start] = np.maximum.reduceat(values[self.group_order], self.group_starts)
        grouped = self.group >= 0
        out[grouped] = best[self.group[grouped]]
        return out


def _neighbours(
    n: int, occ: np.ndarray, skill: np.ndarray, n_essential: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR (indptr, occupation ids, cosine) of the closest occupations by shared
    essential skills, without the most common skills."""
    empty = (np.zeros(n + 1, dtype=np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
    if occ.size == 0:
        return empty
    per_skill = np.bincount(skill)
    keep = per_skill[skill] <= COMMON_SKILL_LIMIT
    occ, skill = occ[keep], skill[keep]
    # Pairs of occupations sharing a skill: sort links by skill, and within each
    # skill's run pair every member with every other (run sizes are bounded above).
    order = np.argsort(skill, kind="stable")
    occ, skill = occ[order], skill[order]
    starts = np.flatnonzero(np.r_[True, skill[1:] != skill[:-1]])
    sizes = np.diff(np.r_[starts, skill.size])
    a_parts, b_parts = [], []
    for m in np.unique(sizes[sizes > 1]).tolist():
        heads = starts[sizes == m]
        block = occ[heads[:, None] + np.arange(m)[None, :]]  # runs of size m, as rows
        i, j = np.triu_indices(m, k=1)
        a_parts.append(block[:, i].ravel())
        b_parts.append(block[:, j].ravel())
    if not a_parts:
        return empty
    a = np.concatenate(a_parts)
    b = np.concatenate(b_parts)
    a, b = np.r_[a, b], np.r_[b, a]
    key, shared = np.unique(a * n + b, return_counts=True)
    a, b = key // n, key % n
    # Cosine on the full essential sets (common skills count in the norms, so an
    # occupation is not made close by sharing only its rare skills' remainder).
    sim = shared / np.sqrt(np.maximum(n_essential[a] * n_essential[b], 1.0))
    ok = (sim >= MIN_SIMILARITY) & (a != b)
    a, b, sim = a[ok], b[ok], sim[ok]
    order = np.lexsort((-sim, a))
    a, b, sim = a[order], b[order], sim[order]
    rank = np.arange(a.size) - np.searchsorted(a, a)  # position within a's run
    keep = rank < NEIGHBOURS
    a, b, sim = a[keep], b[keep], sim[keep]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(a, minlength=n), out=indptr[1:])
    return indptr, b.astype(np.int64), sim.astype(np.float32)
