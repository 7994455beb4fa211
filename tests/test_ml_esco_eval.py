"""The ESCO-derived ranking tasks, the simulated feedback, and `jotr ml` end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from api.cli import app
from matcher.analytics.feedback import FEATURE_NAMES
from matcher.matching.ranking import HandSetRanker
from matcher.settings import get_settings
from ml import artifacts
from ml.dataset import build_dataset
from ml.esco_data import SHARED_ESCO, Esco, held_skills, load_esco
from ml.esco_tasks import TaskSet, build_tasks, evaluate_tasks
from ml.metrics import ranking_metrics
from ml.runs import BEGIN, END, write_docs
from ml.serving import load_active_ranker
from ml.simulate import simulate_feedback
from tests.conftest import migrated_database
from tests.ml_events import insert_feedback


@pytest.fixture(scope="module")
def esco() -> Esco:
    return load_esco()


@pytest.fixture(scope="module")
def tasks(esco: Esco) -> TaskSet:
    return build_tasks(esco, n_tasks=60, variant="same_distance", seed=1)


def test_reads_the_shared_esco_relations(esco: Esco) -> None:
    # The evaluation uses ESCO's own occupation profiles (129k relations), not ours.
    assert esco.directory == SHARED_ESCO
    assert len(esco.occupations) > 2900
    barista = next(o for o in esco.occupations if o.label == "barista")
    assert barista.isco == "5132"
    assert len(barista.essential) >= 10


def test_substituted_skills_still_earn_taxonomy_credit(esco: Esco) -> None:
    rng = np.random.default_rng(0)
    got = []
    for occ in esco.occupations[:200]:
        held, swapped = held_skills(rng, esco, occ, keep=0.5, substitute=1.0, extra=0)
        if not swapped:
            continue
        credit = esco.taxonomy.credit_vector(held)
        essential = np.asarray(occ.essential)
        listed = np.isin(essential, held)
        # Essential skills the seeker does not list, yet gets credit for through
        # a related or narrower skill they hold.
        got.append(float((credit[essential][~listed] > 0).sum()))
    assert len(got) > 100
    assert np.mean(got) >= 1.0


def test_tasks_have_one_target_and_its_group(tasks: TaskSet) -> None:
    assert tasks.n_tasks == 60
    assert tasks.X.shape == (60 * 100, len(FEATURE_NAMES))
    for q in range(60):
        g = tasks.grades[tasks.groups == q]
        assert (g == 2).sum() == 1  # the target occupation's vacancy
        assert (g == 1).sum() >= 1  # its ISCO unit group
    assert 0.05 < tasks.substituted < 0.5


def test_scorers_on_the_tasks(tasks: TaskSet) -> None:
    res = evaluate_tasks(tasks, learned=None)
    assert set(res) == {"hand_set", "jaccard"}
    # Far above a random order (NDCG@10 ~0.1 with one or a few relevant in 100).
    assert res["hand_set"]["ndcg@10"] > 0.5
    assert res["jaccard"]["ndcg@10"] > 0.4
    random = ranking_metrics(tasks.grades, np.random.default_rng(0).random(len(tasks.grades)),
                             tasks.groups, relevant_grade=1)  # fmt: skip
    assert random.ndcg10 < 0.3
    # An oracle is perfect and the plumbing agrees.
    oracle = ranking_metrics(tasks.grades, tasks.grades.astype(float), tasks.groups, 1)
    assert oracle.ndcg10 == pytest.approx(1.0)


def test_spread_distance_makes_distance_noise(esco: Esco) -> None:
    spread = build_tasks(esco, n_tasks=30, variant="spread_distance", seed=1)
    dist = spread.X[:, FEATURE_NAMES.index("part_distance")]
    assert dist.std() > 0.2
    res = evaluate_tasks(spread, learned=HandSetRanker())
    assert res["learned"] == res["hand_set"]  # the same ranker gives the same figures


def test_simulated_feedback_is_labelled_like_real_feedback(esco: Esco) -> None:
    pairs = simulate_feedback(esco, n_seekers=20, seed=2)
    data = build_dataset(pairs, FEATURE_NAMES)
    assert len(data.seekers) == 20
    assert len(data) == 20 * 16  # 12 shown + 4 explored per seeker
    assert 0.1 < data.y.mean() < 0.9
    assert all(k[0] == "pushed" for k in pairs.kinds)


# --- the command line, end to end ---------------------------------------------------


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "jotr-home"


def jotr(home: Path, *args: str, database_url: str = "") -> Result:
    get_settings.cache_clear()  # settings are read once per process, and env changes here
    env = {"JOTR_HOME": str(home), "DATABASE_URL": database_url or None}
    try:
        result = CliRunner().invoke(app, list(args), env=env)  # type: ignore[arg-type]
    finally:
        get_settings.cache_clear()
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture(scope="module")
def feedback_url() -> Iterator[str]:
    with migrated_database("jotr_ml_cli") as url:
        insert_feedback(url, n_seekers=30, per_seeker=10, seed=5)
        yield url


def test_cli_train_list_promote_and_serve(home: Path, feedback_url: str) -> None:
    out = jotr(home, "ml", "train", database_url=feedback_url)
    assert out.exit_code == 0, out.output
    assert "300 pairs, 30 seekers" in out.output
    versions = artifacts.list_versions(home / "models")
    assert len(versions) == 1
    version = versions[0].version
    meta = versions[0].metadata
    assert meta is not None and meta["source"] == "feedback"
    assert meta["data"]["n_seekers"] == 30
    assert meta["metrics"]["grouped_cv"]["learned"]["auc"] > 0.8

    listed = jotr(home, "ml", "list")
    assert version in listed.output and "*" not in listed.output

    promoted = jotr(home, "ml", "promote", version)
    assert promoted.exit_code == 0, promoted.output
    assert f"* {version}" in jotr(home, "ml", "list").output
    ranker = load_active_ranker(home / "models")
    assert ranker.name == f"learned:{version}"


def test_cli_train_window_and_too_little(home: Path, feedback_url: str) -> None:
    out = jotr(home, "ml", "train", "--until", "2026-03-03", database_url=feedback_url)
    assert out.exit_code == 1
    assert "not enough feedback" in out.output
    bad = jotr(home, "ml", "train", "--since", "yesterday", database_url=feedback_url)
    assert bad.exit_code == 1 and "--since" in bad.output


def test_cli_simulated_models_need_a_flag_to_be_promoted(home: Path) -> None:
    out = jotr(
        home, "ml", "train", "--simulated", "25", database_url="postgresql://x@127.0.0.1:1/x"
    )
    assert out.exit_code == 0, out.output  # no database needed for simulated feedback
    version = artifacts.list_versions(home / "models")[0].version
    refused = jotr(home, "ml", "promote", version)
    assert refused.exit_code == 1 and "--allow-simulated" in refused.output
    assert artifacts.active_version(home / "models") is None
    assert jotr(home, "ml", "promote", version, "--allow-simulated").exit_code == 0


def test_cli_evaluate_prints_the_quality_table(home: Path, tmp_path: Path) -> None:
    out = jotr(home, "ml", "evaluate", "--simulated", "25", "--esco-tasks", "15")
    assert out.exit_code == 0, out.output
    text = out.output
    assert "SIMULATED feedback" in text
    for row in ("grouped CV | NDCG@10", "grouped CV | AUC", "same distance (15 seekers)"):
        assert row in text
    doc = tmp_path / "quality.md"
    doc.write_text(f"# Q\n{BEGIN}\nold\n{END}\ntail\n")
    write_docs("new table", doc)
    assert doc.read_text() == f"# Q\n{BEGIN}\nnew table\n{END}\ntail\n"
