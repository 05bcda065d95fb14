"""Every ```python block of the documentation site (docs/**/*.md) and of README.md runs.

The blocks of one page run in order in one namespace, as a reader pastes them, in a fresh
temporary directory. A page prepares what its blocks assume (small arrays named ``x``, ``y``, a
compiled ``model``, an image folder ``data/``) in hidden blocks
(``<!-- invisible-code-block: python -->``, not rendered); a block that needs what no test
machine has (a cluster, torchvision) is preceded by ``<!-- skip: next -->`` and the page says
why in its text. ``make docs`` builds the same pages.
"""

from __future__ import annotations

from pathlib import Path

import pytest

sybil = pytest.importorskip("sybil")

from sybil import Sybil  # noqa: E402
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SITE_PAGES = sorted(
    path for path in (ROOT / "docs").rglob("*.md") if not {"_build", "generated"} & set(path.parts)
)
PAGES = [*SITE_PAGES, ROOT / "README.md"]


def test_every_page_is_collected():
    """The glob finds the site's pages (a moved docs/ folder must not pass as zero pages)."""
    names = {path.relative_to(ROOT).as_posix() for path in PAGES}
    assert {"docs/index.md", "docs/getting_started.md", "docs/guide/keras.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_page_code_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    document = Sybil(parsers=[PythonCodeBlockParser(), SkipParser()]).parse(page)
    examples = list(document)
    for example in examples:
        example.evaluate()
