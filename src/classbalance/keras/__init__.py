"""Keras 3 adapters (any backend): balanced ``PyDataset``, imbalance metrics, losses.

Long-tail losses live in :mod:`classbalance.keras.losses`.

Importing this module imports Keras; ``import classbalance`` does not.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "BalancedPyDataset": "classbalance.keras._dataset",
    "ImbalanceMetrics": "classbalance.keras._metrics",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name == "losses":
        return importlib.import_module("classbalance.keras.losses")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'classbalance.keras' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
