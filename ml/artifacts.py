"""Versioned ranker artifacts: save, list, promote, and load with a safe fallback.

Layout under `$JOTR_HOME/models/`:

    <version>/model.skops      the fitted RelevanceClassifier (skops format)
    <version>/metadata.json    what it is: training window, data size, versions,
                               feature names, metrics, the model file's SHA-256
    active                     the promoted version's name (replaced atomically)

Why skops and not pickle/joblib: loading a pickle runs whatever code the file
names, so a model file would be as dangerous as a script. skops stores the
object tree as data and refuses, at load, any type not explicitly trusted; we
trust exactly `TRUSTED_TYPES` (our two estimator classes and the tree predictor
of HistGradientBoosting) on top of skops' own list of plain scikit-learn and
NumPy types, and check the file's untrusted types before loading.

`load` checks everything it can before a model is used: the metadata format,
the scikit-learn version (exact: estimators' internals change between
releases), the feature names against `matcher.analytics.feedback.FEATURE_NAMES`, the
model file's SHA-256, the types in it, and finally that it scores a few probe
rows. The service loads the active model once per process at start-up
(`ml.serving.load_active_ranker`): any failure there logs one warning with a
`reason` and falls back to the hand-set ranker, so the service always starts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import skops
import skops.io as sio

from matcher.analytics.feedback import FEATURE_NAMES
from ml.ranker import RelevanceClassifier
from ml.serving import ACTIVE_FILE, active_version, models_dir

__all__ = ["ACTIVE_FILE", "active_version", "models_dir"]  # re-exported for the CLI

FORMAT = 1
MODEL_FILE = "model.skops"
META_FILE = "metadata.json"
# Types a ranker artifact may hold beyond skops' defaults. Anything else in a file
# (a function, a class from elsewhere) makes loading refuse it.
TRUSTED_TYPES: tuple[str, ...] = (
    "ml.features.InteractionFeatures",
    "ml.ranker.RelevanceClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "numpy.dtype",  # SimpleImputer keeps its input dtype; rebuilt from a dtype string
)
_VERSION_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$")


class ArtifactError(Exception):
    """A model artifact that cannot be used; `reason` is a short machine-readable code."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def new_version(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{os.urandom(4).hex()}"


def save(
    model: RelevanceClassifier,
    metadata: dict[str, Any],
    root: Path | None = None,
    feature_names: Sequence[str] = FEATURE_NAMES,
) -> tuple[str, Path]:
    """Write a new version (never overwrites one); returns (version, its directory).

    `metadata` is the caller's part (training window, data, metrics); versions,
    feature names and the checksum are added here. The directory appears
    complete or not at all: it is written under a temporary name and renamed.
    """
    root = root or models_dir()
    root.mkdir(parents=True, exist_ok=True)
    version = new_version()
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=root))
    try:
        sio.dump(model, tmp / MODEL_FILE)
        # Refuse now what `load` would refuse later: a model holding a type we do not
        # trust (a new scikit-learn may store something new) must fail at training.
        untrusted = set(sio.get_untrusted_types(file=tmp / MODEL_FILE)) - set(TRUSTED_TYPES)
        if untrusted:
            raise ArtifactError("untrusted", f"the model holds untrusted types {sorted(untrusted)}")
        meta = {
            "format": FORMAT,
            "version": version,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            **metadata,
            "model": {"class": "ml.ranker.RelevanceClassifier", "params": model.get_params()},
            "feature_names": list(feature_names),
            "sklearn_version": sklearn.__version__,
            "skops_version": skops.__version__,
            "numpy_version": np.__version__,
            "python_version": platform.python_version(),
            "model_sha256": _sha256(tmp / MODEL_FILE),
        }
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n")
        # mkdtemp makes a private directory; the service may run as another user.
        tmp.chmod(0o755)
        tmp.rename(root / version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return version, root / version


def read_metadata(directory: Path) -> dict[str, Any]:
    try:
        meta = json.loads((directory / META_FILE).read_text())
    except FileNotFoundError:
        raise ArtifactError("missing", f"{directory / META_FILE} does not exist") from None
    except (OSError, ValueError) as exc:
        raise ArtifactError("corrupt", f"{directory / META_FILE}: {exc}") from None
    if not isinstance(meta, dict):
        raise ArtifactError("corrupt", f"{directory / META_FILE} is not a JSON object")
    return meta


def _check_version(version: str) -> None:
    # The pointer file is data: never let it name a path outside models/.
    if not _VERSION_RE.match(version):
        raise ArtifactError("bad_version", f"{version!r} is not a model version name")


def load(
    version: str, root: Path | None = None, feature_names: Sequence[str] = FEATURE_NAMES
) -> tuple[RelevanceClassifier, dict[str, Any]]:
    """Load and check one version; ArtifactError(reason) if it cannot be trusted or used."""
    _check_version(version)
    directory = (root or models_dir()) / version
    meta = read_metadata(directory)
    if meta.get("format") != FORMAT:
        raise ArtifactError("incompatible", f"artifact format {meta.get('format')}, not {FORMAT}")
    if meta.get("sklearn_version") != sklearn.__version__:
        raise ArtifactError(
            "incompatible",
            f"trained with scikit-learn {meta.get('sklearn_version')}, "
            f"this process has {sklearn.__version__}",
        )
    if list(meta.get("feature_names") or ()) != list(feature_names):
        raise ArtifactError(
            "incompatible",
            f"trained on features {meta.get('feature_names')}, "
            f"the matcher now writes {list(feature_names)}",
        )
    path = directory / MODEL_FILE
    if not path.is_file():
        raise ArtifactError("missing", f"{path} does not exist")
    if _sha256(path) != meta.get("model_sha256"):
        raise ArtifactError("corrupt", f"{path} does not match its checksum in {META_FILE}")
    try:
        untrusted = set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES)
    except Exception as exc:
        raise ArtifactError("corrupt", f"{path} is not a readable skops file: {exc}") from None
    if untrusted:
        raise ArtifactError("untrusted", f"{path} holds untrusted types: {sorted(untrusted)}")
    try:
        model = sio.load(path, trusted=list(TRUSTED_TYPES))
    except Exception as exc:
        raise ArtifactError("corrupt", f"{path} could not be loaded: {exc!r}") from None
    if not isinstance(model, RelevanceClassifier):
        raise ArtifactError("incompatible", f"{path} holds a {type(model).__name__}")
    _smoke_test(model, len(feature_names), path)
    return model, meta


def _smoke_test(model: RelevanceClassifier, width: int, path: Path) -> None:
    """Score a few probe rows (zeros, ones, halves, unknowns): a model that cannot
    is refused now, at start-up, rather than on the first request."""
    probe = np.array([[0.0] * width, [1.0] * width, [0.5] * width, [np.nan] * width])
    try:
        s = model.relevance(probe)
    except Exception as exc:
        raise ArtifactError("broken", f"{path} cannot score: {exc!r}") from None
    if s.shape != (len(probe),) or not np.all(np.isfinite(s)):
        raise ArtifactError("broken", f"{path} gives unusable scores: {s!r}")


def promote(version: str, root: Path | None = None) -> dict[str, Any]:
    """Make `version` the active model after loading it fully (a broken one is
    refused here, not at the next start). The pointer is replaced atomically, so
    a reader sees the old version or the new one, never half a file."""
    root = root or models_dir()
    _, meta = load(version, root)
    fd, tmp = tempfile.mkstemp(prefix=".active.", dir=root)
    try:
        os.fchmod(fd, 0o644)  # mkstemp's file is private; the service must read it
        with os.fdopen(fd, "w") as f:
            f.write(version + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, root / ACTIVE_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return meta


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: str
    active: bool
    metadata: dict[str, Any] | None  # None when unreadable
    problem: str | None = None


def list_versions(root: Path | None = None) -> list[VersionInfo]:
    """All versions, newest first (names sort by creation time)."""
    root = root or models_dir()
    if not root.is_dir():
        return []
    current = active_version(root)
    out = []
    for d in sorted(root.iterdir(), reverse=True):
        if not d.is_dir() or not _VERSION_RE.match(d.name):
            continue
        try:
            out.append(VersionInfo(d.name, d.name == current, read_metadata(d)))
        except ArtifactError as exc:
            out.append(VersionInfo(d.name, d.name == current, None, str(exc)))
    return out
