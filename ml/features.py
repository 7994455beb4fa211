"""Features of the learned ranker: the matcher's explanation parts and their products.

The matcher already explains a match in five parts in [0, 1] (required skills,
optional skills, work profile, practical fit, distance; `matcher.matching.scoring`). A
linear model over those parts can only re-weigh them, which is what the hand-set
weights already do. Products let it learn what people plausibly do and a sum
cannot say: "a short way matters more when the job fits" (required x distance),
"a close job I am not suited to is still no good". Trees find such splits on their
own, but the explicit products help them with little data too.

`InteractionFeatures` follows scikit-learn's conventions (parameters stored
untouched in `__init__`, learned attributes end in `_`, `fit` returns `self`), so
it sits in a `Pipeline`, passes `check_estimator` and is persisted by skops by
name (see `ml.artifacts.TRUSTED_TYPES`).
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data


class InteractionFeatures(TransformerMixin, BaseEstimator):
    """Append pairwise products of chosen columns to the input.

    Parameters
    ----------
    columns : sequence of int or None
        Input columns that take part in products; None = all of them.
    include_input : bool
        Keep the input columns in front of the products (the default). False
        gives the products alone.
    """

    def __init__(self, columns: tuple[int, ...] | None = None, include_input: bool = True):
        self.columns = columns
        self.include_input = include_input

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # A missing value stays missing in its products; the model downstream decides.
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X: Any, y: Any = None) -> InteractionFeatures:
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        n = X.shape[1]
        cols = tuple(range(n)) if self.columns is None else tuple(int(c) for c in self.columns)
        if any(c < 0 or c >= n for c in cols):
            raise ValueError(f"columns {cols} out of range for n_features={n}")
        self.pairs_ = np.asarray(list(combinations(cols, 2)), dtype=np.int64).reshape(-1, 2)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "pairs_")
        X = validate_data(self, X, dtype=np.float64, reset=False, ensure_all_finite="allow-nan")
        products = X[:, self.pairs_[:, 0]] * X[:, self.pairs_[:, 1]]
        return np.hstack([X, products]) if self.include_input else products

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "pairs_")
        if input_features is None:
            names = getattr(self, "feature_names_in_", None)
            if names is None:
                names = [f"x{i}" for i in range(self.n_features_in_)]
        else:
            names = list(input_features)
            if len(names) != self.n_features_in_:
                raise ValueError("input_features does not match the fitted number of features")
        products = [f"{names[a]}*{names[b]}" for a, b in self.pairs_.tolist()]
        out = [*map(str, names), *products] if self.include_input else products
        return np.asarray(out, dtype=object)
