"""Ranker artifacts: round trip, promotion, and every way loading can go wrong
ending in the hand-set ranker with one clear log line."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skops.io as sio
from sklearn.preprocessing import FunctionTransformer
from skops.io.exceptions import UntrustedTypesFoundException

from matcher.analytics.feedback import FEATURE_NAMES
from matcher.matching.ranking import HandSetRanker
from ml import artifacts
from ml.dataset import Dataset, PairEvents, build_dataset
from ml.ranker import LearnedRanker, RelevanceClassifier, train
from ml.serving import load_active_ranker
from tests.ml_events import START, features, good


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    rng = np.random.default_rng(0)
    seekers: list[str] = []
    vacancies: list[str] = []
    kinds: list[tuple[str, ...]] = []
    feats: list[Sequence[float]] = []
    times: list[dt.datetime] = []
    for s in range(30):
        for v in range(10):
            f = features(rng)
            seekers.append(f"s{s}")
            vacancies.append(f"v{s}-{v}")
            kinds.append(("pushed", "opened", "saved") if good(f) else ("pushed",))
            feats.append(f)
            times.append(START)
    return build_dataset(PairEvents(seekers, vacancies, kinds, feats, times, 900), FEATURE_NAMES)


@pytest.fixture(scope="module")
def model(dataset: Dataset) -> RelevanceClassifier:
    return train(dataset)


META = {"source": "feedback", "training_window": {"since": None}, "metrics": {"x": 1}}


@pytest.fixture
def saved(model: RelevanceClassifier, tmp_path: Path) -> tuple[Path, str]:
    version, _ = artifacts.save(model, dict(META), tmp_path)
    return tmp_path, version


def test_round_trip(model: RelevanceClassifier, dataset: Dataset, saved: tuple[Path, str]) -> None:
    root, version = saved
    loaded, meta = artifacts.load(version, root)
    np.testing.assert_array_equal(loaded.relevance(dataset.X), model.relevance(dataset.X))
    for key in ("version", "created", "training_window", "sklearn_version", "skops_version"):
        assert meta[key]
    assert meta["feature_names"] == list(FEATURE_NAMES)
    assert meta["metrics"] == {"x": 1}
    assert meta["source"] == "feedback"
    assert meta["model"]["params"]["model"] == "logistic"
    assert len(meta["model_sha256"]) == 64


def test_promote_and_load_active(saved: tuple[Path, str], caplog: pytest.LogCaptureFixture) -> None:
    root, version = saved
    assert isinstance(load_active_ranker(root), HandSetRanker)  # nothing promoted yet
    artifacts.promote(version, root)
    assert (root / "active").read_text().strip() == version
    assert [v.version for v in artifacts.list_versions(root) if v.active] == [version]
    with caplog.at_level(logging.INFO, logger="jotr.ml"):
        ranker = load_active_ranker(root)
    assert isinstance(ranker, LearnedRanker)
    assert ranker.name == f"learned:{version}"
    assert [r.event for r in caplog.records] == ["ranker_loaded"]  # type: ignore[attr-defined]
    assert not list(root.glob(".active.*"))  # the temporary pointer was renamed, not left


def test_versions_never_overwrite(model: RelevanceClassifier, saved: tuple[Path, str]) -> None:
    root, first = saved
    second, _ = artifacts.save(model, dict(META), root)
    assert first != second
    assert [v.version for v in artifacts.list_versions(root)] == sorted([first, second])[::-1]


def _fallback(
    root: Path, caplog: pytest.LogCaptureFixture, **kwargs: Any
) -> tuple[object, logging.LogRecord]:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="jotr.ml"):
        ranker = load_active_ranker(root, **kwargs)
    records = [r for r in caplog.records if getattr(r, "event", None) == "ranker_fallback"]
    assert len(records) == 1, caplog.records
    return ranker, records[0]


def _activate(root: Path, version: str) -> None:
    (root / "active").write_text(version + "\n")


def _edit_meta(root: Path, version: str, **changes: Any) -> None:
    path = root / version / "metadata.json"
    meta = json.loads(path.read_text())
    meta.update(changes)
    path.write_text(json.dumps(meta))


@pytest.fixture
def active(saved: tuple[Path, str]) -> tuple[Path, str]:
    root, version = saved
    artifacts.promote(version, root)
    return root, version


def test_corrupt_model_file_falls_back(
    active: tuple[Path, str], caplog: pytest.LogCaptureFixture
) -> None:
    root, version = active
    path = root / version / "model.skops"
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = os.urandom(64)
    path.write_bytes(bytes(data))
    ranker, record = _fallback(root, caplog)
    assert isinstance(ranker, HandSetRanker)
    assert record.levelno == logging.WARNING
    assert record.reason == "corrupt"  # type: ignore[attr-defined]
    assert record.version == version  # type: ignore[attr-defined]
    assert "checksum" in record.getMessage()
    assert "using the hand-set scorer" in record.getMessage()


def test_truncated_model_with_matching_checksum_falls_back(
    active: tuple[Path, str], caplog: pytest.LogCaptureFixture
) -> None:
    # Someone "fixed" the checksum by hand: the file must still not load.
    root, version = active
    path = root / version / "model.skops"
    path.write_bytes(path.read_bytes()[:200])
    _edit_meta(root, version, model_sha256=artifacts._sha256(path))
    ranker, record = _fallback(root, caplog)
    assert isinstance(ranker, HandSetRanker)
    assert record.reason == "corrupt"  # type: ignore[attr-defined]


def test_corrupt_metadata_falls_back(
    active: tuple[Path, str], caplog: pytest.LogCaptureFixture
) -> None:
    root, version = active
    (root / version / "metadata.json").write_text("{not json")
    ranker, record = _fallback(root, caplog)
    assert isinstance(ranker, HandSetRanker)
    assert record.reason == "corrupt"  # type: ignore[attr-defined]


def test_other_sklearn_version_falls_back(
    active: tuple[Path, str], caplog: pytest.LogCaptureFixture
) -> None:
    root, version = active
    _edit_meta(root, version, sklearn_version="0.24.2")
    ranker, record = _fallback(root, caplog)
    assert isinstance(ranker, HandSetRanker)
    assert record.reason == "incompatible"  # type: ignore[attr-defined]
    assert "scikit-learn 0.24.2" in record.getMessage()


def test_other_feature_names_fall_back(
    active: tuple[Path, str], caplog: pytest.LogCaptureFixture
) -> None:
    root, _ = active
    names = (*FEATURE_NAMES, "part_new")  # the matcher now writes one more feature
    ranker, record = _fallback(root, caplog, feature_names=names)
    assert isinstance(ranker, HandSetRanker)
    assert record.reason == "incompatible"  # type: ignore[attr-defined]
    assert "part_new" in record.getMessage()


def test_missing_version_falls_back(
    saved: tuple[Path, str], caplog: pytest.LogCaptureFixture
) -> None:
    root, _ = saved
    _activate(root, "20200101T000000Z-deadbeef")
    ranker, record = _fallback(root, caplog)
    assert isinstance(ranker, HandSetRanker)
    assert record.reason == "missing"  # type: ignore[attr-defined]


def test_pointer_outside_models_is_refused(
    saved: tuple[Path, str], caplog: pytest.LogCaptureFixture
) -> None:
    root, _ = saved
    _activate(root, "../../etc")
    ranker, record = _fallback(root, caplog)
    assert isinstance(ranker, HandSetRanker)
    assert record.reason == "bad_version"  # type: ignore[attr-defined]


def test_no_promoted_model_is_an_info_not_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ranker, record = _fallback(tmp_path / "nothing-here", caplog)
    assert isinstance(ranker, HandSetRanker)
    assert record.levelno == logging.INFO
    assert record.reason == "none_active"  # type: ignore[attr-defined]


# --- skops: loading never runs code it does not trust --------------------------------


class Sneaky(RelevanceClassifier):
    """A class from outside the trusted list (it could do anything in __setstate__)."""


def test_untrusted_type_in_the_file_falls_back(
    active: tuple[Path, str], caplog: pytest.LogCaptureFixture
) -> None:
    root, version = active
    path = root / version / "model.skops"
    # A file that would call os.system if its function were trusted and invoked.
    sio.dump(FunctionTransformer(func=os.system), path)
    assert "posix.system" in sio.get_untrusted_types(file=path)
    _edit_meta(root, version, model_sha256=artifacts._sha256(path))
    ranker, record = _fallback(root, caplog)
    assert isinstance(ranker, HandSetRanker)
    assert record.reason == "untrusted"  # type: ignore[attr-defined]
    assert "posix.system" in record.getMessage()
    with pytest.raises(UntrustedTypesFoundException):
        sio.load(path, trusted=list(artifacts.TRUSTED_TYPES))


def test_saving_an_untrusted_class_is_refused(dataset: Dataset, tmp_path: Path) -> None:
    sneaky = Sneaky().fit(dataset.X, dataset.y)
    with pytest.raises(artifacts.ArtifactError, match="untrusted") as err:
        artifacts.save(sneaky, dict(META), tmp_path)
    assert err.value.reason == "untrusted"
    assert not [p for p in tmp_path.iterdir()]  # nothing half-written left behind


def test_promote_refuses_a_broken_version(
    model: RelevanceClassifier, active: tuple[Path, str]
) -> None:
    root, good_version = active
    bad, _ = artifacts.save(model, dict(META), root)
    _edit_meta(root, bad, sklearn_version="0.0")
    with pytest.raises(artifacts.ArtifactError) as err:
        artifacts.promote(bad, root)
    assert err.value.reason == "incompatible"
    assert artifacts.active_version(root) == good_version  # the pointer did not move


@pytest.fixture(autouse=True)
def _no_stray_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    # Every call above passes its root; a default root would land in the real $JOTR_HOME.
    monkeypatch.setenv("JOTR_HOME", str(tmp_path / "home"))
    from matcher.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def test_the_service_starts_with_the_promoted_ranker(
    database_url: str,
    esco_loaded: object,
    model: RelevanceClassifier,
    tmp_path: Path,
) -> None:
    from api.app import create_app, lifespan
    from matcher.matching import ranking
    from matcher.settings import Settings

    home = tmp_path / "service-home"
    version, _ = artifacts.save(model, dict(META), home / "models")
    artifacts.promote(version, home / "models")
    app = create_app(Settings(database_url=database_url, home=home, log_json=False))
    try:
        async with lifespan(app):
            assert ranking.active().name == f"learned:{version}"
        assert ranking.is_hand_set(ranking.active())  # reset at shutdown
        (home / "models" / version / "model.skops").write_bytes(b"garbage")
        # create_app configures logging (replacing caplog's root handler): listen on
        # the ml logger itself.
        seen = Records(level=logging.WARNING)
        logging.getLogger("jotr.ml").addHandler(seen)
        try:
            async with lifespan(app):
                assert ranking.is_hand_set(ranking.active())
        finally:
            logging.getLogger("jotr.ml").removeHandler(seen)
        assert [getattr(r, "reason", None) for r in seen.records] == ["corrupt"]
    finally:
        ranking.set_active(None)


class Records(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
