"""Every docstring example in the package runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib

import pytest

CORE = [
    "classbalance",
    "classbalance.labels",
    "classbalance.distribution",
    "classbalance.weights",
    "classbalance.sampling",
    "classbalance._targets",
    "classbalance._repeat",
    "classbalance.stream",
    "classbalance.batches",
    "classbalance.datasets",
    "classbalance.split",
    "classbalance.metrics._recalls",
    "classbalance.metrics._imbalance_report",
    "classbalance.metrics._multilabel_report",
    "classbalance.posthoc",
    "classbalance.thresholds",
    "classbalance.ensemble",
    "classbalance.folders",
    "classbalance.resampling._random",
    "classbalance.layout",
    "classbalance._unreadable",
    "classbalance.files",
    "classbalance.folders._plan",
    "classbalance.folders._export",
    "classbalance.folders._oversampler",
]
OPTIONAL = {
    "classbalance.plots": "matplotlib",
    "classbalance.resampling._synthetic": "imblearn",
    "classbalance.compare": "keras",
    "classbalance.compare.budget": "keras",
    "classbalance.compare.config": "keras",
    "classbalance.compare.cv": "keras",
    "classbalance.compare.data": "keras",
    "classbalance.compare.embeddings": "keras",
    "classbalance.compare.models": "keras",
    "classbalance.compare.racing": "keras",
    "classbalance.compare.readers": "keras",
    "classbalance.compare.recipes": "keras",
    "classbalance.compare.runner": "keras",
    "classbalance.compare.stats": "keras",
    "classbalance.compare.summary": "keras",
    "classbalance.compare.task": "keras",
    "classbalance.compare.training": "keras",
    "classbalance.compare.workers": "keras",
    "classbalance.keras._dataset": "keras",
    "classbalance.keras._metrics": "keras",
    "classbalance.keras.losses._softmax": "keras",
    "classbalance.keras.losses._sigmoid": "keras",
    "classbalance.keras.losses._callbacks": "keras",
    "classbalance.torch.losses": "torch",
    "classbalance.torch._samplers": "torch",
    "classbalance.torch._stream": "torch",
    "classbalance.torch.distributed": "torch",
    "classbalance.torch._datasets": "torch",
    "classbalance.tf._dataset": "tensorflow",
    "classbalance.tf._resample": "tensorflow",
    "classbalance.torch._labels": "torch",
    "classbalance.fastai": "fastai",
    "classbalance.transformers._labels": "transformers",
    "classbalance.transformers._metrics": "transformers",
    "classbalance.transformers._trainer": "transformers",
    "classbalance.lightning": "lightning",
    "classbalance.leakage": "imagehash",
    "classbalance.leakage._hashing": "imagehash",
    "classbalance.leakage._search": "imagehash",
    "classbalance.leakage._check": "imagehash",
}


@pytest.mark.parametrize("name", CORE + list(OPTIONAL))
def test_examples_run(name):
    """doctest finds examples in the module and all of them pass."""
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name])
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0
