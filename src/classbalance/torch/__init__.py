"""PyTorch adapters: balanced samplers (also for ``torch.distributed``), ``ArrayDataset``
(one gather per batch), ``labels_of`` and ``BalancedStream`` (an ``IterableDataset``).

Long-tail losses live in :mod:`classbalance.torch.losses`.

Importing this package imports nothing heavy; PyTorch is imported when one of
its names is first used (``import classbalance`` never imports it).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "BalancedSampler": "classbalance.torch._samplers",
    "BalancedBatchSampler": "classbalance.torch._samplers",
    "DistributedBalancedBatchSampler": "classbalance.torch.distributed",
    "ArrayDataset": "classbalance.torch._datasets",
    "BalancedStream": "classbalance.torch._stream",
    "labels_of": "classbalance.torch._labels",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in ("losses", "distributed"):
        return importlib.import_module(f"classbalance.torch.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'classbalance.torch' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
