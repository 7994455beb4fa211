"""The learned ranker: metrics on hand-checked examples, labels, scikit-learn's
estimator checks, training and grouped CV on events in a real database, and the
matcher re-ordering its top candidates with an active ranker."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import numpy as np
import pytest
from sklearn.metrics import ndcg_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from matcher.analytics.feedback import FEATURE_NAMES
from matcher.matching import matches as matching
from matcher.matching import ranking
from matcher.matching.ranking import HandSetRanker, feature_matrix
from ml.dataset import build_dataset, grade, load_dataset, load_pairs
from ml.esco_data import SyntheticVacancy, batch_of, load_esco, seeker_for
from ml.evaluate import cross_validate
from ml.features import InteractionFeatures
from ml.metrics import auc, ndcg_at_k, precision_at_k, ranking_metrics
from ml.ranker import NotEnoughFeedback, RelevanceClassifier, make_model, train
from tests.conftest import migrated_database
from tests.ml_events import START, Inserted, insert_feedback

# --- metrics, checked by hand ---------------------------------------------------


def test_ndcg_at_10_by_hand() -> None:
    grades = np.array([3, 2, 0, 1])
    scores = np.array([0.9, 0.1, 0.8, 0.5])
    # Scorer's order: grades 3, 0, 1, 2. DCG = 3/1 + 0/log2(3) + 1/2 + 2/log2(5)
    dcg = 3 + 0 + 0.5 + 2 / np.log2(5)
    # Ideal order 3, 2, 1, 0: 3 + 2/log2(3) + 1/2
    idcg = 3 + 2 / np.log2(3) + 0.5
    assert ndcg_at_k(grades, scores, 10) == pytest.approx(dcg / idcg)
    assert dcg / idcg == pytest.approx(0.91589, abs=1e-5)
    assert ndcg_at_k(grades, scores, 10) == pytest.approx(ndcg_score([grades], [scores], k=10))
    # Cut at k = 1: only the first place counts, and it is the best item.
    assert ndcg_at_k(grades, scores, 1) == pytest.approx(1.0)
    assert ndcg_at_k(np.zeros(4), scores, 10) is None  # nothing relevant: undefined


def test_ties_are_averaged_like_scikit_learn() -> None:
    grades = np.array([0, 0, 2, 1, 0])
    scores = np.array([0.5, 0.5, 0.5, 0.9, 0.1])
    ours = ndcg_at_k(grades, scores, 3)
    assert ours == pytest.approx(ndcg_score([grades], [scores], k=3, ignore_ties=False))
    # A constant scorer gets the same whatever the input order: it ordered nothing.
    flat = np.ones(5)
    assert ndcg_at_k(grades, flat) == pytest.approx(ndcg_at_k(grades[::-1], flat))


def test_precision_at_5_by_hand() -> None:
    relevant = np.array([1, 0, 1, 0, 0, 1, 0], dtype=bool)
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
    assert precision_at_k(relevant, scores, 5) == pytest.approx(2 / 5)
    assert precision_at_k(relevant, -scores, 5) == pytest.approx(2 / 5)  # rows 6,5,4,3,2
    assert precision_at_k(relevant, scores, 1) == pytest.approx(1.0)
    # Shorter than k: divided by its length (3 shown, 2 good).
    assert precision_at_k(relevant[:3], scores[:3], 5) == pytest.approx(2 / 3)
    # A tie across the cut-off counts its expected share: 2 places for 4 tied rows, 2 good.
    tied = np.array([1, 1, 0, 0, 0], dtype=bool)
    assert precision_at_k(tied, np.array([0.5, 0.5, 0.5, 0.5, 0.9]), 3) == pytest.approx(1 / 3)


def test_auc_by_hand() -> None:
    relevant = np.array([1, 0, 1, 0], dtype=bool)
    # Positive-negative pairs ordered right: (0.8>0.6), (0.8>0.2), (0.4>0.2); wrong: (0.4<0.6).
    assert auc(relevant, np.array([0.8, 0.6, 0.4, 0.2])) == pytest.approx(3 / 4)
    assert auc(relevant, np.array([0.5, 0.5, 0.5, 0.5])) == pytest.approx(0.5)
    assert auc(np.ones(3, dtype=bool), np.arange(3.0)) is None


def test_metrics_average_per_query() -> None:
    grades = np.array([2, 0, 0, 2, 0, 0, 0])
    groups = np.array([1, 1, 2, 2, 3, 3, 3])  # query 3 has nothing relevant
    scores = np.array([0.9, 0.1, 0.9, 0.1, 0.5, 0.4, 0.3])
    m = ranking_metrics(grades, scores, groups)
    # Query 1: perfect (1.0). Query 2: relevant second, 1/log2(3).
    assert m.ndcg10 == pytest.approx((1.0 + 1 / np.log2(3)) / 2)
    assert m.p5 == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert m.queries == 2


# --- labels -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (["pushed"], 0),
        (["pushed", "opened"], 1),
        (["pushed", "opened", "saved"], 2),
        (["verdict_good"], 2),
        (["pushed", "opened", "saved", "applied"], 3),
        (["pushed", "applied", "hired"], 4),
        (["pushed", "opened", "saved", "dismissed"], 0),  # a change of mind
        (["pushed", "opened", "verdict_bad"], 0),
        (["pushed", "applied", "dismissed"], 3),  # an application is not undone
        (["hired", "verdict_bad"], 4),
    ],
)
def test_grade_from_the_strongest_outcome(kinds: list[str], expected: int) -> None:
    assert grade(kinds) == expected


# --- scikit-learn conventions -----------------------------------------------------


@parametrize_with_checks(
    [
        InteractionFeatures(),
        InteractionFeatures(columns=(0, 1), include_input=False),
        RelevanceClassifier(),
        RelevanceClassifier(model="hgb", max_iter=10, interactions=None),
    ]
)
def test_sklearn_estimator_checks(estimator: object, check: object) -> None:
    check(estimator)  # type: ignore[operator]


def test_interaction_features_names_and_values() -> None:
    t = InteractionFeatures(columns=(0, 2)).fit(np.zeros((1, 3)))
    out = t.transform(np.array([[2.0, 3.0, 5.0]]))
    assert out.tolist() == [[2.0, 3.0, 5.0, 10.0]]
    assert t.get_feature_names_out(["a", "b", "c"]).tolist() == ["a", "b", "c", "a*c"]


def test_monotonic_model_never_prefers_a_worse_part() -> None:
    rng = np.random.default_rng(1)
    X = rng.random((600, len(FEATURE_NAMES)))
    y = (X[:, FEATURE_NAMES.index("part_distance")] + 0.3 * rng.random(600) > 0.7).astype(int)
    clf = make_model(FEATURE_NAMES, "hgb").set_params(max_iter=40).fit(X, y)
    for p in ("part_required", "part_distance", "part_profile"):
        lo, hi = X[:50].copy(), X[:50].copy()
        lo[:, FEATURE_NAMES.index(p)] = 0.2
        hi[:, FEATURE_NAMES.index(p)] = 0.9
        assert np.all(clf.relevance(hi) >= clf.relevance(lo) - 1e-12), p


# --- training on events in the database ---------------------------------------------


@pytest.fixture(scope="module")
def feedback_db() -> Iterator[tuple[str, Inserted]]:
    # Its own database: other tests' events must not leak into "all events".
    with migrated_database("jotr_ml") as url:
        yield url, insert_feedback(url, n_seekers=40, per_seeker=12)


def test_events_become_one_labelled_row_per_pair(feedback_db: tuple[str, Inserted]) -> None:
    url, inserted = feedback_db
    data = load_dataset(url, FEATURE_NAMES)
    assert len(data) == inserted.n_pairs
    assert data.n_events == inserted.n_events
    assert len(data.seekers) == 40
    assert data.X.shape == (inserted.n_pairs, len(FEATURE_NAMES))
    assert set(np.unique(data.grades).tolist()) <= {0, 1, 2, 3}
    assert data.first_at == inserted.first
    # Each seeker's rows share one group, and groups are seekers.
    assert len(np.unique(data.groups)) == 40


def test_training_window(feedback_db: tuple[str, Inserted]) -> None:
    url, _ = feedback_db
    # Seeker s has their events on day s: a 10-day window holds 10 seekers.
    since, until = START + dt.timedelta(days=5), START + dt.timedelta(days=15)
    data = load_dataset(url, FEATURE_NAMES, since, until)
    assert len(data.seekers) == 10
    assert data.first_at is not None and data.first_at >= since
    assert data.last_at is not None and data.last_at < until
    assert len(load_pairs(url, until=START)) == 0


def test_grouped_cv_learns_what_the_hand_set_weights_miss(
    feedback_db: tuple[str, Inserted],
) -> None:
    url, _ = feedback_db
    data = load_dataset(url, FEATURE_NAMES)
    report = cross_validate(data, "logistic", n_splits=5)
    assert report.folds == 5
    assert report.hand.queries == report.learned.queries > 30
    # The people here care about distance and profile, not skills (tests/ml_events.py).
    assert report.learned.auc > 0.85
    assert report.learned.auc > report.hand.auc + 0.1
    assert report.learned.ndcg10 > report.hand.ndcg10
    assert report.ndcg10_diff_ci[0] > 0
    fitted = train(data)
    assert fitted.relevance(data.X).shape == (len(data),)


def test_grouped_cv_never_tests_on_a_training_seeker(feedback_db: tuple[str, Inserted]) -> None:
    from sklearn.model_selection import GroupKFold

    data = load_dataset(feedback_db[0], FEATURE_NAMES)
    for tr, te in GroupKFold(5, shuffle=True, random_state=0).split(data.X, data.y, data.groups):
        assert not set(data.groups[tr]) & set(data.groups[te])


def test_too_little_feedback_is_refused(feedback_db: tuple[str, Inserted]) -> None:
    url, _ = feedback_db
    few = load_dataset(url, FEATURE_NAMES, until=START + dt.timedelta(days=2))
    with pytest.raises(NotEnoughFeedback, match="not enough feedback"):
        train(few)


def test_rows_with_another_feature_layout_are_skipped(feedback_db: tuple[str, Inserted]) -> None:
    pairs = load_pairs(feedback_db[0], until=START + dt.timedelta(days=1))
    pairs.features[0] = [*pairs.features[0], 1.0]  # a layout this code does not know
    # Written before the last feature was appended: read with it unknown.
    pairs.features[1] = list(pairs.features[1])[: len(FEATURE_NAMES) - 1]
    data = build_dataset(pairs, FEATURE_NAMES)
    assert data.skipped["feature_length"] == 1
    assert len(data) == len(pairs) - 1
    assert np.isnan(data.X[0, -1]) and not np.isnan(data.X[0, :-1]).any()


# --- serving: the matcher's order ------------------------------------------------


@pytest.fixture
def restore_ranker() -> Iterator[None]:
    yield
    ranking.set_active(None)


def _scored(n: int = 150) -> matching.Scored:
    esco = load_esco()
    rng = np.random.default_rng(3)
    occ = esco.occupations[:n]
    vacancies = [
        SyntheticVacancy(o, o.essential[:4], o.optional[:2], float(rng.uniform(0, 5000)))
        for o in occ
    ]
    held = list(occ[0].essential[:3]) + list(occ[1].essential[:2])
    return matching.score(seeker_for(esco, held, 5000.0), batch_of(vacancies))


def test_hand_set_ranker_is_the_match_score() -> None:
    scored = _scored()
    rows = np.arange(len(scored.batch))
    got = HandSetRanker().scores(feature_matrix(scored, rows))
    np.testing.assert_allclose(got, scored.scores.total, atol=2e-4)  # parts are rounded


class NearestFirst:
    name = "nearest-first"

    def scores(self, features: np.ndarray) -> np.ndarray:
        return -features[:, FEATURE_NAMES.index("distance_km")]


def test_an_active_ranker_reorders_the_hand_set_top(restore_ranker: None) -> None:
    scored = _scored()
    hand = matching.rank(scored, 10)
    ranking.set_active(NearestFirst())
    learned = matching.rank(scored, 10)
    # The nearest of the hand-set top RERANK_K, nearest first.
    ranking.set_active(None)
    top_k = matching.rank(scored, ranking.RERANK_K)
    nearest = top_k[np.argsort(scored.batch.distance_m[top_k], kind="stable")][:10]
    assert learned.tolist() == nearest.tolist()
    assert learned.tolist() != hand.tolist()
    assert np.all(np.diff(scored.batch.distance_m[learned]) >= 0)


class Broken:
    name = "broken"

    def scores(self, features: np.ndarray) -> np.ndarray:
        raise RuntimeError("boom")


def test_a_failing_ranker_keeps_the_hand_set_order(
    restore_ranker: None, caplog: pytest.LogCaptureFixture
) -> None:
    scored = _scored()
    hand = matching.rank(scored, 10)
    ranking.set_active(Broken())
    with caplog.at_level(logging.WARNING, logger="jotr.ranking"):
        assert matching.rank(scored, 10).tolist() == hand.tolist()
        assert matching.rank(scored, 10).tolist() == hand.tolist()
    failures = [r for r in caplog.records if getattr(r, "event", None) == "ranker_failed"]
    assert len(failures) == 1  # logged once, not on every request
    assert failures[0].ranker == "broken"  # type: ignore[attr-defined]
