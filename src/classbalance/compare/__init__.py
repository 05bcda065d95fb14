"""Which remedy works on my data? Train the same model under each strategy and compare.

The main job of ``classbalance compare``, built to be a fair referee:

- every strategy gets the same optimizer steps at the same batch size;
- every run keeps its best epoch on the validation split (never the test set);
- scores come with 95% bootstrap intervals (test samples and seeds), paired
  differences to no remedy, and the group of strategies within noise of the
  best; the recommendation sentence says only what the intervals support.

Modules: ``data`` (loading and splitting once), ``models`` (defaults and the
user's model), ``recipes`` (the remedies), ``runner`` (the grid, serial or on
joblib workers / a Dask or Ray cluster), ``stats`` (bootstrap), ``report``
(files and figures), ``command`` (the command line); for multi-hot labels
``multilabel_data``, ``multilabel_recipes`` and ``multilabel`` (the summary).

Examples
--------
>>> from classbalance.compare import STRATEGIES, CompareConfig
>>> len(STRATEGIES), CompareConfig(quick=True).resolved().epochs
(14, 5)
"""

from __future__ import annotations

from classbalance.compare.data import CompareError, DataSplit, load_data
from classbalance.compare.models import default_model
from classbalance.compare.recipes import RECIPES as STRATEGIES
from classbalance.compare.recipes import Recipe
from classbalance.compare.runner import CompareConfig, CompareResult, compare, run_compare

__all__ = [
    "STRATEGIES",
    "CompareConfig",
    "CompareError",
    "CompareResult",
    "DataSplit",
    "Recipe",
    "compare",
    "default_model",
    "load_data",
    "run_compare",
    "write_report",
]


def write_report(result: CompareResult, out_dir: str) -> list:
    """Write results.csv, results.json, report.md and the figures (see :mod:`.report`)."""
    from classbalance.compare.report import write_report as _write

    return _write(result, out_dir)
