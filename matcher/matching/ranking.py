"""Which order the best matches are shown in: the hand-set score, or a learned ranker.

The matcher never imports the learned side (`ml/`): it knows a ranker only as
the small `Ranker` protocol below, and `api` sets the active one at start-up
(`ml.artifacts.load_active_ranker`, which falls back to the hand-set ranker on
any problem). By default the hand-set ranker is active and `rerank` returns the
rows untouched, so nothing changes and nothing is computed.

With a learned ranker active, `matching.rank` takes the best `RERANK_K`
eligible candidates by hand score (the nearby query and the vectorised score stay
as fast as ever) and this module re-orders only those. The ranker sees the
feature vector of each match built by the very function that writes the
training data (`matcher.matching.scoring.features_from_match`, fed with the match as
`matching.Scored.match` makes it), so serving and training agree by
construction. The score and explanation shown stay the hand-set ones: they are
what a person can read; the learned ranker only changes the order.

A ranker that raises or returns something unusable is logged once and ignored
for that request (hand-set order): a bad model must never break matching.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol, runtime_checkable

import numpy as np

from matcher.matching.scoring import (
    FEATURE_NAMES,
    CandidateBatch,
    features_from_match,
    hand_set_scores,
    part_columns,
)

log = logging.getLogger("jotr.ranking")

# Candidates re-ordered by a learned ranker: the best 100 by hand score, the
# largest page the API serves. Measured: building 100 feature vectors takes about
# 1.5 ms and the logistic ranker scores them in under 1 ms.
RERANK_K = 100
HAND_SET_NAME = "hand-set"


@runtime_checkable
class Ranker(Protocol):
    """Scores for rows of feature vectors (`matcher.matching.scoring.FEATURE_NAMES` order);
    higher is better. Only the order of the scores matters."""

    name: str

    def scores(self, features: np.ndarray) -> np.ndarray: ...


class _Match(Protocol):
    @property
    def distance_m(self) -> float: ...
    @property
    def explanation(self) -> dict[str, Any]: ...


class ScoredRows(Protocol):
    """What ranking needs of a scored batch (`matching.Scored`): its rows, whether
    each passes the hard rules, and each row as a match. A protocol, so ranking
    sits below matching and never imports it."""

    batch: CandidateBatch
    eligible: np.ndarray

    def match(self, taxonomy: Any, row: int) -> _Match: ...


class HandSetRanker:
    """The hand-set score (`matcher.matching.scoring.combine`) over the parts in a feature vector.

    The same number as the match's score (up to its rounding): an unknown part
    (NaN, e.g. distance without a position) counts as neutral, as the scorer does.
    """

    name = HAND_SET_NAME

    def __init__(self, feature_names: tuple[str, ...] | None = None):
        self._columns = part_columns(feature_names or FEATURE_NAMES)

    def scores(self, features: np.ndarray) -> np.ndarray:
        return hand_set_scores(features, self._columns)


def is_hand_set(ranker: Ranker) -> bool:
    return isinstance(ranker, HandSetRanker)


_active: Ranker | None = None  # None: the hand-set ranker, built on first use
_complained: set[str] = set()


def active() -> Ranker:
    global _active
    if _active is None:
        _active = HandSetRanker()
    return _active


def set_active(ranker: Ranker | None) -> Ranker:
    """Make `ranker` the one matching uses (None: the hand-set one); returns the old one."""
    global _active
    previous = active()
    _active = ranker if ranker is not None else HandSetRanker()
    _complained.discard(_active.name)  # a newly set ranker may complain once again
    log.info("ranker active", extra={"ranker": _active.name})
    return previous


class _NoLabels:
    """Labels are for people; feature vectors only count matched and missing skills."""

    def credit_vector(self, skill_ids: Any) -> np.ndarray:
        raise NotImplementedError  # never called: the credit is already in the context

    def skill_uri(self, skill_id: int) -> str:
        return ""

    def skill_label(self, skill_id: int, lang: str = "en") -> str:
        return ""


def feature_matrix(scored: ScoredRows, rows: np.ndarray) -> np.ndarray:
    """float64[len(rows), n_features]: each row's match as the feedback log stores it."""
    out = np.empty((len(rows), len(FEATURE_NAMES)), dtype=np.float64)
    for i, row in enumerate(rows.tolist()):
        m = scored.match(_NoLabels(), row)
        out[i] = features_from_match(m.explanation, m.distance_m, bool(scored.eligible[row]))
    return out


def rerank(scored: ScoredRows, rows: np.ndarray, ranker: Ranker | None = None) -> np.ndarray:
    """`rows` (best first by hand score) in the ranker's order; unchanged for hand-set."""
    ranker = ranker or active()
    if is_hand_set(ranker) or len(rows) < 2:
        return rows
    try:
        s = np.asarray(ranker.scores(feature_matrix(scored, rows)), dtype=np.float64)
        if s.shape != (len(rows),) or not np.all(np.isfinite(s)):
            raise ValueError(f"scores of shape {s.shape}, finite: {bool(np.isfinite(s).all())}")
    except Exception as exc:
        if ranker.name not in _complained:  # once per ranker, not once per request
            _complained.add(ranker.name)
            log.warning(
                "learned ranker failed; hand-set order used",
                extra={"event": "ranker_failed", "ranker": ranker.name, "error": repr(exc)},
            )
        return rows
    # Ties (rare with probabilities) go to the nearer vacancy, as in the hand-set order.
    return rows[np.lexsort((scored.batch.distance_m[rows], -s))]
