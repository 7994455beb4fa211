"""Ranking metrics over queries: NDCG@k, precision@k, and AUC.

A *query* is one list a scorer orders: in feedback, everything one seeker was
shown; in the ESCO tasks, one synthetic seeker's pool of vacancies. Metrics are
computed per query and averaged over queries (each seeker counts once, however
many events they made).

Ties. A scorer that gives several items the same score has not ordered them, so
it must not get credit for the order they happened to arrive in (that order can
correlate with the label: e.g. events sorted by time). Tied items share the
mean of their gains, which is the metric's expected value over a random order of
the tie; scikit-learn's `ndcg_score` does the same (`ignore_ties=False`), and the
tests check that we agree with it.

Gains are linear in the grade (0..4), as in scikit-learn, not 2**grade - 1:
with five grades the exponential form would make one hire worth fifteen opens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from sklearn.metrics import roc_auc_score


def _tie_averaged(scores: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`values` in the scorer's order (best first), each tie group replaced by its mean."""
    order = np.argsort(-scores, kind="stable")
    s = scores[order]
    v = values[order].astype(np.float64)
    starts = np.r_[True, s[1:] != s[:-1]]
    group = np.cumsum(starts) - 1
    means = np.bincount(group, weights=v) / np.bincount(group)
    return means[group]


def dcg_at_k(gains_in_order: np.ndarray, k: int) -> float:
    g = gains_in_order[:k]
    return float(np.sum(g / np.log2(np.arange(2, g.size + 2))))


def ndcg_at_k(grades: np.ndarray, scores: np.ndarray, k: int = 10) -> float | None:
    """NDCG@k of one query; None when it has nothing relevant (undefined, skipped)."""
    grades = np.asarray(grades, dtype=np.float64)
    ideal = dcg_at_k(np.sort(grades)[::-1], k)
    if ideal <= 0:
        return None
    return dcg_at_k(_tie_averaged(np.asarray(scores, dtype=np.float64), grades), k) / ideal


def precision_at_k(relevant: np.ndarray, scores: np.ndarray, k: int = 5) -> float | None:
    """Share of relevant items among the top k of one query; None if nothing is relevant.

    A query shorter than k is divided by its length, not k: a seeker shown three
    vacancies, all good, has a perfect top list, and no scorer could do better.
    """
    rel = np.asarray(relevant, dtype=np.float64)
    if rel.size == 0 or rel.sum() <= 0:
        return None
    top = _tie_averaged(np.asarray(scores, dtype=np.float64), rel)[:k]
    return float(top.sum() / min(k, rel.size))


def auc(relevant: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC over all items pooled (ties count half); None without both classes."""
    rel = np.asarray(relevant, dtype=bool)
    if rel.all() or not rel.any():
        return None
    return float(roc_auc_score(rel, scores))


def per_query(
    metric: Callable[[np.ndarray, np.ndarray], float | None],
    labels: np.ndarray,
    scores: np.ndarray,
    groups: np.ndarray,
) -> list[float]:
    """The metric of each query (rows sharing a group value), undefined ones left out."""
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    cuts = np.flatnonzero(np.r_[True, g[1:] != g[:-1], True])
    out = []
    for a, b in pairwise(cuts.tolist()):
        rows = order[a:b]
        value = metric(labels[rows], scores[rows])
        if value is not None:
            out.append(value)
    return out


@dataclass(frozen=True, slots=True)
class RankingMetrics:
    ndcg10: float
    p5: float
    auc: float
    queries: int  # queries with something relevant (where NDCG and P@5 are defined)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "ndcg@10": round(self.ndcg10, 4),
            "p@5": round(self.p5, 4),
            "auc": round(self.auc, 4),
            "queries": self.queries,
        }


def ranking_metrics(
    grades: np.ndarray, scores: np.ndarray, groups: np.ndarray, relevant_grade: int = 2
) -> RankingMetrics:
    """NDCG@10 on the grades, P@5 and AUC on `grade >= relevant_grade`, per query."""
    grades = np.asarray(grades)
    scores = np.asarray(scores, dtype=np.float64)
    groups = np.asarray(groups)
    relevant = grades >= relevant_grade
    ndcg = per_query(lambda y, s: ndcg_at_k(y, s, 10), grades, scores, groups)
    p5 = per_query(lambda y, s: precision_at_k(y, s, 5), relevant, scores, groups)
    a = auc(relevant, scores)
    return RankingMetrics(
        ndcg10=float(np.mean(ndcg)) if ndcg else float("nan"),
        p5=float(np.mean(p5)) if p5 else float("nan"),
        auc=float("nan") if a is None else a,
        queries=len(ndcg),
    )
