"""classbalance: class-imbalanced deep learning made simple, correct and fast.

Balancing is a plan over indices decided from labels alone; the data is
touched once per batch. The core needs only NumPy, pandas and scikit-learn;
the Keras, TensorFlow and PyTorch adapters live in ``classbalance.keras``,
``classbalance.tf`` and ``classbalance.torch`` and are imported on demand.

Examples
--------
>>> import classbalance as cb
>>> cb.class_weights([0, 0, 0, 1])
{0: 0.6666666666666666, 1: 2.0}
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from classbalance.batches import BalancedBatches, balanced_batch_generator
from classbalance.distribution import (
    ClassDistribution,
    LabelDistribution,
    class_distribution,
    label_distribution,
)
from classbalance.labels import EncodedLabels, MultiHotLabels, encode_labels, encode_multilabel
from classbalance.sampling import BalancedSampler, progressive_alpha
from classbalance.weights import class_weights, pos_weight, sample_weights

try:
    __version__ = version("classbalance")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

# Public names defined in modules that import more than the core needs
# (scikit-learn metrics, optional extras); loaded on first access.
_LAZY: dict[str, str] = {
    "BalancedEnsemble": "classbalance.ensemble",
    "ImbalanceReport": "classbalance.metrics",
    "imbalance_report": "classbalance.metrics",
    "multilabel_report": "classbalance.metrics",
    "adjust_logits": "classbalance.posthoc",
    "tune_threshold": "classbalance.thresholds",
    "tune_thresholds": "classbalance.thresholds",
    "synthetic_oversample": "classbalance.resampling",
    "ml_ros": "classbalance.resampling",
    "ml_rus": "classbalance.resampling",
    "stratified_folds": "classbalance.split",
    "stratified_split": "classbalance.split",
    "make_long_tailed_multilabel": "classbalance.datasets",
}

__all__ = [
    "BalancedBatches",
    "BalancedSampler",
    "ClassDistribution",
    "EncodedLabels",
    "LabelDistribution",
    "MultiHotLabels",
    "__version__",
    "balanced_batch_generator",
    "class_distribution",
    "class_weights",
    "encode_labels",
    "encode_multilabel",
    "label_distribution",
    "pos_weight",
    "progressive_alpha",
    "sample_weights",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'classbalance' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
