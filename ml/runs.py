"""What `jotr ml train` and `jotr ml evaluate` do, without the command line.

train:    feedback in a window -> dataset -> grouped CV (the artifact's metrics)
          -> fit on all of it -> a new versioned artifact (never promoted here).
evaluate: the same CV, plus the ESCO ranking tasks with the hand-set scorer, the
          learned ranker (fitted on all of the feedback in this run, or a saved
          version) and the Jaccard baseline; optionally written to docs/quality.md.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.analytics.feedback import FEATURE_NAMES
from matcher.matching.ranking import Ranker
from ml import artifacts
from ml.dataset import Dataset, build_dataset, load_dataset
from ml.esco_data import load_esco
from ml.esco_tasks import VARIANTS, build_tasks, evaluate_tasks
from ml.evaluate import CVReport, cross_validate
from ml.ranker import LearnedRanker, train

SOURCES = ("feedback", "simulated")


@dataclass(slots=True)
class Window:
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def as_dict(self, dataset: Dataset) -> dict[str, str | None]:
        def iso(t: dt.datetime | None) -> str | None:
            return t.isoformat() if t else None

        return {
            "since": iso(self.since),
            "until": iso(self.until),
            "first_event": iso(dataset.first_at),
            "last_event": iso(dataset.last_at),
        }


def get_dataset(
    database_url: str | None, window: Window, simulated: int = 0, seed: int = 0
) -> tuple[Dataset, str]:
    """Feedback from the database, or (`simulated` seekers > 0) SIMULATED feedback."""
    if simulated > 0:
        from ml.simulate import simulate_feedback

        pairs = simulate_feedback(load_esco(), n_seekers=simulated, seed=seed)
        return build_dataset(pairs, FEATURE_NAMES), "simulated"
    if database_url is None:
        raise ValueError("a database URL is needed for real feedback")
    return load_dataset(database_url, FEATURE_NAMES, window.since, window.until), "feedback"


@dataclass(slots=True)
class Trained:
    version: str
    directory: Path
    metadata: dict[str, Any]


def train_and_save(
    dataset: Dataset,
    source: str,
    window: Window,
    model: str = "logistic",
    root: Path | None = None,
    folds: int = 5,
) -> Trained:
    started = time.perf_counter()
    cv = cross_validate(dataset, model, n_splits=folds)
    fitted = train(dataset, model)
    meta = {
        "source": source,
        "training_window": window.as_dict(dataset),
        "data": dataset.summary(),
        "labels": "hired 4, applied 3, saved/verdict_good 2, opened 1, pushed 0; "
        "dismissed/verdict_bad -> 0 unless applied or hired; relevant = grade >= 2",
        "metrics": {"grouped_cv": cv.as_dict()},
        "training_seconds": round(time.perf_counter() - started, 2),
    }
    version, directory = artifacts.save(fitted, meta, root)
    return Trained(version, directory, artifacts.read_metadata(directory))


@dataclass(slots=True)
class Evaluation:
    source: str
    dataset: dict[str, Any]
    cv: CVReport
    esco: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    esco_tasks: int = 0
    esco_substituted: float = 0.0
    learned_name: str = ""
    seconds: float = 0.0


def evaluate(
    dataset: Dataset,
    source: str,
    model: str = "logistic",
    esco_tasks: int = 500,
    learned: Ranker | None = None,
    folds: int = 5,
    seed: int = 0,
) -> Evaluation:
    started = time.perf_counter()
    cv = cross_validate(dataset, model, n_splits=folds, random_state=seed)
    if learned is None:
        what = "SIMULATED feedback" if source == "simulated" else "feedback"
        name = f"`{model}` fitted on all of this run's {what}"
        learned = LearnedRanker(train(dataset, model, seed), name)
    out = Evaluation(source, dataset.summary(), cv, learned_name=learned.name)
    if esco_tasks > 0:
        esco = load_esco()
        for variant in VARIANTS:
            tasks = build_tasks(esco, n_tasks=esco_tasks, variant=variant, seed=seed)
            out.esco[variant] = evaluate_tasks(tasks, learned)
            out.esco_substituted = tasks.substituted
        out.esco_tasks = esco_tasks
    out.seconds = round(time.perf_counter() - started, 1)
    return out


def _f(x: Any) -> str:
    return "–" if x is None or x != x else f"{x:.3f}"  # x != x: NaN


def render_markdown(ev: Evaluation, command: str) -> str:
    d = ev.dataset
    hand, learned = ev.cv.hand, ev.cv.learned
    lo, hi = ev.cv.ndcg10_diff_ci
    kind = "SIMULATED feedback (ml/simulate.py)" if ev.source == "simulated" else "feedback"
    lines = [
        f"Measured {dt.date.today().isoformat()} with `{command}` ({ev.seconds} s).",
        "",
        f"**{kind}**: {d['n_events']} events, {d['n_pairs']} (seeker, vacancy) pairs, "
        f"{d['n_seekers']} seekers, {d['n_relevant']} relevant (grade ≥ 2); "
        f"{ev.cv.folds}-fold cross-validation grouped by seeker, learned model "
        f"`{ev.cv.model}`.",
        "",
        "| task | metric | hand-set scorer | learned ranker | Jaccard baseline |",
        "| --- | --- | --- | --- | --- |",
        f"| {ev.source}, grouped CV | NDCG@10 | {_f(hand.ndcg10)} | {_f(learned.ndcg10)} | – |",
        f"| {ev.source}, grouped CV | P@5 | {_f(hand.p5)} | {_f(learned.p5)} | – |",
        f"| {ev.source}, grouped CV | AUC | {_f(hand.auc)} | {_f(learned.auc)} | – |",
    ]
    names = {
        "same_distance": "ESCO tasks, all vacancies at the same distance",
        "spread_distance": "ESCO tasks, distances spread over the radius",
    }
    for variant, res in ev.esco.items():
        scorers = ("hand_set", "learned", "jaccard")
        cells = " | ".join(_f(res.get(k, {}).get("ndcg@10")) for k in scorers)
        lines.append(f"| {names[variant]} ({ev.esco_tasks} seekers) | NDCG@10 | {cells} |")
    lines += [
        "",
        f"Learned minus hand-set NDCG@10 per seeker (CV): {ev.cv.ndcg10_diff:+.3f}, "
        f"bootstrap 95 % interval [{lo:+.3f}, {hi:+.3f}]. ESCO tasks: learned ranker = "
        f"{ev.learned_name}; {ev.esco_substituted:.0%} of a seeker's occupation skills "
        "substituted by related or narrower ones on average.",
    ]
    return "\n".join(lines)


BEGIN, END = "<!-- ml_quality:begin -->", "<!-- ml_quality:end -->"


def write_docs(markdown: str, path: Path) -> None:
    """Replace the block between the markers in `path` (which must have them)."""
    text = path.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{path} has no {BEGIN} ... {END} block")
    path.write_text(pattern.sub(lambda _: f"{BEGIN}\n{markdown}\n{END}", text))
