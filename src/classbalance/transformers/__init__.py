"""Hugging Face adapter: ``BalancedTrainer`` (a ``transformers.Trainer`` with balanced batches
and long-tail losses) and ``compute_metrics`` (balanced accuracy, macro-F1, worst-class recall).

Importing this package imports nothing heavy; ``transformers`` and PyTorch are imported when
one of its names is first used. It builds on the PyTorch adapter (:mod:`classbalance.torch`):
the batches are :class:`classbalance.torch.BalancedBatchSampler`'s, the losses
:mod:`classbalance.torch.losses`'.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "BalancedTrainer": "classbalance.transformers._trainer",
    "LOSSES": "classbalance.transformers._losses",
    "compute_metrics": "classbalance.transformers._metrics",
    "dataset_labels": "classbalance.transformers._labels",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'classbalance.transformers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
