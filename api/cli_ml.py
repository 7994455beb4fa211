"""`jotr ml`: train, evaluate, promote and list learned rankers (docs/ml.md).

Models live in `$JOTR_HOME/models/<version>/`; `promote` points `active` at one,
and the service loads it at its next start (falling back to the hand-set scorer
if it cannot). Heavy imports (scikit-learn, skops) live inside the commands.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

from api.cli_common import CliError, database_url, friendly

if TYPE_CHECKING:
    from ml.dataset import Dataset
    from ml.runs import Window

ml_app = typer.Typer(help="The learned ranker: train, evaluate, promote (docs/ml.md).")

DOCS_QUALITY = Path(__file__).resolve().parents[1] / "docs" / "quality.md"


def _when(value: str | None, option: str) -> dt.datetime | None:
    """ISO date or date-time; without an offset it is Danish time, like `jotr import`."""
    if value is None:
        return None
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"{option}: {value!r} is not an ISO date or date-time") from None
    return t if t.tzinfo else t.replace(tzinfo=ZoneInfo("Europe/Copenhagen"))


SINCE = typer.Option(None, "--since", help="First event time (ISO; Danish time if no offset).")
UNTIL = typer.Option(None, "--until", help="Events before this time (ISO; default: now).")
MODEL = typer.Option("logistic", "--model", help="logistic (default) or hgb.")
SIMULATED = typer.Option(
    0,
    "--simulated",
    min=0,
    help="Use this many SIMULATED seekers' feedback instead of the database "
    "(ml/simulate.py; for demos and the docs' evaluation, never for a real model).",
)


def _dataset(since: str | None, until: str | None, simulated: int) -> tuple[Dataset, str, Window]:
    from ml.runs import Window, get_dataset

    window = Window(_when(since, "--since"), _when(until, "--until"))
    url = None if simulated else database_url()
    dataset, source = get_dataset(url, window, simulated)
    return dataset, source, window


def _check_model(model: str) -> None:
    from ml.ranker import MODELS

    if model not in MODELS:
        raise CliError(f"--model must be one of {', '.join(MODELS)}")


@ml_app.command("train")
@friendly
def train(
    since: str | None = SINCE,
    until: str | None = UNTIL,
    model: str = MODEL,
    simulated: int = SIMULATED,
) -> None:
    """Train a ranker on feedback events in a window and save it as a new version."""
    from ml.ranker import NotEnoughFeedback
    from ml.runs import train_and_save

    _check_model(model)
    dataset, source, window = _dataset(since, until, simulated)
    try:
        trained = train_and_save(dataset, source, window, model)
    except NotEnoughFeedback as exc:
        raise CliError(str(exc)) from None
    meta = trained.metadata
    cv = meta["metrics"]["grouped_cv"]
    typer.echo(f"trained {trained.version} ({source}, {model}) in {trained.directory}")
    typer.echo(
        f"  data: {meta['data']['n_events']} events, {meta['data']['n_pairs']} pairs, "
        f"{meta['data']['n_seekers']} seekers"
    )
    for name in ("hand_set", "learned"):
        m = cv[name]
        typer.echo(f"  {name:9} NDCG@10 {m['ndcg@10']:.3f}  P@5 {m['p@5']:.3f}  AUC {m['auc']:.3f}")
    typer.echo(f"promote it with: jotr ml promote {trained.version}")


@ml_app.command("evaluate")
@friendly
def evaluate(
    since: str | None = SINCE,
    until: str | None = UNTIL,
    model: str = MODEL,
    simulated: int = SIMULATED,
    esco_tasks: int = typer.Option(
        500, "--esco-tasks", min=0, help="Synthetic ESCO seekers per task variant (0: skip)."
    ),
    version: str | None = typer.Option(
        None, "--version", help="Use this saved model on the ESCO tasks (default: fit one now)."
    ),
    write_docs: bool = typer.Option(
        False, "--write-docs", help="Also write the table into docs/quality.md."
    ),
) -> None:
    """Grouped CV on feedback and the ESCO tasks: hand-set vs learned (vs Jaccard)."""
    from ml import artifacts
    from ml.ranker import LearnedRanker, NotEnoughFeedback
    from ml.runs import evaluate as run_evaluation
    from ml.runs import render_markdown
    from ml.runs import write_docs as write

    _check_model(model)
    dataset, source, _ = _dataset(since, until, simulated)
    learned = None
    if version is not None:
        try:
            fitted, _meta = artifacts.load(version)
        except artifacts.ArtifactError as exc:
            raise CliError(f"model {version}: {exc}") from None
        learned = LearnedRanker(fitted, f"saved model {version}")
    try:
        ev = run_evaluation(dataset, source, model, esco_tasks, learned)
    except NotEnoughFeedback as exc:
        raise CliError(str(exc)) from None
    parts = ["jotr ml evaluate"]
    if simulated:
        parts.append(f"--simulated {simulated}")
    if model != "logistic":
        parts.append(f"--model {model}")
    if esco_tasks != 500:
        parts.append(f"--esco-tasks {esco_tasks}")
    markdown = render_markdown(ev, " ".join(parts))
    typer.echo(markdown)
    if write_docs:
        write(markdown, DOCS_QUALITY)
        typer.echo(f"\nwritten to {DOCS_QUALITY}")


@ml_app.command("promote")
@friendly
def promote(
    version: str = typer.Argument(..., help="A version from `jotr ml list`."),
    allow_simulated: bool = typer.Option(
        False, "--allow-simulated", help="Allow a model trained on simulated feedback (demos)."
    ),
) -> None:
    """Make VERSION the active ranker (checked by loading it; used from the next start)."""
    from ml import artifacts

    try:
        meta = artifacts.read_metadata(artifacts.models_dir() / version)
        if meta.get("source") != "feedback" and not allow_simulated:
            raise CliError(
                f"{version} was trained on {meta.get('source')} data; "
                "pass --allow-simulated to promote it anyway (demos only)"
            )
        artifacts.promote(version)
    except artifacts.ArtifactError as exc:
        raise CliError(f"cannot promote {version} ({exc.reason}): {exc}") from None
    typer.echo(f"{version} is the active ranker; restart the service (or its workers) to use it")


@ml_app.command("list")
@friendly
def list_models(
    as_json: bool = typer.Option(False, "--json", help="Print the metadata as JSON."),
) -> None:
    """Saved versions, newest first; `*` marks the active one."""
    from ml import artifacts

    versions = artifacts.list_versions()
    if as_json:
        typer.echo(json.dumps([v.metadata or {"version": v.version} for v in versions], indent=2))
        return
    if not versions:
        typer.echo(f"no models in {artifacts.models_dir()}")
        return
    for v in versions:
        mark = "*" if v.active else " "
        if v.metadata is None:
            typer.echo(f"{mark} {v.version}  unreadable: {v.problem}")
            continue
        m = v.metadata
        cv = (m.get("metrics") or {}).get("grouped_cv") or {}
        learned, hand = cv.get("learned", {}), cv.get("hand_set", {})
        typer.echo(
            f"{mark} {v.version}  {m.get('source', '?'):9} {m.get('data', {}).get('n_pairs', '?')}"
            f" pairs  NDCG@10 learned {learned.get('ndcg@10', '–')} vs hand-set "
            f"{hand.get('ndcg@10', '–')}  sklearn {m.get('sklearn_version')}"
        )
