"""Every ```python block of the documentation site (docs/**/*.md) and of README.md runs.

The blocks of one page run in order in one namespace, as a reader pastes them, in a fresh
temporary directory. A page prepares what its blocks assume (small arrays named ``x``, ``y``, a
compiled ``model``, an image folder ``data/``) in hidden blocks
(``<!-- invisible-code-block: python -->``, not rendered); a block that needs what no test
machine has (a cluster, torchvision) is preceded by ``<!-- skip: next -->`` and the page says
why in its text. ``make docs`` builds the same pages.
"""

from __future__ import annotations

import re
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


@pytest.mark.timeout(300)  # a page trains small Keras models (a run of compare in the tour)
@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_page_code_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    document = Sybil(parsers=[PythonCodeBlockParser(), SkipParser()]).parse(page)
    examples = list(document)
    for example in examples:
        example.evaluate()


def _anchors(page: Path) -> set[str]:
    """GitHub's (and MyST's) heading anchors of a Markdown page."""
    anchors, fenced = set(), False
    for line in page.read_text().splitlines():
        fenced ^= line.startswith("```")
        if not fenced and re.match(r"#{1,6} ", line):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def test_readme_links_resolve():
    """The README's links into the site point at files and headings that exist (Sphinx checks
    the site's own links; the README is not part of the build)."""
    readme = ROOT / "README.md"
    links = re.findall(r"\]\(([^)\s]+)\)", readme.read_text())
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    assert len(local) > 10
    for link in local:
        path, _, anchor = link.partition("#")
        target = ROOT / path
        assert target.exists(), f"README links to a missing file: {link}"
        if anchor:
            assert anchor in _anchors(target), f"README links to a missing heading: {link}"


# The public API as the reference must show it: the core and each adapter (the rule),
# and the public modules whose names the core does not re-export.
API_MODULES = [
    "classbalance",
    "classbalance.keras",
    "classbalance.keras.losses",
    "classbalance.tf",
    "classbalance.torch",
    "classbalance.torch.losses",
    "classbalance.transformers",
    "classbalance.lightning",
    "classbalance.stream",
    "classbalance.fastai",
    "classbalance.compare",
    "classbalance.sampling",
    "classbalance.weights",
    "classbalance.labels",
    "classbalance.metrics",
    "classbalance.thresholds",
    "classbalance.resampling",
    "classbalance.datasets",
    "classbalance.plots",
    "classbalance.folders",
    "classbalance.leakage",
    "classbalance.layout",
    "classbalance.files",
]


def _api_entries() -> dict[str, list[str]]:
    """docs/api.md's autosummary entries: module -> names listed under its currentmodule."""
    entries: dict[str, list[str]] = {}
    module = None
    for line in (ROOT / "docs" / "api.md").read_text().splitlines():
        if line.startswith(".. currentmodule:: "):
            module = line.split("::")[1].strip()
            entries.setdefault(module, [])
        elif module and re.fullmatch(r"   [A-Za-z_][\w.]*", line):
            entries[module].append(line.strip())
        elif line.startswith("```"):
            module = None if line == "```" else module
    return entries


def test_api_reference_lists_every_public_name():
    """Every name in each public module's __all__ has an entry (one page, under one name)."""
    import importlib

    entries = _api_entries()
    documented = {
        id(getattr(importlib.import_module(module), name))
        for module, names in entries.items()
        for name in names
    }
    missing = []
    for module_name in API_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if name != "__version__" and id(value) not in documented:
                missing.append(f"{module_name}.{name}")
    assert not missing, f"public names without an API reference entry in docs/api.md: {missing}"


# Constants: their page shows the value (and a `#:` comment where there is one), not a docstring.
CONSTANT_TYPES = (int, str, tuple, dict, frozenset)
# Names whose module is at the 600-line cap (tests/test_architecture.py): an example waits for the
# module's split. The test fails once one of them has an example, so the list only shrinks.
WITHOUT_EXAMPLES: set[str] = set()  # every public name has one; keep it so


def test_every_public_name_has_an_example():
    """Every non-constant public name of API_MODULES has an ``Examples`` section (issue 23: an
    API page with a rendered example). An instance (``MULTI_LABEL``) is documented by its class."""
    import importlib
    import inspect

    missing, seen = set(), set()
    for module_name in API_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if name == "__version__" or isinstance(value, CONSTANT_TYPES) or id(value) in seen:
                continue
            seen.add(id(value))
            documented = value if inspect.isclass(value) or callable(value) else type(value)
            if "Examples\n--------" not in (inspect.getdoc(documented) or ""):
                missing.add(f"{module_name}.{name}")
    assert missing == WITHOUT_EXAMPLES, (
        f"public names without an Examples section: {sorted(missing - WITHOUT_EXAMPLES)}; "
        f"listed as without one but now have one: {sorted(WITHOUT_EXAMPLES - missing)}"
    )
