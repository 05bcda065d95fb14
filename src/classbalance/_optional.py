"""Import optional dependencies with an error that says what to install."""

from __future__ import annotations

import importlib
from types import ModuleType

_EXTRA_OF = {
    "keras": "keras",
    "tensorflow": "tf",
    "torch": "torch",
    "matplotlib": "plot",
    "PIL": "image",
    "imblearn": "imblearn",
    "iterstrat": "multilabel",
    "fastai": "fastai",
    "imagehash": "leakage",
    "transformers": "huggingface",
    "accelerate": "huggingface",
    "datasets": "huggingface",
    "lightning": "lightning",
}


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` or raise ImportError naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = _EXTRA_OF.get(module.split(".")[0], "all")
        raise ImportError(
            f"{feature} needs the optional dependency `{module}`, which is not installed. "
            f'Install it with: pip install "classbalance[{extra}]"'
        ) from exc
