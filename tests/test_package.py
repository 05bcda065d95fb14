"""Packaging promises: light import, public names, optional-extra errors."""

from __future__ import annotations

import subprocess
import sys

import classbalance as cb


def test_import_is_light():
    """`import classbalance` imports none of Keras, TensorFlow, PyTorch, matplotlib."""
    code = (
        "import sys, classbalance\n"
        "heavy = [m for m in ('keras', 'tensorflow', 'torch', 'matplotlib', 'PIL') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_resolve():
    """Every name in __all__ is importable."""
    for name in cb.__all__:
        assert getattr(cb, name) is not None


def test_version():
    """The version comes from the package metadata."""
    assert cb.__version__ != "0+unknown"


def test_missing_extra_names_the_install(monkeypatch):
    """A missing optional dependency says which extra to install."""
    import pytest

    from classbalance._optional import require

    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r'pip install "classbalance\[torch\]"'):
        require("torch", "classbalance.torch")
