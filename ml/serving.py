"""The one thing the service needs from `ml/` at start-up: the active ranker.

Kept apart from `ml.artifacts` so that a service with no promoted model never
imports scikit-learn or skops (about a second of start-up and tens of MB): the
pointer file is read first, and only if it names a version is the artifact
code imported. Whatever goes wrong, the answer is a ranker: the learned one,
or the hand-set one with a warning that says why (`event=ranker_fallback`,
`reason=missing|corrupt|incompatible|untrusted|broken|bad_version|error`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from matcher.analytics.feedback import FEATURE_NAMES
from matcher.matching.ranking import HandSetRanker, Ranker
from matcher.settings import get_settings

log = logging.getLogger("jotr.ml")

ACTIVE_FILE = "active"


def models_dir(home: Path | None = None) -> Path:
    """`$JOTR_HOME/models`: one directory per version, and the `active` pointer."""
    return (home or get_settings().home) / "models"


def active_version(root: Path | None = None) -> str | None:
    try:
        text = ((root or models_dir()) / ACTIVE_FILE).read_text().strip()
    except FileNotFoundError:
        return None
    return text or None


def load_active_ranker(
    root: Path | None = None, feature_names: Sequence[str] = FEATURE_NAMES
) -> Ranker:
    """The promoted model as a `Ranker`, or the hand-set ranker (never raises)."""
    root = root or models_dir()
    version = None
    try:
        version = active_version(root)
        if version is None:
            log.info(
                "no learned ranker promoted; using the hand-set scorer",
                extra={"event": "ranker_fallback", "reason": "none_active", "models": str(root)},
            )
            return HandSetRanker(tuple(feature_names))
        from ml.artifacts import ArtifactError, load
        from ml.ranker import LearnedRanker

        try:
            model, meta = load(version, root, feature_names)
        except ArtifactError as exc:
            reason, detail = exc.reason, str(exc)
        else:
            log.info(
                "learned ranker %s loaded",
                version,
                extra={
                    "event": "ranker_loaded",
                    "version": version,
                    "metrics": meta.get("metrics"),
                },
            )
            return LearnedRanker(model, f"learned:{version}")
    except Exception as exc:  # a bug or an unreadable directory must not stop the service
        reason, detail = "error", repr(exc)
    log.warning(
        "learned ranker %s not used (%s): %s; using the hand-set scorer",
        version,
        reason,
        detail,
        extra={"event": "ranker_fallback", "reason": reason, "version": version, "detail": detail},
    )
    return HandSetRanker(tuple(feature_names))
