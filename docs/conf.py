"""Sphinx configuration: `make docs` builds the site into docs/_build/html, warnings as errors.

Pages are MyST Markdown (myst-parser); the API reference is generated from the docstrings
(autosummary + numpydoc); the CLI reference from the click commands (sphinx-click); the example
gallery (examples/*.py) is executed at build time by sphinx-gallery.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # docs/_ext

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import classbalance  # noqa: E402

project = "classbalance"
author = "classbalance developers"
copyright = "classbalance developers"
version = release = classbalance.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_click",
    "sphinx_gallery.gen_gallery",
    "_ext.cb_xref",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.py", "auto_examples/*.ipynb"]
templates_path = ["_templates"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# API reference: one page per public name, generated from the docstrings.
autosummary_generate = True
autosummary_imported_members = True
autodoc_inherit_docstrings = False  # no framework docstrings on our overrides
autodoc_typehints = "none"  # the numpydoc Parameters section says the types
autodoc_default_options = {"members": False, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Every cross-reference must resolve, except to packages whose docs are not built here
# (no intersphinx: the build downloads nothing).
nitpicky = True
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(numpy|np|pandas|pd|keras|tf|tensorflow|torch|jax|fastai|fastcore|sklearn|"
        r"matplotlib|click|joblib|dask|distributed|ray|PIL|imagehash|h5py|typing|collections|"
        r"os|pathlib|datetime|concurrent|multiprocessing|imblearn|iterstrat)(\..*)?",
    ),
    (
        r"py:.*",
        r"(int|float|str|bool|bytes|list|dict|tuple|set|object|None|callable|"
        r"Callable|Sequence|Mapping|Iterable|Iterator|Any|Path|ndarray|DataFrame|Series)",
    ),
]

# The example gallery, executed at build time; its figures are rendered on the pages.
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("_ext.cb_gallery.figure_scraper",),
    "reset_modules": ("matplotlib",),
    "abort_on_example_error": True,
    "show_memory": False,
    "min_reported_time": 10,
}

html_theme = "pydata_sphinx_theme"
html_title = "classbalance"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 8,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False


class _OptionalGuidePages(logging.Filter):
    """The guide's toctree ends with a glob (``*``) that picks up any further page of docs/guide/
    (pages other branches add); with none, Sphinx warns that the glob matched nothing. Only that
    warning, for that toctree, is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        location = str(getattr(record, "location", ""))
        empty_glob = "toctree glob pattern '*' didn't match any documents" in record.getMessage()
        return not (empty_glob and "guide/index" in location)


def setup(app: object) -> None:
    logging.getLogger("sphinx.sphinx.directives.other").addFilter(_OptionalGuidePages())
