"""Small pure rules of push: when to skip work, how often to push, when not to.

All time is explicit (`now` is passed in), so every rule is tested without clocks.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from matcher.matching.eligibility import RuleKey, eligible_mask, rule_key

# The time rules live with the one push policy (matcher/matching/push_policy.py), which
# reach uses too; imported here for the push code that names them from rules.
from matcher.matching.push_policy import in_quiet_hours as in_quiet_hours
from matcher.matching.push_policy import may_push as may_push
from matcher.matching.push_policy import open_now as open_now
from matcher.matching.scoring import CandidateBatch, Scores, score

if TYPE_CHECKING:
    from push.session import SeekerState

_EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance; good to ~0.5 %, plenty to decide "has moved"."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(slots=True)
class FrameLimiter:
    """Inbound frames per connection: a token bucket of `per_s` frames a second
    with bursts up to `burst`; a frame without a token is dropped. Dropped frames
    fill a leaky `excess` counter draining at half the rate, and `flooded` (close
    it) once it passes `per_s * flood_s / 2`: a client sending twice the rate
    drops `per_s` frames a second, so it gets there in about `flood_s` seconds;
    one sending a little over the rate only loses the excess frames.

    Worked example with the defaults (10/s, burst 20, flood 5 s): an app sending a
    position every few seconds never waits; 3,000 frames at once: 20 pass, the
    next 26 are dropped, then the connection is closed.
    """

    per_s: float
    burst: float
    flood_s: float
    tokens: float = field(init=False)
    excess: float = field(init=False, default=0.0)
    updated: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def admit(self, now: float) -> bool:
        if self.updated:
            elapsed = now - self.updated
            self.tokens = min(self.burst, self.tokens + elapsed * self.per_s)
            self.excess = max(0.0, self.excess - elapsed * self.per_s / 2)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.excess += 1
        return False

    @property
    def flooded(self) -> bool:
        return self.excess > self.per_s * self.flood_s / 2


def score_states(
    states: Sequence[SeekerState],
    batch: CandidateBatch,
    distance_m: np.ndarray,
    required_certificates: frozenset[str],
) -> tuple[Scores, np.ndarray]:
    """One vacancy (a one-row batch) scored for every one of these seekers at once,
    and whether each may take it (`score_grid`, one column)."""
    d = np.asarray(distance_m, dtype=np.float64).reshape(-1, 1)
    scores, eligible = score_grid(states, batch, d, [required_certificates])
    return scores.column(0), eligible[:, 0]


def score_grid(
    states: Sequence[SeekerState],
    batch: CandidateBatch,
    distance_m: np.ndarray,
    required_certificates: Sequence[frozenset[str]],
) -> tuple[Scores, np.ndarray]:
    """Vacancies (the batch's rows) scored for every one of these seekers in one
    call, seekers x vacancies at the given distances, and whether each seeker may
    take each (hard rules by age, school status and jobcenter marks; the
    certificates each vacancy requires)."""
    scores = score([s.ctx for s in states], batch, distance_m)
    n = len(batch)
    cols = dataclasses.replace(batch.eligibility, certificates_ok=np.ones(n, dtype=bool))
    # The hard rules depend on the seeker only through these, so seekers
    # alike share one evaluation.
    by_kind: dict[RuleKey, np.ndarray] = {}
    eligible = np.zeros((len(states), n), dtype=bool)
    for i, st in enumerate(states):
        key = rule_key(st.ctx)
        if key not in by_kind:
            by_kind[key] = eligible_mask(cols, st.ctx)
        held = np.fromiter((r <= st.certificates for r in required_certificates), bool, n)
        eligible[i] = by_kind[key] & held
    return scores, eligible
