"""Which optional dependency groups this interpreter has.

``pip install m6rec`` is the web/serving install (numpy, scipy, onnxruntime, hnswlib): it loads
bundles and recommends. Training needs the ``train`` extra (TensorFlow/Keras, tf2onnx, onnx,
implicit): ``pip install 'm6rec[train]'``. Serving code never imports a training package at
module level; training entry points call :func:`require_training_stack` first, so a web
process asked to train fails at once with an error that names the install command.
"""

from __future__ import annotations

import importlib.util

__all__ = [
    "TRAIN_INSTALL",
    "TRAIN_PACKAGES",
    "TrainingStackMissing",
    "missing_training_packages",
    "require_training_stack",
]

#: Import names of the packages the ``train`` extra installs (``keras`` comes with tensorflow).
TRAIN_PACKAGES = ("tensorflow", "keras", "tf2onnx", "onnx", "implicit")
TRAIN_INSTALL = "pip install 'm6rec[train]'"


class TrainingStackMissing(ImportError):  # noqa: N818 - reads as a sentence in tracebacks
    """This install serves only: the training stack (the ``train`` extra) is missing."""


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing_training_packages() -> list[str]:
    """The training packages that cannot be imported here (empty on a worker install)."""
    return [name for name in TRAIN_PACKAGES if not _importable(name)]


def require_training_stack(what: str = "training") -> None:
    """Raise :class:`TrainingStackMissing` unless every training package is importable."""
    missing = missing_training_packages()
    if missing:
        raise TrainingStackMissing(
            f"{what} needs the training stack, which this install lacks "
            f"(missing: {', '.join(missing)}). This is a web/serving install; train on a "
            f"worker, or install the training stack: {TRAIN_INSTALL}",
            name=missing[0],
        )
