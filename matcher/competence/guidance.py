"""Competence guidance: which one skill would open the most jobs near you?

A counterfactual over the seeker's own candidates. The nearby candidates come
from the matcher's one geo query (`matching.score_nearby`), scored as usual.
Those that pass the hard rules but score below the seeker's threshold are the
ones a skill could open. For every skill missing from them (required or
optional, not fully held), we re-score all of them as if the seeker held that
one skill too, and count how many would then reach the threshold.

Re-scoring, vectorised. Skills enter the score only through the `required`
and `optional` parts, and the score is linear in its parts, each a weighted
mean of per-skill credits. Holding one more skill `s` raises a skill entry's
credit from `c` to `max(c, credit(s -> entry))`, where `credit(s -> .)` is the
taxonomy's own `credit_vector([s])` (exact skill 1.0, partial credit through
the hierarchy and relations). So per (skill, candidate) the new score is

    total + sum over the candidate's entries of scale(entry) * gain

where the scorer says what one unit of credit on an entry is worth
(`scoring.skill_entry_scales`) and how high all skills together could lift a
candidate (`scoring.skill_ceiling`); this module never sees the weights.
Only the (skill, entry) pairs where `s` earns credit are ever formed: a
sparse join of the skills' credit rows with the candidates' flattened skill
entries, summed with one `np.unique` + `np.bincount`. No Python loop runs per
request: each skill's credit row is built once per process (`CreditRows`, from the
taxonomy's `credit_vector`) and gathered with array operations.
`tests/test_guidance.py` checks the counts against re-running the scorer with
the skill added.

Since issue #12 a vacancy's occupation also counts: its ESCO profile stands in
beside the listed skills (`sum_req(w)` above includes its stand-in weight, so a
listed skill's gain is exact) and the occupation part reads the seeker's skills.
A new skill can move those two as well; guidance counts the listed skills' gain
only, so for vacancies with an occupation its counts are an estimate (exact for
vacancies without one, which the test checks).

Candidates that no skill could lift (even with every skill held, their other
parts keep them below the threshold) are left out before any of this.
"""

from __future__ import annotations

import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from matcher.competence import courses
from matcher.matching import geo
from matcher.matching import matches as matching
from matcher.matching.replica import VacancyReplica
from matcher.matching.scoring import (
    profile_cover,
    skill_ceiling,
    skill_entry_scales,
    standin_weights,
)

EXAMPLES_PER_SKILL = 3
COURSES_PER_SKILL = 3


@dataclass(frozen=True, slots=True)
class SkillUnlock:
    skill_id: int
    unlocks: int
    rows: np.ndarray  # candidate rows it unlocks, best new score first
    new_scores: np.ndarray  # their scores with the skill held
    gain: float  # score gained over the unlocked rows (ties)


@dataclass(frozen=True, slots=True)
class Example:
    vacancy_id: uuid.UUID
    title: str
    distance_m: float


@dataclass(slots=True)
class SkillGuidance:
    skill_id: int
    uri: str
    label: str
    unlocks: int
    examples: list[Example] = field(default_factory=list)
    courses: list[courses.CourseRef] = field(default_factory=list)


@dataclass(slots=True)
class Guidance:
    radius_m: float
    current_matches: int
    candidate_skills: int  # how many skills were tried
    skills: list[SkillGuidance]


def _entries(offsets: np.ndarray) -> np.ndarray:
    """Row index of every flattened skill entry."""
    return np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))


@dataclass(frozen=True, slots=True)
class _Entries:
    """The flattened skill entries of the candidates a skill could lift."""

    current: np.ndarray  # bool per row: a match already
    skill: np.ndarray  # int64 per entry
    row: np.ndarray
    scale: np.ndarray  # the entry's share of the total score per unit of credit
    credit: np.ndarray  # the seeker's credit for it now


def _entries_to_lift(scored: matching.Scored, threshold: float) -> _Entries:
    batch, scores, credit = scored.batch, scored.scores, scored.ctx.credit
    n = len(batch)
    total = scores.total
    current = scored.eligible & (total >= threshold)
    req_row, opt_row = _entries(batch.req_offsets), _entries(batch.opt_offsets)
    req_w = batch.req_weights.astype(np.float64)
    # The occupation's profile stands in beside the listed skills (scoring.py): a
    # listed skill's share of the required part is its weight over both.
    req_sum = np.bincount(req_row, weights=req_w, minlength=n) + standin_weights(
        batch, profile_cover(scored.ctx, batch)
    )
    opt_n = np.bincount(opt_row, minlength=n).astype(np.float64)
    # The best any skills could do: every required and optional skill fully held.
    ceiling = skill_ceiling(scores, req_sum > 0, opt_n > 0)
    liftable = scored.eligible & ~current & (ceiling >= threshold)
    keep_r, keep_o = liftable[req_row], liftable[opt_row]
    skill = np.concatenate([batch.req_ids[keep_r], batch.opt_ids[keep_o]]).astype(np.int64)
    scale = np.concatenate(
        skill_entry_scales(req_w[keep_r], req_sum[req_row[keep_r]], opt_n[opt_row[keep_o]])
    )
    known = skill < len(credit)
    held = credit.at(skill).astype(np.float64)
    # Skills added to ESCO after this process loaded it cannot be credited: left out.
    return _Entries(
        current=current,
        skill=skill[known],
        row=np.concatenate([req_row[keep_r], opt_row[keep_o]])[known],
        scale=scale[known],
        credit=held[known],
    )


def candidate_skills(scored: matching.Scored, threshold: float) -> np.ndarray:
    """The skills worth trying: not fully held, on a candidate that one could lift."""
    e = _entries_to_lift(scored, threshold)
    return np.unique(e.skill[e.credit < 1.0])


def skill_unlocks(
    scored: matching.Scored, taxonomy: matching.SkillLookup, threshold: float
) -> tuple[int, list[SkillUnlock], int]:
    """(current matches, per skill that unlocks anything: what it unlocks, skills tried).

    Sorted by unlocks, then by score gained, then skill id (stable output)."""
    n = len(scored.batch)
    if n == 0:
        return 0, [], 0
    total = scored.scores.total
    e = _entries_to_lift(scored, threshold)
    current = int(e.current.sum())
    tried = np.unique(e.skill[e.credit < 1.0])
    if tried.size == 0:
        return current, [], 0
    e_skill, e_row, e_scale, e_credit = e.skill, e.row, e.scale, e.credit
    t_skill, t_target, t_credit = _credit_rows(
        taxonomy, tried, np.unique(e_skill), len(scored.ctx.credit)
    )

    # Join (skill, target skill, credit) with the entries of that target skill.
    order = np.argsort(e_skill, kind="stable")
    sorted_skill = e_skill[order]
    lo = np.searchsorted(sorted_skill, t_target, "left")
    counts = np.searchsorted(sorted_skill, t_target, "right") - lo
    pair_t = np.repeat(np.arange(len(t_target)), counts)
    starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    pair_e = order[starts + np.arange(counts.sum())]
    gain = np.maximum(t_credit[pair_t] - e_credit[pair_e], 0.0) * e_scale[pair_e]

    # Sum per (skill, row): the new score of that row with that skill held.
    key = t_skill[pair_t] * n + e_row[pair_e]
    keys, inverse = np.unique(key, return_inverse=True)
    delta = np.bincount(inverse, weights=gain, minlength=len(keys))
    k_skill, k_row = keys // n, keys % n
    new_total = np.minimum(total[k_row] + delta, 1.0)
    unlocked = new_total >= threshold

    out = []
    u_skill, u_row, u_new = k_skill[unlocked], k_row[unlocked], new_total[unlocked]
    u_gain = u_new - total[u_row]
    for s in np.unique(u_skill).tolist():  # skills that unlock anything: few
        mine = np.flatnonzero(u_skill == s)
        best = mine[np.argsort(-u_new[mine], kind="stable")]
        out.append(
            SkillUnlock(
                skill_id=int(s),
                unlocks=len(mine),
                rows=u_row[best],
                new_scores=u_new[best],
                gain=float(u_gain[mine].sum()),
            )
        )
    out.sort(key=lambda u: (-u.unlocks, -u.gain, u.skill_id))
    return current, out, int(tried.size)


class CreditRows:
    """Every skill's credit row (the targets it earns credit toward, and how much),
    from the taxonomy's own `credit_vector([s])`, in CSR form.

    Built once per taxonomy (one `credit_vector` call per skill, ~0.3-0.5 s over
    full ESCO, ~1.5 MB), because calling it per candidate skill per request costs
    ~30 us each and a request in a busy area tries thousands of skills. Afterwards a
    request gathers the rows of all its skills in a few array operations.
    """

    def __init__(self, taxonomy: matching.SkillLookup, n_slots: int) -> None:
        targets, credits, counts = [], [], np.zeros(n_slots, dtype=np.int64)
        for s in range(n_slots):
            row = taxonomy.credit_vector(np.array([s]))
            hit = np.flatnonzero(row)
            targets.append(hit)
            credits.append(row[hit])
            counts[s] = len(hit)
        self.indptr = np.zeros(n_slots + 1, dtype=np.int64)
        np.cumsum(counts, out=self.indptr[1:])
        self.targets = np.concatenate(targets).astype(np.int64)
        self.credits = np.concatenate(credits).astype(np.float64)

    def gather(self, skills: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(skill, target, credit) for every entry of the rows of `skills`."""
        starts = self.indptr[skills]
        counts = self.indptr[skills + 1] - starts
        pos = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
        return np.repeat(skills, counts), self.targets[pos], self.credits[pos]


_CREDIT_ROWS: weakref.WeakKeyDictionary[Any, CreditRows] = weakref.WeakKeyDictionary()


def credit_rows(taxonomy: matching.SkillLookup, n_slots: int) -> CreditRows:
    """The taxonomy's credit rows, built on first use and kept as long as it lives."""
    rows = _CREDIT_ROWS.get(taxonomy)
    if rows is None or len(rows.indptr) != n_slots + 1:
        rows = _CREDIT_ROWS[taxonomy] = CreditRows(taxonomy, n_slots)
    return rows


def _credit_rows(
    taxonomy: matching.SkillLookup, skills: np.ndarray, targets: np.ndarray, n_slots: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(skill, target, credit) for every target in `targets` (sorted, unique) that
    holding each skill alone earns credit toward."""
    skill, target, credit = credit_rows(taxonomy, n_slots).gather(skills)
    at = np.minimum(np.searchsorted(targets, target), len(targets) - 1)
    wanted = targets[at] == target
    return skill[wanted], target[wanted], credit[wanted]


async def guidance_for(
    session: AsyncSession,
    taxonomy: matching.SkillLookup,
    seeker: matching.SeekerLike,
    threshold: float,
    lat: float,
    lon: float,
    radius_m: float,
    language: str,
    limit: int,
    replica: VacancyReplica | None = None,
) -> Guidance:
    """The `limit` skills that would open the most jobs within the radius of a point."""
    scored = await matching.score_nearby(
        session, taxonomy, seeker, lat, lon, radius_m, replica=replica
    )
    current, unlocks, tried = skill_unlocks(scored, taxonomy, threshold)
    top = unlocks[:limit]
    rows = {int(r) for u in top for r in u.rows[:EXAMPLES_PER_SKILL]}
    ids: list[uuid.UUID] = [scored.batch.ids[r] for r in sorted(rows)]  # type: ignore[misc]
    cards = await geo.vacancy_cards(session, ids, lat, lon) if ids else {}
    found = await courses.courses_for_skills(
        session, [u.skill_id for u in top], language, COURSES_PER_SKILL
    )
    skills = []
    for u in top:
        examples = []
        for r in u.rows[:EXAMPLES_PER_SKILL].tolist():
            card = cards.get(scored.batch.ids[r])  # type: ignore[call-overload]
            if card is not None:
                distance = round(float(scored.batch.distance_m[r]), 1)
                examples.append(Example(card.id, card.title, distance))
        skills.append(
            SkillGuidance(
                skill_id=u.skill_id,
                uri=taxonomy.skill_uri(u.skill_id),
                label=taxonomy.skill_label(u.skill_id, language),
                unlocks=u.unlocks,
                examples=examples,
                courses=found.get(u.skill_id, []),
            )
        )
    return Guidance(radius_m, current, tried, skills)
