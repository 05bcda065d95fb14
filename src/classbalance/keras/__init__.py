"""Keras 3 adapters (any backend): balanced ``PyDataset``.

Importing this module imports Keras; ``import classbalance`` does not.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "BalancedPyDataset": "classbalance.keras._dataset",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'classbalance.keras' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
