"""Run the grid of (strategy, seed) pairs, serially or in parallel, and score it.

Parallelism goes through joblib: ``jobs=N`` runs pairs in ``N`` local worker
processes (loky). Inside ``joblib.parallel_config(backend="dask")`` (with a
``dask.distributed.Client`` connected) or ``backend="ray"``, the same grid runs
on that cluster. Each pair depends only on ``(data, config, strategy, seed)``,
so where the Keras backend computes deterministically the scores do not
depend on where or in which order the pairs ran.

A library call changes no global state of the caller's process: with
``jobs=1`` every run restores the random state it seeded
(:func:`~classbalance.compare.training.isolated_random_state`), and neither
file descriptors nor environment variables are touched. Only a worker process
of the grid (``jobs != 1``) imports TensorFlow with its C++ start-up lines kept
off its stderr, and sets its thread counts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from classbalance._optional import require
from classbalance.compare.config import CompareConfig, CompareError, CompareResult
from classbalance.compare.data import DataSplit, assemble, load_data
from classbalance.compare.models import ModelFn, build_model
from classbalance.compare.readers import as_samples
from classbalance.compare.recipes import check_strategy_names
from classbalance.compare.summary import summarize
from classbalance.compare.task import task_of
from classbalance.compare.training import RunContext, isolated_random_state

__all__ = ["compare", "run_compare", "run_one"]


# --------------------------------------------------------------------------- one run
def _prepare_worker(threads: int | None) -> Any:
    """Keras, imported; in a worker process of the grid (``threads`` given) also set up.

    A worker imports TensorFlow (on any backend: Keras' data adapters import it
    when installed) with fd 2 silenced for the import, so that its C++
    start-up lines do not land in the middle of the caller's output, and
    uses ``threads`` threads. The caller's own process (``jobs=1``) is left as
    it is.
    """
    if not threads:
        return require("keras", "classbalance compare")
    from classbalance._quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    keras = require("keras", "classbalance compare")
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        try:  # only possible before TensorFlow's runtime starts (a fresh worker)
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            pass
    elif backend == "torch":
        import torch

        torch.set_num_threads(threads)
    return keras


def run_one(
    data: DataSplit,
    cfg: CompareConfig,
    strategy: str,
    seed: int,
    model: str | ModelFn | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Train one recipe with one seed and score it on the test set (a grid cell).

    The task of ``data`` gives the recipe and turns the trained predictor
    into scores (argmax; or sigmoid and thresholds tuned on validation).

    Examples
    --------
    >>> from classbalance.compare import CompareConfig, load_data
    >>> from classbalance.compare.runner import run_one
    >>> cfg = CompareConfig(data="multilabel-demo", epochs=1).resolved()
    >>> row = run_one(load_data(cfg), cfg, "none", 0)
    >>> row["steps"] == row["budget_steps"] == 63, 0 < row["mAP"] <= 1
    (True, True)
    """
    keras = _prepare_worker(threads)
    ctx = RunContext(data, cfg, seed, model_fn=model)
    with isolated_random_state():
        start = time.perf_counter()
        predict = data.task.recipes[strategy].train(ctx)
        seconds = time.perf_counter() - start
        scored = data.task.score_run(data, predict)
    public = {k: v for k, v in scored.items() if k != "details" and not k.startswith("_")}
    return {
        "strategy": strategy,
        "seed": seed,
        **public,
        "steps": ctx.steps,
        "budget_steps": ctx.budget,
        "best_epochs": list(ctx.best_epochs),
        "train_seconds": seconds,
        "details": {**ctx.info, **scored["details"]},
        "backend": keras.backend.backend(),
        **{k: v for k, v in scored.items() if k.startswith("_")},
    }


# --------------------------------------------------------------------------- the grid
def _threads_per_job(jobs: int) -> int | None:
    if jobs == 1:
        return None
    cores = os.cpu_count() or 1
    return max(1, cores // (cores if jobs < 0 else min(jobs, cores)))


def run_compare(
    cfg: CompareConfig,
    *,
    data: DataSplit | None = None,
    model: str | ModelFn | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> CompareResult:
    """Train every strategy for every seed with equal budgets; score, bootstrap, recommend.

    Parameters
    ----------
    cfg : CompareConfig
    data : DataSplit, default=None
        Use these arrays instead of loading ``cfg.data``.
    model : str or callable, default=None
        Overrides ``cfg.model`` (a callable ``(input_shape, n_classes) -> model``).
    progress : callable(label, done, total), default=None
        Called as runs finish (for a progress bar).

    Returns
    -------
    CompareResult

    Examples
    --------
    >>> from classbalance.compare import CompareConfig, run_compare
    >>> result = run_compare(CompareConfig(strategies=["none", "class_weight"], seeds=1, epochs=2))
    >>> result.runs["steps"].tolist()  # equal budgets: 2 epochs of ceil(277 / 32) batches
    [18, 18]
    """
    keras = require("keras", "classbalance compare")
    started = time.perf_counter()
    cfg = cfg.resolved()  # validate before the (possibly slow) loading
    check_strategy_names(cfg.strategies)
    data = data if data is not None else load_data(cfg)
    cfg = replace(cfg, strategies=data.task.strategies(cfg.strategies, data.kind))
    model = model if model is not None else cfg.model
    with isolated_random_state():  # building a model draws Keras' seeds from `random`
        build_model(model, data)  # fail fast, in this process, on a broken model function
    from joblib import Parallel, delayed

    tasks = [(name, seed) for name in cfg.strategies for seed in range(cfg.seeds)]
    threads = _threads_per_job(cfg.jobs)
    total = len(tasks)
    if progress is not None:
        progress(f"{total} runs", 0, total)
    rows = []
    parallel = Parallel(n_jobs=cfg.jobs, return_as="generator_unordered")
    results = parallel(delayed(run_one)(data, cfg, n, s, model, threads) for n, s in tasks)
    for done, row in enumerate(results, start=1):
        rows.append(row)
        if progress is not None:
            progress(f"{row['strategy']} (seed {row['seed']})", done, total)
    order = {name: i for i, name in enumerate(cfg.strategies)}
    rows.sort(key=lambda r: (order[r["strategy"]], r["seed"]))
    return summarize(cfg, data, rows, keras.backend.backend(), time.perf_counter() - started)


def compare(
    x: Any = None,
    y: Any = None,
    *,
    x_val: Any = None,
    y_val: Any = None,
    x_test: Any = None,
    y_test: Any = None,
    model: str | ModelFn | None = None,
    strategies: Sequence[str] | None = None,
    seeds: int = 3,
    epochs: int = 30,
    batch_size: int = 32,
    learning_rate: float = 3e-3,
    val_size: float = 0.2,
    test_size: float = 0.2,
    jobs: int = 1,
    data_seed: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
) -> CompareResult:
    """Which remedy works on *my* data and model? The Python form of ``classbalance compare``.

    Trains ``model`` under every strategy and seed with the same optimizer
    steps and batch size, keeps each run's best epoch on validation, scores
    on the test set, and bootstraps intervals.

    Parameters
    ----------
    x, y : array-like, default=None
        Features ``(n, d)`` or images ``(n, h, w[, c])`` (uint8, or floats in
        [0, 1]) and their labels. ``None``: the built-in long-tailed digits.
        A multi-hot ``y`` (0/1 matrix with some row of 0 or >= 2 ones) runs
        the multi-label comparison (mAP, macro-F1, tuned thresholds).
    x_val, y_val, x_test, y_test : array-like, default=None
        Fixed validation / test sets; whatever is missing is split off
        ``(x, y)`` stratified (``val_size``, ``test_size``).
    model : callable or "module:function", default=None
        ``model(input_shape, n_classes)`` returns an uncompiled Keras model
        with one logit per class (images arrive as floats in [0, 1]).
    strategies : sequence of str, default=None
        Recipes of the data's task (``STRATEGIES["single-label"]`` or
        ``STRATEGIES["multi-label"]`` of :data:`classbalance.compare.STRATEGIES`);
        default: all that fit the data.
    seeds, epochs, batch_size, learning_rate, jobs, data_seed :
        As in :class:`CompareConfig`.
    progress : callable(label, done, total), default=None

    Returns
    -------
    CompareResult

    Examples
    --------
    >>> import numpy as np, keras
    >>> from classbalance.compare import compare
    >>> rng = np.random.default_rng(0)
    >>> y = np.r_[np.zeros(300), np.ones(60)].astype(int)
    >>> x = rng.normal(size=(360, 4)) + y[:, None]
    >>> def linear(input_shape, n_classes):
    ...     return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(n_classes)])
    >>> result = compare(x, y, model=linear, strategies=["none", "balanced_sampling"],
    ...                  seeds=1, epochs=2)
    >>> sorted(result.summary.index)
    ['balanced_sampling', 'none']
    """
    cfg = CompareConfig(
        strategies=strategies, seeds=seeds, epochs=epochs, batch_size=batch_size,
        learning_rate=learning_rate, val_size=val_size, test_size=test_size, jobs=jobs,
        data_seed=data_seed,
    )  # fmt: skip
    cfg = cfg.resolved()
    data = None
    if x is not None or y is not None:
        if x is None or y is None:
            raise CompareError("Give both `x` and `y` (or neither, for the built-in digits).")
        main = "train" if x_val is not None else "all"
        parts: dict[str, tuple[Any, Any]] = {main: (as_samples(x), np.asarray(y))}
        for key, name, xs, ys in (("valid", "val", x_val, y_val), ("test", "test", x_test, y_test)):
            if (xs is None) != (ys is None):
                raise CompareError(f"Give both `x_{name}` and `y_{name}`, or neither.")
            if xs is not None:
                parts[key] = (as_samples(xs), np.asarray(ys))
        data = assemble(parts, cfg, "arrays", task_of(parts[main][1]))
    return run_compare(cfg, data=data, model=model, progress=progress)
