"""Which remedy works on my data? Train the same model under each strategy and compare.

The main job of ``classbalance compare``, built to be a fair referee:

- every strategy gets the same optimizer steps at the same batch size;
- every run keeps its best epoch on the validation split (never the test set);
- scores come with 95% bootstrap intervals (test samples and seeds), paired
  differences to no remedy, and the group of strategies within noise of the
  best; the recommendation sentence says only what the intervals support.

Single- and multi-label data go through the same modules; what differs
(encoding, counts, the primary metric and its bootstrap, the groups, the
columns, the recipes, argmax vs sigmoid and thresholds) is the data's
``task``. Modules: ``config`` (settings, results, the error), ``task``,
``readers`` and ``data`` (loading and splitting once), ``embeddings``
(``--backbone``: a frozen network's embeddings, cached), ``models`` (defaults
and the user's model), ``training`` (one run: budget, selection on
validation), ``recipes`` (the remedies of both tasks), ``runner`` (the grid,
serial or on joblib workers / a Dask or Ray cluster), ``stats`` (bootstrap),
``summary`` (intervals, recommendation, table), ``report`` (files and
figures), ``command`` (the command line).

Examples
--------
>>> from classbalance.compare import STRATEGIES, CompareConfig
>>> {task: len(recipes) for task, recipes in STRATEGIES.items()}
{'single-label': 16, 'multi-label': 4}
>>> CompareConfig(quick=True).resolved().epochs
5
"""

from __future__ import annotations

from classbalance.compare.config import CompareConfig, CompareError, CompareResult
from classbalance.compare.data import DataSplit, load_data
from classbalance.compare.models import default_model
from classbalance.compare.recipes import RECIPES as STRATEGIES
from classbalance.compare.recipes import Recipe
from classbalance.compare.runner import compare, run_compare
from classbalance.compare.task import MULTI_LABEL, SINGLE_LABEL, Task

__all__ = [
    "MULTI_LABEL",
    "SINGLE_LABEL",
    "STRATEGIES",
    "CompareConfig",
    "CompareError",
    "CompareResult",
    "DataSplit",
    "Recipe",
    "Task",
    "compare",
    "default_model",
    "load_data",
    "run_compare",
    "write_report",
]


def write_report(result: CompareResult, out_dir: str) -> list:
    """Write results.csv, results.json, report.md and the figures (see :mod:`.report`).

    Examples
    --------
    >>> import tempfile, numpy as np, keras
    >>> from classbalance.compare import compare, write_report
    >>> y = np.r_[np.zeros(150), np.ones(50)].astype(int)
    >>> x = np.random.default_rng(0).normal(size=(200, 4)) + y[:, None]
    >>> def linear(input_shape, n_classes):
    ...     return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(n_classes)])
    >>> result = compare(x, y, model=linear, strategies=["none"], seeds=1, epochs=1)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     sorted(path.name for path in write_report(result, out) if path.suffix != ".png")
    ['report.md', 'results.csv', 'results.json']
    """
    from classbalance.compare.report import write_report as _write

    return _write(result, out_dir)
