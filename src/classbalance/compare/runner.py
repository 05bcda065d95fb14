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
off its stderr, sets its thread counts and, on a machine with GPUs, its device
and memory growth (:mod:`~classbalance.compare.workers`).

The order of the runs, the time plan and racing are in
:mod:`~classbalance.compare.schedule` and :mod:`~classbalance.compare.budget`.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from classbalance._optional import require
from classbalance.compare.budget import EpochProbe, Gate, Plan
from classbalance.compare.config import CompareConfig, CompareError, CompareResult
from classbalance.compare.cv import fold_data, pool_rows, pooled, prepare
from classbalance.compare.data import DataSplit, assemble, embed_parts, load_data
from classbalance.compare.models import ModelFn, build_model
from classbalance.compare.readers import as_samples
from classbalance.compare.recipes import check_strategy_names, job_groups
from classbalance.compare.schedule import Execute, run_schedule
from classbalance.compare.summary import summarize
from classbalance.compare.task import task_of
from classbalance.compare.training import RunContext, TrainedModel, isolated_random_state
from classbalance.compare.workers import WorkerPlan, detect_accelerators, plan_workers, start_worker

__all__ = ["compare", "run_compare", "run_group", "run_one"]


# --------------------------------------------------------------------------- one run
def _timed_context(ctx: RunContext, probe: EpochProbe | None, task_start: float) -> RunContext:
    """``ctx`` whose first ``fit`` carries the timing run's probe (the grid's other runs: as is)."""
    if probe is None:
        return ctx
    fit = ctx.fit
    state = {"attached": False}

    def timed_fit(model: Any, **kwargs: Any) -> Any:
        if not state["attached"]:  # only the first training is timed
            state["attached"] = True
            kwargs["callbacks"] = [
                *(kwargs.get("callbacks") or []),
                probe.callback(ctx, task_start),
            ]
        return fit(model, **kwargs)

    ctx.fit = timed_fit  # type: ignore[method-assign]
    return ctx


def run_one(
    data: DataSplit,
    cfg: CompareConfig,
    strategy: str,
    seed: int,
    model: str | ModelFn | None = None,
) -> dict[str, Any]:
    """Train one recipe with one seed and score it on the test set (a grid cell).

    The task of ``data`` gives the recipe and turns the trained predictor
    into scores (argmax; or sigmoid and thresholds tuned on validation). A
    recipe that reuses a trained model (``posthoc_adjust``, ``crt``, ...)
    trains that base first, without reporting it (:func:`run_group`).

    Examples
    --------
    >>> from classbalance.compare import CompareConfig, load_data
    >>> from classbalance.compare.runner import run_one
    >>> cfg = CompareConfig(data="multilabel-demo", epochs=1).resolved()
    >>> row = run_one(load_data(cfg), cfg, "none", 0)
    >>> row["steps"] == row["budget_steps"] == 63, 0 < row["mAP"] <= 1
    (True, True)
    """
    if data.cv is None:
        return run_group(data, cfg, [strategy], seed, model)[0]
    folds = [run_group(data, cfg, [strategy], seed, model, fold=f)[0] for f in range(data.cv.k)]
    return pool_rows(len(data.y_test), folds)


def run_group(
    data: DataSplit,
    cfg: CompareConfig,
    strategies: Sequence[str],
    seed: int,
    model: str | ModelFn | None = None,
    worker: WorkerPlan | None = None,
    gate: Gate | None = None,
    probe: EpochProbe | None = None,
    fold: int | None = None,
) -> list[dict[str, Any]]:
    """Train ``strategies`` with one seed, a recipe reusing a model after that model (one job).

    The base of a reusing recipe (``Recipe.base``: ``none``) trains first and
    its trained model goes to every recipe of the group that reuses it; a
    base not in ``strategies`` is trained all the same but not reported (its
    time is added to the first row's ``_seconds``, so that the rows' times
    add up to the job's). ``worker`` sets up a worker process
    (:func:`~.workers.start_worker`); ``gate`` waits for the plan's epochs
    (or skips runs: ``{"skipped": True}``); ``probe`` makes this the timing
    job (:class:`~.budget.EpochProbe`): it times the first training, and the
    recipes after it take the plan's epochs. ``fold``: under cross-validation,
    train and score on that fold of repeat ``seed`` (:func:`~.cv.fold_data`),
    exactly as on the single split; the rows carry the fold's sample rows
    (``_rows``) for :func:`~.cv.pool_rows`.

    Examples
    --------
    >>> from classbalance.compare import CompareConfig, load_data
    >>> from classbalance.compare.runner import run_group
    >>> cfg = CompareConfig(epochs=2).resolved()
    >>> rows = run_group(load_data(cfg), cfg, ["posthoc_adjust", "crt"], 0)
    >>> [(r["strategy"], r["steps"], r["base"], r["base_steps"]) for r in rows]
    [('posthoc_adjust', 0, 'none', 18), ('crt', 9, 'none', 9)]
    """
    skipped = []
    if gate is not None and probe is None:  # the timing job makes the plan: it never waits
        planned = {name: gate.epochs(name, seed) for name in strategies}
        skipped = [
            {"strategy": n, "seed": seed, "skipped": True} for n, e in planned.items() if e is None
        ]
        strategies = [n for n in strategies if planned[n] is not None]
        if not strategies:
            return skipped
        cfg = replace(cfg, epochs=next(planned[n] for n in strategies))
    keras = start_worker(worker)
    at: dict[str, Any] = {}
    if fold is not None:  # a fold is a split: its own train / valid / test
        data, test_rows = fold_data(data, seed, fold)
        at = {"_rows": test_rows, "_fold": fold}
    recipes = data.task.recipes
    bases = {recipes[n].base for n in strategies} - {None}
    staged = {recipes[n].base for n in strategies if recipes[n].second_stage}
    order = [*sorted(bases - set(strategies)), *sorted(strategies, key=lambda n: n not in bases)]
    trained: dict[str, TrainedModel] = {}
    rows: list[dict[str, Any]] = []
    unreported = 0.0
    for i, name in enumerate(order):
        recipe, reported = recipes[name], name in strategies
        task_start = time.time()  # after the worker's one-time start-up
        ctx = RunContext(data, cfg, seed, model_fn=model, base=trained.get(recipe.base or ""),
                         keep_first_stage=name in staged)  # fmt: skip
        ctx = _timed_context(ctx, probe if i == 0 else None, task_start)
        try:
            with isolated_random_state():
                start = time.perf_counter()
                predict = recipe.train(ctx)
                seconds = time.perf_counter() - start
                if name in bases:
                    trained[name] = TrainedModel.of(ctx, name, seconds, reported)
                scored = data.task.score_run(data, predict) if reported else None
        except BaseException:
            if probe is not None:
                probe.failed()
            raise
        if i == 0 and probe is not None:
            if probe.plan is None:  # no epoch reported: time the whole run
                probe.report(
                    [task_start + seconds * (e + 1) / cfg.epochs for e in range(2)], task_start
                )
            cfg = ctx.cfg  # stopped at the plan's epochs (if it could)
        if scored is None:
            unreported += time.time() - task_start
            continue
        rows.append({**_row(ctx, recipe, scored, seconds, keras.backend.backend()), **at})
        rows[-1]["_seconds"] = time.time() - task_start + unreported
        unreported = 0.0
    if probe is not None:
        for row in rows:
            row["_plan"] = probe.plan
    return rows + skipped


def _row(
    ctx: RunContext, recipe: Any, scored: dict[str, Any], seconds: float, backend: str
) -> dict[str, Any]:
    """A run's row: its scores, own steps and time; the model it reused and that one's steps."""
    public = {k: v for k, v in scored.items() if k != "details" and not k.startswith("_")}
    base = ctx.base if recipe.base else None
    shared, base_steps = {}, 0
    if base is not None:
        base_steps = base.steps
        if recipe.second_stage:  # the base's first stage: its epochs of steps
            base_steps = base.first_stage_epochs * ctx.steps_per_epoch
        shared["base"] = {
            "strategy": base.strategy, "seed": ctx.seed, "steps": base.steps,
            "train_seconds": base.seconds, "reported": base.reported,
            **({"first_stage_epochs": base.first_stage_epochs} if recipe.second_stage else {}),
        }  # fmt: skip
    return {
        "strategy": recipe.name,
        "seed": ctx.seed,
        **public,
        "steps": ctx.steps,
        "budget_steps": recipe.own_epochs(ctx.cfg.epochs) * ctx.steps_per_epoch,
        "base": None if base is None else base.strategy,
        "base_steps": base_steps,
        "best_epochs": list(ctx.best_epochs),
        "train_seconds": seconds,
        "details": {**ctx.info, **scored["details"], **shared},
        "backend": backend,
        "_epochs": ctx.cfg.epochs,
        **{k: v for k, v in scored.items() if k.startswith("_")},
    }


# --------------------------------------------------------------------------- the grid
_LOCAL_BACKENDS = {"LokyBackend", "MultiprocessingBackend", "ThreadingBackend", "SequentialBackend"}


def _workers(cfg: CompareConfig, backend: str) -> WorkerPlan:
    """The worker plan for ``cfg.jobs`` on this machine (:func:`~.workers.plan_workers`)."""
    accelerators = detect_accelerators(backend) if cfg.jobs != 1 else []
    plan = plan_workers(
        cfg.jobs, n_cores=os.cpu_count() or 1, accelerators=accelerators, backend=backend
    )
    if plan.devices:
        plan = replace(plan, slot_dir=tempfile.mkdtemp(prefix="classbalance-workers-"))
    return plan


def _executor(data: DataSplit, model: Any, worker: WorkerPlan) -> Execute:
    """Run pairs on joblib's active backend (local processes, or a Dask / Ray cluster)."""
    from joblib import Parallel, delayed

    def execute(pairs: list, cfg: CompareConfig, gate: Gate | None, probe: Any) -> Any:
        # A recipe reusing a model runs in one job with it (one seed, the base first); under
        # cross-validation a job per fold. The job of the first pair carries the probe.
        folds = [None] if data.cv is None else list(range(data.cv.k))
        units = [(g, seed, f) for g, seed in job_groups(pairs, data.task.recipes) for f in folds]

        def run(units: list, gate: Gate | None, probe: Any) -> Any:
            parallel = Parallel(n_jobs=worker.n_jobs, return_as="generator_unordered")
            return parallel(
                delayed(run_group)(
                    data, cfg, names, seed, model, worker, gate, probe if i == 0 else None, fold
                )
                for i, (names, seed, fold) in enumerate(units)
            )

        if probe is not None and gate is None and len(units) > 1:
            # The timing job alone (workers that do not see its plan file): the other folds of
            # its pair then take the plan's epochs.
            first = list(run(units[:1], None, probe))
            gate = Gate(plan=first[0][0]["_plan"].to_dict())
            results = itertools.chain(first, run(units[1:], gate, None))
        else:
            results = run(units, gate, probe)
        rows = (row for group in results for row in group)
        return rows if data.cv is None else pooled(rows, data.cv.k, len(data.y_test))

    return execute


def _shares_files() -> bool:
    from joblib.parallel import get_active_backend

    return type(get_active_backend()[0]).__name__ in _LOCAL_BACKENDS


def run_compare(
    cfg: CompareConfig,
    *,
    data: DataSplit | None = None,
    model: str | ModelFn | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    on_plan: Callable[[Plan], None] | None = None,
) -> CompareResult:
    """Time one run, plan the grid (budget, racing), train it with equal budgets; score, recommend.

    Parameters
    ----------
    cfg : CompareConfig
    data : DataSplit, default=None
        Use these arrays instead of loading ``cfg.data``.
    model : str or callable, default=None
        Overrides ``cfg.model`` (a callable ``(input_shape, n_classes) -> model``).
    progress : callable(label, done, total), default=None
        Called as runs finish (for a progress bar).
    on_plan : callable(Plan), default=None
        Called once the time plan is known, while the runs train (from a thread).

    Returns
    -------
    CompareResult
        ``result.plan`` holds the plan, the race's rounds and the time taken.

    Examples
    --------
    >>> from classbalance.compare import CompareConfig, run_compare
    >>> result = run_compare(CompareConfig(strategies=["none", "class_weight"], seeds=1, epochs=2))
    >>> result.runs["steps"].tolist()  # equal budgets: 2 epochs of ceil(277 / 32) batches
    [18, 18]
    >>> result.plan["plan"]["mode"], result.plan["plan"]["runs"]
    ('grid', 2)
    """
    keras = require("keras", "classbalance compare")
    started = time.time()
    cfg = cfg.resolved()  # validate before the (possibly slow) loading
    check_strategy_names(cfg.strategies)
    data = data if data is not None else load_data(cfg)
    data, cfg = prepare(data, cfg)  # cross-validation for small data (classbalance.compare.cv)
    cfg = replace(cfg, strategies=data.task.strategies(cfg.strategies, data.kind))
    cfg = replace(cfg, image_size=data.image_size or cfg.image_size)  # as read
    model = model if model is not None else cfg.model
    with isolated_random_state():  # building a model draws Keras' seeds from `random`
        build_model(model, data)  # fail fast, in this process, on a broken model function
    from joblib import effective_n_jobs

    worker = _workers(cfg, keras.backend.backend())
    try:
        rows, record = run_schedule(
            cfg, data, execute=_executor(data, model, worker),
            workers=worker.n_workers if worker.devices else effective_n_jobs(worker.n_jobs),
            shares_files=_shares_files(), started=started, on_plan=on_plan, progress=progress,
        )  # fmt: skip
    finally:
        if worker.slot_dir:
            shutil.rmtree(worker.slot_dir, ignore_errors=True)
    record["workers"] = worker.reason
    order = {name: i for i, name in enumerate(cfg.strategies)}
    rows.sort(key=lambda r: (order[r["strategy"]], r["seed"]))
    ran = replace(cfg, epochs=record["plan"]["epochs"], seeds=1 + max(r["seed"] for r in rows))
    return summarize(ran, data, rows, keras.backend.backend(), time.time() - started, record)


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
    budget_minutes: float | None = None,
    race: bool | None = None,
    backbone: str | None = None,
    backbone_weights: str | None = None,
    image_size: int | None = None,
    embedding_cache: str | None = None,
    cv: int | None = None,
    cv_repeats: int | None = None,
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
    seeds, epochs, batch_size, learning_rate, jobs, data_seed, budget_minutes, race :
        As in :class:`CompareConfig`.
    backbone, backbone_weights, image_size, embedding_cache :
        Transfer learning (:mod:`classbalance.compare.embeddings`): images
        become the embeddings of a frozen Keras application (e.g.
        ``"MobileNetV3Small"``) or ``"module:function"``, resized to
        ``image_size`` (default: the backbone's) and cached by content.
    cv, cv_repeats : int, default=None
        Cross-validation for small data (:mod:`classbalance.compare.cv`): ``cv=K``
        folds, ``cv=0`` the single split; None: 5 folds when the rarest class
        would have fewer than 20 test samples in the single split.
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
    ...                  seeds=1, epochs=2, cv=0)  # cv=None: 5 folds (12 of class 1 in test)
    >>> sorted(result.summary.index)
    ['balanced_sampling', 'none']
    """
    cfg = CompareConfig(
        strategies=strategies, seeds=seeds, epochs=epochs, batch_size=batch_size,
        learning_rate=learning_rate, val_size=val_size, test_size=test_size, jobs=jobs,
        data_seed=data_seed, budget_minutes=budget_minutes, race=race, backbone=backbone,
        backbone_weights=backbone_weights, image_size=image_size, embedding_cache=embedding_cache,
        cv=cv, cv_repeats=cv_repeats,
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
        task = task_of(parts[main][1])
        parts, notes = embed_parts(parts, cfg)
        data = assemble(parts, cfg, "arrays", task)
        data.notes.extend(notes)
    return run_compare(cfg, data=data, model=model, progress=progress)
