"""The package's shape: import contracts hold, no module is named by label kind or over 600 lines.

The import contracts themselves (no cycles, the core imports no adapter, ...) live in
pyproject.toml under ``[tool.importlinter]``; ``lint-imports`` checks them here, so a plain
``pytest`` run fails on a broken contract too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import classbalance

PACKAGE = Path(classbalance.__file__).parent
ROOT = PACKAGE.parents[1]
MAX_LINES = 600


def test_import_contracts_hold():
    """lint-imports (import-linter) keeps every contract of pyproject.toml."""
    lint = Path(sys.executable).parent / "lint-imports"
    if not lint.exists() or not (ROOT / "pyproject.toml").exists():
        pytest.skip("import-linter or the source tree is not here (installed package)")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_no_public_module_named_by_label_kind():
    """Capabilities by file name: multi-label lives in the same modules as single-label.

    Private modules (``_name.py``) inside a capability's package may split it by kind
    (``metrics/_multilabel_report.py``); what users import is named by capability.
    """
    named = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if not p.stem.startswith("_") and ("multilabel" in p.stem or "single_label" in p.stem)
    ]
    assert not named, named


def test_no_module_over_600_lines():
    """Modules that hold several jobs become packages (DESIGN: one idea per module)."""
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long
