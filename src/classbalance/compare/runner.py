"""Run the grid of (strategy, seed) pairs, serially or in parallel, and score it.

Parallelism goes through joblib: ``jobs=N`` runs pairs in ``N`` local worker
processes (loky). Inside ``joblib.parallel_config(backend="dask")`` (with a
``dask.distributed.Client`` connected) or ``backend="ray"``, the same grid runs
on that cluster. Each pair depends only on ``(data, config, strategy, seed)``,
so where the Keras backend computes deterministically the scores do not
depend on where or in which order the pairs ran.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import classbalance as cb
from classbalance.compare.data import CompareError, DataSplit, as_samples, assemble, load_data
from classbalance.compare.models import ModelFn, build_model
from classbalance.compare.multilabel_data import (
    MultiLabelSplit,
    assemble_multilabel,
    is_multihot,
)
from classbalance.compare.multilabel_recipes import ML_RECIPES, run_one_multilabel
from classbalance.compare.recipes import RECIPES, RunContext
from classbalance.compare.stats import (
    Bootstrap,
    bootstrap_balanced_accuracy,
    group_recalls,
    shot_groups,
)

__all__ = ["METRICS", "CompareConfig", "CompareResult", "compare", "run_compare"]

METRICS = ("balanced_accuracy", "macro_f1", "g_mean", "min_recall", "accuracy")
_BAD_VALUE = "`{name}` must be a positive integer. Received: {name}={value!r}"


@dataclass
class CompareConfig:
    """Settings of one comparison (all recorded in ``results.json``).

    ``model`` is ``"module:function"`` / ``"file.py:function"`` (a function
    ``(input_shape, n_classes) -> uncompiled Keras model with logits``), or
    ``None`` for the default (MLP for features, small residual CNN for images).
    ``jobs`` is the number of worker processes (``-1``: one per core).
    """

    data: str | None = None
    test: str | None = None
    model: str | None = None
    strategies: Sequence[str] | None = None
    seeds: int = 3
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 3e-3
    imbalance_ratio: float = 50.0
    label_col: str = "label"
    label_cols: Sequence[str] | None = None
    label_sep: str | None = None
    multilabel: bool = False
    image_size: int = 28
    channels: str = "auto"
    val_size: float = 0.2
    test_size: float = 0.2
    data_seed: int = 0
    jobs: int = 1
    quick: bool = False
    out: str = "compare-report"

    def resolved(self, kind: str | None = None, *, multilabel: bool | None = None) -> CompareConfig:
        """Validate, then apply ``quick`` (1 seed, at most 5 epochs).

        ``kind`` ("features" or "images") drops image-only recipes from the
        default list for feature data; ``multilabel`` (known once the data
        are loaded) chooses the multi-label recipes.
        """
        cfg = CompareConfig(**asdict(self))
        for name in ("seeds", "epochs", "batch_size"):
            value = getattr(cfg, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise CompareError(_BAD_VALUE.format(name=name, value=value))
        if isinstance(cfg.jobs, bool) or not isinstance(cfg.jobs, int) or cfg.jobs == 0:
            raise CompareError(
                f"`jobs` must be a positive integer or -1. Received: jobs={cfg.jobs!r}"
            )
        if not cfg.imbalance_ratio >= 1:
            raise CompareError(f"--imbalance-ratio must be >= 1, got {cfg.imbalance_ratio}.")
        if not (isinstance(cfg.learning_rate, float | int) and cfg.learning_rate > 0):
            raise CompareError(f"--learning-rate must be > 0, got {cfg.learning_rate!r}.")
        if str(cfg.channels) not in ("auto", "1", "3"):
            raise CompareError(f"--channels must be auto, 1 or 3; got {cfg.channels!r}.")
        cfg.channels = str(cfg.channels)
        if cfg.quick:
            cfg.seeds = 1
            cfg.epochs = min(cfg.epochs, 5)
        if cfg.label_cols is not None:
            if isinstance(cfg.label_cols, str):
                cfg.label_cols = [c.strip() for c in cfg.label_cols.split(",") if c.strip()]
            cfg.label_cols = list(cfg.label_cols)
            if not cfg.label_cols or len(set(cfg.label_cols)) != len(cfg.label_cols):
                raise CompareError(
                    "--label-cols must name distinct label columns, e.g. --label-cols a,b,c. "
                    f"Received: {cfg.label_cols!r}"
                )
        if cfg.label_sep is not None and (not isinstance(cfg.label_sep, str) or not cfg.label_sep):
            raise CompareError(f"--label-sep must be a non-empty string; got {cfg.label_sep!r}.")
        registry = ML_RECIPES if multilabel else RECIPES
        if cfg.strategies:
            names = list(cfg.strategies)
            known = registry if multilabel is not None else {**RECIPES, **ML_RECIPES}
            unknown = [n for n in names if n not in known]
            if unknown:
                kind_of = "multi-label" if multilabel else "single-label"
                raise CompareError(
                    f"Unknown strategies {unknown}"
                    + (f" for {kind_of} data" if multilabel is not None else "")
                    + f"; choose from: {', '.join(registry if multilabel is not None else known)}."
                )
            if kind == "features" and not multilabel:
                images_only = [n for n in names if RECIPES[n].images_only]
                if images_only:
                    raise CompareError(f"{images_only} work on images only; the data are features.")
        elif kind is None:
            names = None  # filled in once the kind of data is known
        else:
            names = [n for n, r in registry.items() if kind == "images" or not r.images_only]
        cfg.strategies = names
        return cfg


@dataclass
class CompareResult:
    """Per-run rows, the summary per strategy with intervals, and what is needed to replay it.

    Attributes
    ----------
    runs : DataFrame
        One row per (strategy, seed): test metrics, ``steps`` taken, the best
        epoch(s) on validation, training time, recipe details.
    summary : DataFrame
        One row per strategy, best first: balanced accuracy with its 95%
        interval, the paired difference to ``none`` with its interval,
        ``within_noise_of_best``, other metrics (seed means), recall of the
        many- / medium- / few-shot classes.
    recommendation : str
        One sentence built from the intervals.
    predictions : dict of str to ndarray (n_seeds, n_test)
        Predicted class codes on the test set (multi-label: test-set
        probabilities, shape (n_seeds, n_test, n_labels)).
    multilabel : bool
        Multi-label data: ``summary`` holds mAP (primary), group mAPs and
        macro-F1 at 0.5 and at tuned thresholds; ``bootstraps`` one
        :class:`Bootstrap` per metric (``bootstrap`` is the mAP one).
    """

    runs: pd.DataFrame
    summary: pd.DataFrame
    config: CompareConfig
    data_description: str
    train_counts: dict[str, int]
    test_counts: dict[str, int]
    recommendation: str
    bootstrap: Bootstrap
    predictions: dict[str, np.ndarray] = field(default_factory=dict)
    confusions: dict[str, np.ndarray] = field(default_factory=dict)
    classes: list[Any] = field(default_factory=list)
    multilabel: bool = False
    bootstraps: dict[str, Bootstrap] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    backend: str = ""
    seconds: float = 0.0


# --------------------------------------------------------------------------- one run
def import_keras_quietly() -> Any:
    """Import Keras (and TensorFlow, if installed, on any backend) without their log lines."""
    from classbalance._optional import require
    from classbalance._quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    if "keras" not in sys.modules:
        from classbalance._quiet import import_quietly

        try:
            return import_quietly("keras")
        except ImportError:
            pass
    return require("keras", "classbalance compare")


def prepare_worker(threads: int | None) -> None:
    keras = import_keras_quietly()

    if not threads:
        return
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


def run_one(
    data: DataSplit,
    cfg: CompareConfig,
    strategy: str,
    seed: int,
    model: str | ModelFn | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """Train one recipe with one seed and score it on the test set (a grid cell)."""
    prepare_worker(threads)
    keras = import_keras_quietly()
    ctx = RunContext(data, cfg, seed, model_fn=model)
    start = time.perf_counter()
    predict = RECIPES[strategy].train(ctx)
    seconds = time.perf_counter() - start
    pred = predict(data.x_test).argmax(axis=1)
    val_pred = predict(data.x_val).argmax(axis=1)
    report = cb.imbalance_report(data.y_test, pred, classes=list(range(data.n_classes)))
    summary = report.to_dict()["summary"]
    val_report = cb.imbalance_report(data.y_val, val_pred, classes=list(range(data.n_classes)))
    return {
        "strategy": strategy,
        "seed": seed,
        **{m: float(summary[m]) for m in METRICS},
        "val_balanced_accuracy": float(val_report.summary["balanced_accuracy"]),
        "steps": ctx.steps,
        "budget_steps": ctx.budget,
        "best_epochs": list(ctx.best_epochs),
        "train_seconds": seconds,
        "details": dict(ctx.info),
        "backend": keras.backend.backend(),
        "_pred": pred.astype(np.int64),
        "_confusion": np.asarray(report.confusion),
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
    cb_keras = import_keras_quietly()
    started = time.perf_counter()
    cfg = cfg.resolved()  # validate before the (possibly slow) loading
    data = data if data is not None else load_data(cfg)
    multilabel = isinstance(data, MultiLabelSplit)
    cfg = cfg.resolved(data.kind, multilabel=multilabel)
    model = model if model is not None else cfg.model
    build_model(model, data)  # fail fast, in this process, on a broken model function
    from joblib import Parallel, delayed

    run = run_one_multilabel if multilabel else run_one

    tasks = [(name, seed) for name in cfg.strategies for seed in range(cfg.seeds)]
    threads = _threads_per_job(cfg.jobs)
    total = len(tasks)
    if progress is not None:
        progress(f"{total} runs", 0, total)
    rows = []
    parallel = Parallel(n_jobs=cfg.jobs, return_as="generator_unordered")
    results = parallel(delayed(run)(data, cfg, n, s, model, threads) for n, s in tasks)
    for done, row in enumerate(results, start=1):
        rows.append(row)
        if progress is not None:
            progress(f"{row['strategy']} (seed {row['seed']})", done, total)
    order = {name: i for i, name in enumerate(cfg.strategies)}
    rows.sort(key=lambda r: (order[r["strategy"]], r["seed"]))
    if multilabel:
        from classbalance.compare.multilabel import summarize_multilabel

        return summarize_multilabel(cfg, data, rows, cb_keras, time.perf_counter() - started)
    return _summarize(cfg, data, rows, cb_keras, time.perf_counter() - started)


def _summarize(
    cfg: CompareConfig, data: DataSplit, rows: list[dict], keras: Any, seconds: float
) -> CompareResult:
    predictions = {
        name: np.stack([r["_pred"] for r in rows if r["strategy"] == name])
        for name in cfg.strategies
    }
    confusions = {
        name: sum(r["_confusion"] for r in rows if r["strategy"] == name) for name in cfg.strategies
    }
    runs = pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows])
    boot = bootstrap_balanced_accuracy(data.y_test, predictions, seed=cfg.data_seed)
    groups = shot_groups(data.train_counts)
    grouped = runs.groupby("strategy", sort=False)
    table = []
    for name in cfg.strategies:
        low, high = boot.interval(name)
        entry: dict[str, Any] = {
            "strategy": name,
            "balanced_accuracy": float(boot.estimate[boot.names.index(name)]),
            "ci_low": low,
            "ci_high": high,
        }
        if "none" in cfg.strategies:
            diff, d_low, d_high = boot.difference(name, "none")
            entry.update(vs_none=diff, vs_none_low=d_low, vs_none_high=d_high)
        for m in METRICS[1:]:
            entry[m] = float(grouped[m].mean()[name])
        recalls = group_recalls(data.y_test, predictions[name], groups, data.n_classes)
        entry.update({f"{g}_shot_recall": v for g, v in recalls.items()})
        entry["steps"] = int(grouped["steps"].mean()[name])
        entry["train_seconds"] = float(grouped["train_seconds"].mean()[name])
        table.append(entry)
    summary = pd.DataFrame(table).set_index("strategy")
    group = boot.indistinguishable_from_best()
    summary["within_noise_of_best"] = [n in group for n in summary.index]
    summary = summary.sort_values("balanced_accuracy", ascending=False, kind="stable")
    notes = list(data.notes)
    if any(r["steps"] != r["budget_steps"] for r in rows):
        notes.append("Warning: some runs did not take the budgeted number of steps (see runs).")
    return CompareResult(
        runs=runs,
        summary=summary,
        config=cfg,
        data_description=data.description,
        train_counts={str(c): int(n) for c, n in zip(data.classes, data.train_counts)},
        test_counts={str(c): int(n) for c, n in zip(data.classes, data.test_counts)},
        recommendation=recommendation(boot, "none" in cfg.strategies, len(data.y_test), cfg.seeds),
        bootstrap=boot,
        predictions=predictions,
        confusions=confusions,
        classes=data.classes,
        notes=notes,
        backend=keras.backend.backend(),
        seconds=seconds,
    )


def _names(names: list[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def recommendation(
    boot: Bootstrap,
    has_none: bool,
    n_test: int,
    n_seeds: int,
    *,
    metric: str = "balanced accuracy",
) -> str:
    """One sentence that the intervals support (``metric``, 95% paired bootstrap).

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.runner import recommendation
    >>> from classbalance.compare.stats import bootstrap_balanced_accuracy
    >>> y = np.repeat([0, 1], 100)
    >>> good, bad = y[None, :].copy(), np.zeros((1, 200), dtype=int)
    >>> recommendation(bootstrap_balanced_accuracy(y, {"none": bad, "x": good}), True, 200, 1)[:8]
    'Use `x`:'
    """
    best = boot.best()
    basis = f" ({n_test} test samples, {n_seeds} seed{'s' if n_seeds != 1 else ''})."
    if len(boot.names) == 1:
        low, high = boot.interval(best)
        est = boot.estimate[0]
        return f"Only `{best}` was run: {metric} {est:.3f} [95% CI {low:.3f}, {high:.3f}]" + basis
    group = boot.indistinguishable_from_best()
    others = [n for n in group if n != best]
    tail = (
        f"; {_names(others)} {'is' if len(others) == 1 else 'are'} within noise of it"
        if others
        else "; no other strategy is within noise of it"
    )
    if not has_none:
        low, high = boot.interval(best)
        est = boot.estimate[boot.names.index(best)]
        return f"Best: `{best}`, {metric} {est:.3f} [95% CI {low:.3f}, {high:.3f}]" + (tail + basis)
    if best == "none":
        return (
            f"No remedy beat training without one: `none` has the highest {metric}" + tail + basis
        )
    diff, low, high = boot.difference(best, "none")
    if low > 0:
        return (
            f"Use `{best}`: {diff:+.3f} {metric} over no remedy "
            f"[95% CI {low:+.3f}, {high:+.3f}]" + tail + basis
        )
    return (
        f"No remedy is clearly better than none: the best, `{best}`, is {diff:+.3f} {metric} "
        f"over no remedy, but its 95% CI [{low:+.3f}, {high:+.3f}] includes 0" + tail + basis
    )


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
        Subset of :data:`classbalance.compare.STRATEGIES`; default all.
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
    >>> result = compare(x, y, model=linear, strategies=["none", "oversample"], seeds=1, epochs=2)
    >>> sorted(result.summary.index)
    ['none', 'oversample']
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
        if is_multihot(parts[main][1]):
            data = assemble_multilabel(parts, cfg, "arrays")
        else:
            data = assemble(parts, cfg, "arrays")
    return run_compare(cfg, data=data, model=model, progress=progress)
