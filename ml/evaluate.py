"""Offline evaluation on feedback: grouped cross-validation, learned vs hand-set.

Folds are by seeker (`GroupKFold`): a seeker's events are all in training or
all in the test fold, so the model is always judged on people it has not seen,
as it will be in service. In each fold the hand-set ranker scores the same test
rows from the same stored features, so both are measured on exactly the same
lists in the same run.

NDCG@10 and P@5 are computed per seeker on out-of-fold scores (each seeker is
in one test fold, so that is the mean over all seekers); AUC is computed per
fold and averaged, because probabilities of models fitted on different folds
are not on one scale. `ndcg10_diff` is the mean per-seeker difference (learned
minus hand-set) with a bootstrap 95 % interval over seekers: when it straddles
0 the learned ranker has not shown it is better.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold

from matcher.matching.ranking import HandSetRanker
from ml.dataset import RELEVANT_GRADE, Dataset
from ml.metrics import RankingMetrics, ndcg_at_k, per_query, ranking_metrics
from ml.ranker import check_trainable, make_model


@dataclass(slots=True)
class CVReport:
    folds: int
    hand: RankingMetrics
    learned: RankingMetrics
    ndcg10_diff: float
    ndcg10_diff_ci: tuple[float, float]
    fold_auc: dict[str, list[float]] = field(default_factory=dict)
    model: str = "logistic"

    def as_dict(self) -> dict[str, Any]:
        return {
            "folds": self.folds,
            "model": self.model,
            "hand_set": self.hand.as_dict(),
            "learned": self.learned.as_dict(),
            "ndcg@10_diff": round(self.ndcg10_diff, 4),
            "ndcg@10_diff_ci95": [round(x, 4) for x in self.ndcg10_diff_ci],
            "fold_auc": {k: [round(x, 4) for x in v] for k, v in self.fold_auc.items()},
        }


def cross_validate(
    dataset: Dataset, model: str = "logistic", n_splits: int = 5, random_state: int = 0
) -> CVReport:
    check_trainable(dataset)
    n_splits = min(n_splits, len(dataset.seekers))
    hand = HandSetRanker(dataset.feature_names).scores(dataset.X)
    learned = np.full(len(dataset), np.nan)
    fold_auc: dict[str, list[float]] = {"hand_set": [], "learned": []}
    splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    y = dataset.y
    for train_rows, test_rows in splitter.split(dataset.X, y, dataset.groups):
        if np.unique(y[train_rows]).size < 2:
            continue  # a fold without both classes cannot be trained; its seekers stay NaN
        clf = make_model(dataset.feature_names, model, random_state)
        clf.fit(
            dataset.X[train_rows], y[train_rows], sample_weight=dataset.sample_weight[train_rows]
        )
        learned[test_rows] = clf.relevance(dataset.X[test_rows])
        for name, scores in (("hand_set", hand[test_rows]), ("learned", learned[test_rows])):
            m = ranking_metrics(dataset.grades[test_rows], scores, dataset.groups[test_rows])
            if not np.isnan(m.auc):
                fold_auc[name].append(m.auc)
    done = ~np.isnan(learned)
    grades, groups = dataset.grades[done], dataset.groups[done]
    hand_m = ranking_metrics(grades, hand[done], groups, RELEVANT_GRADE)
    learned_m = ranking_metrics(grades, learned[done], groups, RELEVANT_GRADE)
    # AUC: the mean of the folds', not the pooled one (see the module docstring).
    hand_m = _with_auc(hand_m, fold_auc["hand_set"])
    learned_m = _with_auc(learned_m, fold_auc["learned"])
    diff, ci = paired_ndcg_diff(grades, learned[done], hand[done], groups, random_state)
    return CVReport(n_splits, hand_m, learned_m, diff, ci, fold_auc, model)


def _with_auc(m: RankingMetrics, aucs: list[float]) -> RankingMetrics:
    return RankingMetrics(m.ndcg10, m.p5, float(np.mean(aucs)) if aucs else float("nan"), m.queries)


def paired_ndcg_diff(
    grades: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    groups: np.ndarray,
    random_state: int = 0,
    n_boot: int = 2000,
) -> tuple[float, tuple[float, float]]:
    """Mean per-query NDCG@10 of `a` minus `b`, with a bootstrap 95 % interval."""
    da = np.asarray(per_query(lambda y, s: ndcg_at_k(y, s, 10), grades, a, groups))
    db = np.asarray(per_query(lambda y, s: ndcg_at_k(y, s, 10), grades, b, groups))
    d = da - db  # same queries in the same order: both skip exactly the ones without gains
    if d.size == 0:
        return float("nan"), (float("nan"), float("nan"))
    rng = np.random.default_rng(random_state)
    boots = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
    low, high = np.quantile(boots, [0.025, 0.975])
    return float(d.mean()), (float(low), float(high))
