"""Cross-validation for small data: repeated stratified K-fold, out-of-fold predictions pooled.

A single train / valid / test split of a small data set leaves a handful of
the rarest class in the test set, and the pick of a remedy then follows the
luck of that split. With ``cv=K`` each *repeat* ``r`` deals every sample to one
of ``K`` folds (:func:`classbalance.stratified_folds`: stratified on the class,
iterative stratification for multi-hot labels) and trains ``K`` models per
strategy; the model of fold ``f`` is trained on the other folds, keeps an
inner validation split of them (:meth:`Task.split`, the size of the single
split's validation set) for restoring its best epoch and for tuned thresholds,
and predicts fold ``f``. The ``K`` out-of-fold predictions are pooled, so
every sample is scored exactly once per repeat.

**The rule.** ``cv=None`` (the default) cross-validates with
:data:`DEFAULT_FOLDS` folds when the data came as one set (no fixed test or
validation set) and the rarest class (multi-label: the rarest label with a
positive) has fewer than :data:`MIN_TEST_SAMPLES` samples in the single
split's test set; ``cv=0`` always keeps the single split; ``cv=K >= 2``
always cross-validates. ``cv_repeats`` defaults to ``seeds``.

**Statistics: a repeat is a seed.** Repeat ``r`` draws its own fold
assignment and trains with seed ``r``; its pooled predictions play the role
of one seed's predictions on one test set holding every sample. The grid,
racing and the paired bootstrap of :mod:`classbalance.compare.stats` then
apply unchanged: the test-sample term redraws the samples, the seed term is
the spread of the repeats' pooled scores (which holds the fold-to-fold and
seed-to-seed variation of the models), and every strategy sees the same
folds, seeds and draws, so differences are paired. The interval is for the
expected score of the remedy when trained on ``(K-1)/K`` of the data minus
the validation part. Caveat: the models of one repeat share training
samples, which no bootstrap over samples can see (no unbiased variance
estimator of K-fold CV exists, Bengio & Grandvalet 2004); the pick's
agreement with a large held-out set is measured in
``benchmarks/bench_compare_cv.py``.

**One runner: a fold is a split.** The unit of work is (job group, seed,
fold): :func:`~classbalance.compare.runner.run_group` trains a job group on
one fold's :class:`DataSplit` (:func:`fold_data`) exactly as on the single
split, so within a fold ``posthoc_adjust``, ``tau_norm``, ``crt`` and ``lws``
reuse that fold's ``none`` model (post-hoc: 0 steps of their own). The
runner pools the fold rows of each (strategy, repeat) with
:func:`pool_rows` before the schedule sees them, so the plan, the gate,
racing and the summary see one row per (strategy, seed) as without folds.

**Equal budgets.** Every (strategy, fold) run takes ``epochs *
ceil(n_train_fold / batch_size)`` steps, the same for every strategy on the
same fold; a run's ``steps`` (and ``budget_steps``, ``base_steps``) is the
sum over its folds. Features are standardized with each fold's own training
statistics. The time plan counts every fold (an estimate of runs x folds).

**Racing** races the repeats: every strategy on repeat 0 (all its folds),
further repeats only for the strategies still within noise of the leader,
with the same rule as seeds (:mod:`classbalance.compare.racing`).

Per-run metrics in ``runs`` (macro-F1, worst-class recall, ...) are means over
the run's folds; the primary metric, its interval and everything the
bootstrap computes (multi-label macro-F1 with each fold's tuned thresholds)
come from the pooled predictions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

import classbalance as cb
from classbalance.compare.config import CompareConfig, CompareError
from classbalance.compare.data import DataSplit, standardize, warn_notes
from classbalance.compare.readers import take_rows

__all__ = [
    "DEFAULT_FOLDS",
    "MIN_TEST_SAMPLES",
    "Folds",
    "fold_data",
    "pool_rows",
    "pooled",
    "prepare",
]

MIN_TEST_SAMPLES = 20  # fewer test samples of the rarest class than this: cross-validate
DEFAULT_FOLDS = 5
_FOLD_SEED = 0x6376  # "cv": keeps the fold streams apart from the single split's seed


def _int_seed(*keys: int) -> int:
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0])


def _strata(y: np.ndarray) -> np.ndarray:
    """What the folds are stratified on: class codes, or the multi-hot matrix."""
    return y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y


@dataclass(frozen=True)
class Folds:
    """The folds of every repeat and, for each (repeat, fold), its train / valid / test rows.

    Attributes
    ----------
    k : int
        Folds per repeat.
    assignments : ndarray of shape (repeats, n)
        The fold of each sample in each repeat.
    val_count : int
        Validation samples split off each fold's training part.
    seed : int
        The data seed the inner splits derive from.
    """

    k: int
    assignments: np.ndarray = field(repr=False)
    val_count: int
    seed: int

    @classmethod
    def make(cls, y: np.ndarray, k: int, repeats: int, val_size: float, seed: int) -> Folds:
        """Deal ``y``'s samples to ``k`` folds, ``repeats`` times (a fresh assignment each).

        Examples
        --------
        >>> import numpy as np
        >>> from classbalance.compare.cv import Folds
        >>> folds = Folds.make(np.repeat([0, 1], [40, 10]), 5, 2, 0.2, seed=0)
        >>> folds.assignments.shape, np.bincount(folds.assignments[1]).tolist()
        ((2, 50), [10, 10, 10, 10, 10])
        """
        n = len(y)
        strata = _strata(y)
        assignments = np.stack(
            [
                cb.stratified_folds(strata, k, seed=_int_seed(seed, _FOLD_SEED, r))
                for r in range(repeats)
            ]
        )
        val_count = max(1, round(val_size * n))
        return cls(k, assignments, val_count, seed)

    @property
    def repeats(self) -> int:
        return len(self.assignments)

    def rows(self, task: Any, y: np.ndarray, repeat: int, fold: int) -> tuple[np.ndarray, ...]:
        """``(train, val, test)`` sample indices of fold ``fold`` of repeat ``repeat``.

        ``test`` is the fold; ``train`` and ``val`` split the other folds
        (``task.split``: stratified, or by iterative stratification).
        """
        assigned = self.assignments[repeat]
        test = np.flatnonzero(assigned == fold)
        rest = np.flatnonzero(assigned != fold)
        val_count = min(self.val_count, len(rest) - 1)
        train, val = task.split(
            y[rest], val_size=val_count, seed=_int_seed(self.seed, _FOLD_SEED, repeat, fold)
        )
        return rest[train], rest[val], test


def fold_data(data: DataSplit, repeat: int, fold: int) -> tuple[DataSplit, np.ndarray]:
    """The :class:`DataSplit` of one fold (training and validation from the other folds), and
    the fold's rows of the pooled data (its test set).

    Features are standardized with the fold's training statistics.
    """
    x, y = data.pool
    train, val, test = data.cv.rows(data.task, y, repeat, fold)
    arrays = {
        "x_train": take_rows(x, train), "y_train": y[train], "x_val": take_rows(x, val),
        "y_val": y[val], "x_test": take_rows(x, test), "y_test": y[test],
    }  # fmt: skip
    if data.kind == "features":
        arrays = {k: v.astype(np.float32) if k.startswith("x") else v for k, v in arrays.items()}
        standardize(arrays)
    return replace(data, **arrays, notes=[], pool=None, cv=None, test_source="cv"), test


def _folds_wanted(data: DataSplit, cfg: CompareConfig) -> int:
    """0 (the single split) or the number of folds (see the module docstring for the rule)."""
    if cfg.cv == 0:
        return 0
    if data.pool is None:
        if cfg.cv is not None:
            raise CompareError(
                f"--cv {cfg.cv} needs data that come as one set: the test (or validation) set "
                "is fixed here. Drop --test / the split folders, or use --cv 0. "
                f"Received: cv={cfg.cv}"
            )
        return 0
    n = len(data.pool[1])
    if cfg.cv is not None:
        if cfg.cv > n:
            raise CompareError(
                f"--cv must be at most the number of samples ({n}). Received: cv={cfg.cv}"
            )
        return cfg.cv
    counts = data.test_counts
    present = counts[data.task.counts(data.pool[1], data.n_classes) > 0]
    return DEFAULT_FOLDS if len(present) and int(present.min()) < MIN_TEST_SAMPLES else 0


def prepare(data: DataSplit, cfg: CompareConfig) -> tuple[DataSplit, CompareConfig]:
    """Switch to cross-validation if ``cfg`` asks for it or the rule says so.

    Returns the data (with ``data.cv`` set for cross-validation: its test
    set is every sample, its training and validation sets those of the first
    fold, for the report's counts) and the config (``seeds`` = the repeats).

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare import CompareConfig
    >>> from classbalance.compare.cv import prepare
    >>> from classbalance.compare.data import assemble
    >>> from classbalance.compare.task import SINGLE_LABEL
    >>> y = np.repeat([0, 1], [200, 40])
    >>> x = np.random.default_rng(0).normal(size=(240, 3))
    >>> cfg = CompareConfig(seeds=2).resolved()
    >>> data, ran = prepare(assemble({"all": (x, y)}, cfg, "x", SINGLE_LABEL), cfg)
    >>> data.cv.k, ran.seeds, len(data.y_test)  # 8 of class 1 in a 20% test split: < 20
    (5, 2, 240)
    """
    if data.cv is not None:  # prepared already
        return data, replace(cfg, seeds=data.cv.repeats)
    k = _folds_wanted(data, cfg)
    if k == 0:
        if data.pool is not None and cfg.cv is None:
            warn_notes(data, stacklevel=3)  # the single split's warnings were held back
        return data, cfg
    x, y = data.pool
    repeats = cfg.cv_repeats or cfg.seeds
    folds = Folds.make(y, k, repeats, cfg.val_size, cfg.data_seed)
    cv = replace(data, cv=folds)
    first, _ = fold_data(cv, 0, 0)
    cv = replace(
        cv, x_train=first.x_train, y_train=first.y_train, x_val=first.x_val, y_val=first.y_val,
        x_test=x, y_test=y, test_source="cv", notes=[],
    )  # fmt: skip
    rarest = int(data.test_counts[data.task.counts(y, data.n_classes) > 0].min())
    why = (
        f"--cv {cfg.cv}"
        if cfg.cv is not None
        else f"the rarest {'label' if data.task.multilabel else 'class'} would have {rarest} "
        f"test samples (< {MIN_TEST_SAMPLES}) in a single split; --cv 0 keeps the single split"
    )
    cv.description = data.description.split(" (")[0] + (
        f" ({data.kind}; {data.n_classes} {data.task.items}; {len(y)} samples, {k}-fold "
        f"cross-validation x {repeats} repeat(s), every sample scored once per repeat; "
        f"about {first.n_train} train / {len(first.y_val)} valid per fold)"
    )
    single = set(data.task.notes(data))  # the single split's notes; others (e.g. how the
    cv.notes = [  # data were read) are kept
        f"Cross-validation ({why}): {repeats} repeat(s) of stratified {k}-fold; each fold's "
        "model restores its best epoch on an inner validation split of the other folds and "
        f"predicts its fold. Test scores are on all {len(y)} samples, out of fold; a seed is a "
        "repeat (its own folds and training seed).",
        *(n for n in data.task.notes(cv) if not n.startswith("No test set")),
        *(n for n in data.notes if n not in single),
    ]
    warn_notes(cv, stacklevel=3)
    return cv, replace(cfg, seeds=repeats)


_SAME = ("strategy", "seed", "base", "backend")  # and `_plan`
_SUMMED = ("steps", "budget_steps", "base_steps", "train_seconds", "_seconds")


def pool_rows(n: int, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pool the fold rows of one (strategy, repeat) into one row, out of fold.

    Each row is :func:`~classbalance.compare.runner.run_group`'s row of one
    fold, with ``_rows`` (the fold's rows of the pooled data). ``_pred`` goes
    to its samples' rows, a per-fold array (the tuned ``_thresholds``) to
    every row of its fold, ``_confusion`` is summed; ``steps``,
    ``budget_steps``, ``base_steps`` and the times are summed over the folds,
    ``best_epochs`` listed; public metrics are averaged over the folds (None
    where no fold had one), ``details`` kept per fold.

    Raises
    ------
    RuntimeError
        A sample scored by no fold or by two: the folds do not partition the data.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.cv import pool_rows
    >>> a = {"strategy": "none", "seed": 0, "acc": 1.0, "steps": 4, "details": {},
    ...      "_rows": np.array([0, 2]), "_pred": np.array([1, 1])}
    >>> b = {"strategy": "none", "seed": 0, "acc": 0.0, "steps": 4, "details": {},
    ...      "_rows": np.array([1]), "_pred": np.array([0])}
    >>> row = pool_rows(3, [a, b])
    >>> row["_pred"].tolist(), row["acc"], row["steps"]
    ([1, 0, 1], 0.5, 8)
    """
    seen = np.zeros(n, dtype=np.int64)
    for row in rows:
        np.add.at(seen, row["_rows"], 1)
    if not (seen == 1).all():
        raise RuntimeError(
            "Out-of-fold pooling needs every sample scored exactly once per repeat; "
            f"{int((seen == 0).sum())} were scored by no fold and {int((seen > 1).sum())} by "
            f"more than one. Received: {len(rows)} fold rows for {n} samples."
        )
    rows = sorted(rows, key=lambda row: row.get("_fold", 0))
    first = rows[0]
    out: dict[str, Any] = {}
    for key, value in first.items():
        values = [row.get(key) for row in rows]
        if key in _SUMMED:
            out[key] = type(value)(sum(values))
        elif key == "best_epochs":
            out[key] = [e for v in values for e in v]
        elif key == "details":
            out[key] = {"folds": values}
        elif key == "_confusion":
            out[key] = np.sum(values, axis=0)
        elif key == "_epochs":  # the plan's check: one value, or -1 if the folds differ
            out[key] = value if len(set(values)) == 1 else -1
        elif key in ("_pred", "_thresholds"):
            out[key] = _place(rows, key, n)
        elif key.startswith("_") or key in _SAME:
            out[key] = value  # the same in every fold
        else:  # a public metric
            finite = [float(v) for v in values if v is not None and not np.isnan(v)]
            out[key] = float(np.mean(finite)) if finite else None
    out.pop("_rows")
    out.pop("_fold", None)
    return out


def pooled(rows: Iterable[dict[str, Any]], k: int, n: int) -> Iterator[dict[str, Any]]:
    """Fold rows as they come, one pooled row per (strategy, seed) once its ``k`` folds are in.

    Skipped runs (``{"skipped": True}``) pass through.
    """
    waiting: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in rows:
        if row.get("skipped"):
            yield row
            continue
        key = (row["strategy"], row["seed"])
        waiting.setdefault(key, []).append(row)
        if len(waiting[key]) == k:
            yield pool_rows(n, waiting.pop(key))


def _place(rows: Sequence[dict[str, Any]], key: str, n: int) -> np.ndarray:
    """``key``'s arrays of the folds at their samples' rows (a per-fold array: every row)."""
    out: np.ndarray | None = None
    for row in rows:
        value, at = np.asarray(row[key]), row["_rows"]
        if key != "_pred":
            value = np.broadcast_to(value, (len(at), *value.shape))
        if out is None:
            out = np.zeros((n, *value.shape[1:]), dtype=value.dtype)
        out[at] = value
    assert out is not None
    return out
