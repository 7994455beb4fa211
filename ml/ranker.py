"""The learned ranker: a scikit-learn classifier of "will this match go well?".

`RelevanceClassifier` is an ordinary scikit-learn estimator (parameters stored
untouched in `__init__`, learned attributes end in `_`, `fit` returns `self`;
`tests/test_ml_ranker.py` runs scikit-learn's `check_estimator` on it). Inside,
`fit` builds a `Pipeline`: the stored feature vector (the explanation's five
parts, skill counts, hours, ...) plus pairwise products of the parts
(`ml.features`) -> a classifier:

* `model="logistic"` (default): logistic regression on the standardised
  features (unknown values imputed with the median). Small, smooth, fast to
  serve (under a millisecond for 100 rows), and in grouped CV on simulated
  feedback better than the trees at the data sizes we will have for a long
  time (docs/quality.md).
* `model="hgb"`: histogram gradient-boosted trees (shallow, strongly
  regularised), *monotonic increasing* in every part and product. Every part
  is "higher is a better fit", so the trees may re-weigh and combine them but
  can never put a vacancy first *because* it fits worse. Worth trying again
  when there are tens of thousands of labelled pairs.

Pointwise on purpose: with a handful of events per seeker, a listwise or
pairwise objective has few pairs to learn from; a probability of a good outcome
ranks well and is also what the AUC measures.

`LearnedRanker` adapts a fitted model to the matcher's `Ranker` protocol
(matcher/matching/ranking.py), which is all the serving side sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from matcher.matching.scoring import PARTS
from ml.dataset import Dataset
from ml.features import InteractionFeatures

MODELS: tuple[str, ...] = ("logistic", "hgb")
# Training refuses less than this: below it, cross-validation folds hold a
# handful of positives and any "improvement" is noise.
MIN_PAIRS = 50
MIN_RELEVANT = 10
MIN_SEEKERS = 5


class NotEnoughFeedback(ValueError):
    """Too few events (or no relevant ones) in the window to train on."""


class RelevanceClassifier(ClassifierMixin, BaseEstimator):
    """Probability that a match is relevant, from the matcher's explanation parts.

    Parameters
    ----------
    model : {"hgb", "logistic"}
    interactions : "all", sequence of int, or None
        Input columns whose pairwise products are added (ml.features.InteractionFeatures);
        "all" = every column, None = no products.
    monotonic : sequence of {-1, 0, 1} or None
        Per input column, the direction the score must move in (hgb only);
        products of two +1 columns (all inputs in [0, 1]) are +1, others free.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization :
        Passed to HistGradientBoostingClassifier.
    C : float
        Inverse regularisation of the logistic model.
    random_state : int
    """

    def __init__(
        self,
        model: str = "logistic",
        interactions: Sequence[int] | str | None = "all",
        monotonic: Sequence[int] | None = None,
        max_iter: int = 200,
        learning_rate: float = 0.03,
        max_leaf_nodes: int = 4,
        min_samples_leaf: int = 80,
        l2_regularization: float = 1.0,
        C: float = 1.0,
        random_state: int = 0,
    ):
        self.model = model
        self.interactions = interactions
        self.monotonic = monotonic
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.C = C
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # An unknown part (distance without a position) is NaN: the trees route it
        # themselves, the logistic model imputes the median.
        tags.input_tags.allow_nan = True
        return tags

    def _interaction_columns(self) -> tuple[int, ...] | None:
        if self.interactions is None:
            return None
        if isinstance(self.interactions, str):
            if self.interactions != "all":
                raise ValueError(
                    f"interactions must be 'all', columns or None: {self.interactions!r}"
                )
            return ()  # () = all columns, see _products
        return tuple(int(c) for c in self.interactions)

    def _products(self) -> InteractionFeatures | None:
        cols = self._interaction_columns()
        if cols is None:
            return None
        return InteractionFeatures(columns=cols or None)

    def _pipeline(self, n_features: int) -> Pipeline:
        steps: list[tuple[str, Any]] = []
        products = self._products()
        if products is not None:
            steps.append(("interactions", products))
        if self.model == "hgb":
            steps.append(("clf", HistGradientBoostingClassifier(
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes,
                min_samples_leaf=self.min_samples_leaf,
                l2_regularization=self.l2_regularization,
                monotonic_cst=self._monotonic_cst(n_features),
                early_stopping=False,  # deterministic, and folds are small
                random_state=self.random_state,
            )))  # fmt: skip
        elif self.model == "logistic":
            steps.append(("impute", SimpleImputer(strategy="median", keep_empty_features=True)))
            steps.append(("scale", StandardScaler()))
            steps.append(("clf", LogisticRegression(C=self.C, max_iter=2000)))
        else:
            raise ValueError(f"model must be one of {MODELS}, not {self.model!r}")
        return Pipeline(steps)

    def _monotonic_cst(self, n_features: int) -> list[int] | None:
        if self.monotonic is None:
            return None
        base = [int(m) for m in self.monotonic]
        if len(base) != n_features or any(m not in (-1, 0, 1) for m in base):
            raise ValueError(f"monotonic needs {n_features} values in (-1, 0, 1), got {base}")
        products = self._products()
        if products is None:
            return base
        pairs = products.fit(np.zeros((1, n_features))).pairs_
        return base + [1 if base[a] == 1 and base[b] == 1 else 0 for a, b in pairs.tolist()]

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RelevanceClassifier:
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError("RelevanceClassifier got one class: it needs at least 2")
        pipe = self._pipeline(X.shape[1])
        fit_params: dict[str, Any] = {}
        if sample_weight is not None:
            # Every step that averages over rows gets the weights, so a weight of 2
            # is the same as the row twice (scikit-learn's sample-weight contract).
            for name in ("scale", "clf"):
                if name in pipe.named_steps:
                    fit_params[f"{name}__sample_weight"] = sample_weight
        self.pipeline_ = pipe.fit(X, y, **fit_params)
        self.n_iter_ = np.max(pipe.named_steps["clf"].n_iter_)
        return self

    def _checked(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        return validate_data(self, X, reset=False, ensure_all_finite="allow-nan")  # type: ignore[no-any-return]

    def predict_proba(self, X: Any) -> np.ndarray:
        X = self._checked(X)
        return self.pipeline_.predict_proba(X)  # type: ignore[no-any-return]

    def predict(self, X: Any) -> np.ndarray:
        X = self._checked(X)
        return self.pipeline_.predict(X)  # type: ignore[no-any-return]

    def relevance(self, X: Any) -> np.ndarray:
        """The ranking score: probability of the highest class (relevant)."""
        return self.predict_proba(X)[:, -1]


def part_columns(feature_names: Sequence[str]) -> list[int]:
    """Positions of the five explanation parts (`part_required`, ...) in a feature vector."""
    return [feature_names.index(f"part_{p}") for p in PARTS]


def make_model(
    feature_names: Sequence[str], model: str = "logistic", random_state: int = 0
) -> RelevanceClassifier:
    """The ranker as we configure it: products of the parts only (the other features,
    counts and hours, have no meaningful product), monotonic in the parts."""
    parts = set(part_columns(feature_names))
    return RelevanceClassifier(
        model=model,
        interactions=tuple(sorted(parts)),
        monotonic=[1 if i in parts else 0 for i in range(len(feature_names))],
        random_state=random_state,
    )


def train(dataset: Dataset, model: str = "logistic", random_state: int = 0) -> RelevanceClassifier:
    """Fit a ranker on labelled pairs; NotEnoughFeedback when the data cannot support one."""
    check_trainable(dataset)
    clf = make_model(dataset.feature_names, model, random_state)
    return clf.fit(dataset.X, dataset.y, sample_weight=dataset.sample_weight)


def check_trainable(dataset: Dataset) -> None:
    relevant = int(dataset.y.sum())
    problems = []
    if len(dataset) < MIN_PAIRS:
        problems.append(f"{len(dataset)} labelled pairs (need {MIN_PAIRS})")
    if relevant < MIN_RELEVANT or len(dataset) - relevant < MIN_RELEVANT:
        problems.append(f"{relevant} relevant of {len(dataset)} (need {MIN_RELEVANT} of each)")
    if len(dataset.seekers) < MIN_SEEKERS:
        problems.append(f"{len(dataset.seekers)} seekers (need {MIN_SEEKERS})")
    if problems:
        raise NotEnoughFeedback("not enough feedback to train: " + "; ".join(problems))


@dataclass(slots=True)
class LearnedRanker:
    """A fitted model behind the matcher's `Ranker` protocol."""

    model: RelevanceClassifier
    name: str

    def scores(self, features: np.ndarray) -> np.ndarray:
        return self.model.relevance(np.asarray(features, dtype=np.float64))
