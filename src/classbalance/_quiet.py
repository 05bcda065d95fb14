"""Import frameworks without their C++ start-up lines on the console.

TensorFlow 2.21 writes absl's "All log messages before absl::InitializeLog()"
and the oneDNN notice to fd 2 while it is imported, before
``TF_CPP_MIN_LOG_LEVEL`` takes effect, so they can only be kept off the
console by silencing fd 2 for the import. Python exceptions still propagate.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
from types import ModuleType

__all__ = ["import_quietly", "import_tensorflow_quietly"]


def import_quietly(module: str) -> ModuleType:
    """Import ``module`` with fd 2 silenced (a no-op if it is imported already)."""
    if module in sys.modules:
        return sys.modules[module]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        return importlib.import_module(module)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow quietly if it is installed.

    On every Keras backend: Keras' data adapters import TensorFlow lazily
    whenever it is installed, which would print its lines in the middle of a
    run. A failed import is left for the caller to report.
    """
    if "tensorflow" in sys.modules or importlib.util.find_spec("tensorflow") is None:
        return
    with contextlib.suppress(ImportError):
        import_quietly("tensorflow")
