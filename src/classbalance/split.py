"""Stratified train / validation / test splits that keep every class.

Counts per class are decided by largest remainder (seeded tie-breaks), then
each class's members are permuted and cut. Small classes are protected: a
class with at least two members always appears in training and validation; a
class with one member goes to training with a warning instead of failing the
whole split. ``groups`` keeps each group (e.g. one patient's images) in a
single split; multi-hot ``y`` uses iterative stratification, then keeps every label
with 2 positives in training and validation (3: in test too) by swapping rows.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import pandas as pd

from classbalance._streams import SPLIT
from classbalance._validation import resolve_seed, rng_for, short_repr
from classbalance.labels import encode_labels

__all__ = ["stratified_folds", "stratified_split"]

# rng_for keys: (domain, purpose); one domain per module keeps streams apart.
_DOMAIN = SPLIT  # rng_for domain of this module (registry: classbalance._streams)
_KEY_ALLOCATE, _KEY_PERMUTE, _KEY_GROUPS, _KEY_MULTILABEL, _KEY_FOLDS = 0, 1, 2, 3, 4


def _size_to_count(size: Any, name: str, n: int) -> int:
    """A fraction in (0, 1) or a positive count, as a number of samples."""
    if isinstance(size, bool) or not isinstance(size, numbers.Real) or not np.isfinite(size):
        raise ValueError(
            f"`{name}` must be a fraction in (0, 1) or a positive int count. "
            f"Received: {name}={short_repr(size)}"
        )
    if isinstance(size, numbers.Integral):
        if not 0 < size < n:
            raise ValueError(
                f"`{name}` as a count must be in [1, {n - 1}] for {n} samples. "
                f"Received: {name}={size}"
            )
        return int(size)
    if not 0.0 < size < 1.0:
        raise ValueError(f"`{name}` as a fraction must be in (0, 1). Received: {name}={size}")
    return max(1, int(np.ceil(size * n - 1e-9)))


def _allocate(
    counts: np.ndarray, total: int, low: np.ndarray, high: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Per-class counts summing to ``total`` (when the bounds allow), ``low <= a <= high``.

    Largest remainder of ``counts * total / n``, ties broken by ``rng``; then
    the bounds are applied and the total restored by moving samples between
    classes with room, those furthest from their exact share first.
    """
    exact = counts * (total / max(int(counts.sum()), 1))
    alloc = np.floor(exact).astype(np.int64)
    short = total - int(alloc.sum())
    tie = rng.random(len(counts))
    if short > 0:
        order = np.lexsort((tie, -(exact - alloc)))
        alloc[order[:short]] += 1
    alloc = np.clip(alloc, low, high)
    # Restore the total one sample per class per round, the class furthest
    # from its exact share first, so the correction is spread out.
    diff = total - int(alloc.sum())
    while diff != 0:
        step = 1 if diff > 0 else -1
        room = (high - alloc) if step > 0 else (alloc - low)
        gap = (exact - alloc) * step
        order = np.lexsort((tie, -gap))
        order = order[room[order] > 0][: abs(diff)]
        if order.size == 0:
            break  # the bounds cannot meet the total
        alloc[order] += step
        diff -= step * order.size
    return alloc


def _cut_classes(
    codes: np.ndarray, sizes: list[np.ndarray], rng: np.random.Generator
) -> np.ndarray:
    """Split id per sample: within each class a random permutation is cut by ``sizes``.

    ``sizes[s][c]`` samples of class ``c`` go to split ``s + 1``; the rest to 0.
    """
    n = codes.shape[0]
    k = int(sizes[0].shape[0])
    order = np.lexsort((rng.random(n), codes))
    counts = np.bincount(codes, minlength=k)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    sorted_codes = codes[order]
    rank = np.arange(n) - starts[sorted_codes]
    # Splits 1.. take the first ranks of each class, training keeps the rest.
    split_sorted = np.zeros(n, dtype=np.int8)
    bound = np.zeros(k, dtype=np.int64)
    for s, size in enumerate(sizes, start=1):
        upper = bound + size
        inside = (rank >= bound[sorted_codes]) & (rank < upper[sorted_codes])
        split_sorted[inside] = s
        bound = upper
    assignment = np.empty(n, dtype=np.int8)
    assignment[order] = split_sorted
    return assignment


def _class_targets(
    counts: np.ndarray, n_val: int, n_test: int | None, rng: np.random.Generator
) -> list[np.ndarray]:
    """Validation (and test) counts per class with each class kept where it fits."""
    val_low = (counts >= 2).astype(np.int64)
    if n_test is None:
        val = _allocate(counts, n_val, val_low, np.maximum(counts - 1, 0), rng)
        return [val]
    test_low = (counts >= 3).astype(np.int64)
    # Test is cut first so validation keeps its one-sample minimum.
    test = _allocate(counts, n_test, test_low, np.maximum(counts - 1 - val_low, 0), rng)
    val = _allocate(counts, n_val, val_low, np.maximum(counts - 1 - test, 0), rng)
    return [val, test]


def _read_y(y: Any, function: str) -> tuple[np.ndarray | None, Any, int]:
    """``y`` as a multi-hot matrix (then no encoding) or encoded labels, and its length."""
    multihot = _multihot(y)
    if multihot is not None:
        return multihot, None, int(multihot.shape[0])
    enc = encode_labels(y, name="y", function=function)
    return None, enc, int(enc.n_samples)


def _multihot(y: Any) -> np.ndarray | None:
    """``y`` as a 0/1 matrix if it is multi-hot (some row with != 1 positive), else None."""
    if isinstance(y, pd.DataFrame):
        arr = y.to_numpy()
    elif isinstance(y, (pd.Series, list, tuple, np.ndarray)):
        try:
            arr = np.asarray(y)
        except (TypeError, ValueError):
            return None
    else:
        return None
    if arr.ndim != 2 or arr.shape[1] < 2 or arr.dtype.kind not in "biuf":
        return None
    if not np.isin(arr, (0, 1)).all():
        return None
    if np.all(arr.sum(axis=1) == 1):
        return None
    return arr.astype(np.int8)


def _groups_assign(
    codes: np.ndarray,
    k: int,
    groups: Any,
    targets: list[np.ndarray],
    seed: int,
) -> np.ndarray:
    """Assign whole groups to splits, greedily tracking each split's per-class target.

    Groups are placed largest first (random order among equal sizes); each
    goes to the split whose per-class shortfall it fills best, i.e. the split
    minimising the squared distance of its class counts to the targets.
    """
    gcodes, guniq = pd.factorize(np.asarray(groups), sort=True)
    if (gcodes < 0).any():
        first = int(np.flatnonzero(gcodes < 0)[0])
        raise ValueError(f"`groups` contains a missing value (NaN/None) at position {first}.")
    n_groups = guniq.shape[0]
    n_splits = len(targets) + 1
    table = np.zeros((n_groups, k), dtype=np.int64)
    np.add.at(table, (gcodes, codes.astype(np.int64)), 1)
    counts = table.sum(axis=0)
    target = np.vstack([counts - sum(targets), *targets]).astype(np.float64)
    rng = rng_for(seed, _DOMAIN, _KEY_GROUPS)
    sizes = table.sum(axis=1)
    order = np.lexsort((rng.random(n_groups), -sizes))
    current = np.zeros((n_splits, k), dtype=np.float64)
    weight = 1.0 / np.maximum(counts, 1)  # rare classes count as much as common ones
    place = np.empty(n_groups, dtype=np.int8)
    for g in order:  # one step per group, not per sample
        v = table[g]
        cost = ((current + v - target) ** 2 * weight).sum(axis=1) - (
            (current - target) ** 2 * weight
        ).sum(axis=1)
        s = int(np.argmin(cost))
        place[g] = s
        current[s] += v
    return place[gcodes]


def _warn_missing(present: np.ndarray, counts: np.ndarray, classes: np.ndarray, names: list[str]):
    for s, name in enumerate(names):
        missing = (present[s] == 0) & (counts >= 2 + (s == 2))
        if missing.any():
            warnings.warn(
                f"With `groups`, classes {classes[missing].tolist()[:10]} have no sample in the "
                f"{name} split: their samples belong to too few groups.",
                UserWarning,
                stacklevel=3,
            )


def stratified_split(
    y: Any,
    *,
    val_size: float | int = 0.2,
    test_size: float | int | None = None,
    groups: Any = None,
    seed: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, ...]:
    """Split sample indices into train / validation (/ test), class by class.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Labels: a class vector, a one-hot matrix, a pandas Series, or a
        multi-hot matrix (multi-label; split by iterative stratification).
    val_size : float or int, default=0.2
        Fraction in (0, 1) of all samples, or a count.
    test_size : float, int or None, default=None
        Same for an optional test split; ``None`` returns two arrays.
    groups : array-like of shape (n_samples,), default=None
        Group of each sample (e.g. patient id). No group spans two splits;
        class proportions are kept as close as the groups allow.
    seed : int, numpy Generator or None, default=None
        Seed of the tie-breaks and permutations; the same seed and labels give
        the same split.

    Returns
    -------
    train, val[, test] : ndarray of int64
        Sample indices, each sorted ascending; disjoint and together covering
        ``range(n_samples)``.

    Raises
    ------
    ValueError
        Invalid sizes, sizes summing to all samples, ``groups`` of the wrong
        length, invalid labels.

    Warns
    -----
    UserWarning
        A class with a single sample (it goes to training), or, with
        ``groups``, a class that could not be placed in a split.

    Notes
    -----
    Per-class validation counts are ``n_c * n_val / n`` rounded by largest
    remainder (ties broken by ``seed``), then bounded so that every class with
    at least 2 members keeps one sample in training and one in validation
    (and, with a test split, one in test when it has at least 3). The total is
    restored from classes that have room, so ``val_size`` is met exactly
    whenever those minimums allow. Labels are handled as codes of the sorted
    classes, so relabelling that keeps the order (ints to zero-padded strings)
    gives the same split.

    Multi-hot ``y`` is split by iterative stratification (Sechidis et al.
    2011, the ``iterative-stratification`` package), followed by a repair
    pass with the same minimums per label: a label with at least 2 positives
    has one in training and in validation, with at least 3 also in test.
    Iterative stratification alone misses this in a few percent of small
    problems; each miss is fixed by swapping one positive in for one row
    without the label, chosen to disturb the other labels' proportions least,
    so the split sizes stay exact and the split stays a function of the seed.

    Examples
    --------
    >>> import numpy as np
    >>> import classbalance as cb
    >>> y = np.array([0] * 8 + [1] * 2)
    >>> train, val = cb.stratified_split(y, val_size=0.2, seed=0)
    >>> np.bincount(y[train]).tolist(), np.bincount(y[val]).tolist()
    ([7, 1], [1, 1])
    """
    seed = resolve_seed(seed)
    multihot, enc, n = _read_y(y, "stratified_split")
    if n < 2:
        raise ValueError(f"`y` needs at least 2 samples to split. Received {n}.")
    n_val = _size_to_count(val_size, "val_size", n)
    n_test = None if test_size is None else _size_to_count(test_size, "test_size", n)
    if n_val + (n_test or 0) >= n:
        raise ValueError(
            f"`val_size` and `test_size` together take {n_val + (n_test or 0)} of {n} samples, "
            f"leaving none for training. Received: val_size={val_size!r}, test_size={test_size!r}"
        )
    if groups is not None:
        groups = np.asarray(groups)
        if groups.ndim != 1 or groups.shape[0] != n:
            raise ValueError(
                f"`groups` must have one entry per sample ({n}). "
                f"Received an array of shape {groups.shape}."
            )
    if multihot is not None:
        return _multilabel_split(multihot, n_val, n_test, groups, seed)

    codes = enc.codes.astype(np.int64)
    counts = enc.counts()
    classes = enc.classes
    singles = counts == 1
    if singles.any():
        warnings.warn(
            f"Classes {classes[singles].tolist()[:10]} have a single sample; it goes to the "
            "training split (there is none left for validation).",
            UserWarning,
            stacklevel=2,
        )
    targets = _class_targets(counts, n_val, n_test, rng_for(seed, _DOMAIN, _KEY_ALLOCATE))
    if groups is None:
        assignment = _cut_classes(codes, targets, rng_for(seed, _DOMAIN, _KEY_PERMUTE))
    else:
        assignment = _groups_assign(codes, enc.n_classes, groups, targets, seed)
        present = np.zeros((len(targets) + 1, enc.n_classes), dtype=np.int64)
        np.add.at(present, (assignment.astype(np.int64), codes), 1)
        names = ["training", "validation", "test"]
        _warn_missing(present, counts, classes, names[: len(targets) + 1])
    return tuple(np.flatnonzero(assignment == s) for s in range(len(targets) + 1))


def stratified_folds(
    y: Any, n_folds: int, *, seed: int | np.random.Generator | None = None
) -> np.ndarray:
    """Assign every sample to one of ``n_folds`` folds, class by class (stratified K-fold).

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Labels, as for :func:`stratified_split`; a multi-hot matrix is split by
        iterative stratification (``MultilabelStratifiedKFold``).
    n_folds : int
        Folds, at least 2 and at most the number of samples.
    seed : int, numpy Generator or None, default=None
        Same seed and labels, same folds.

    Returns
    -------
    ndarray of int64, shape (n_samples,)
        The fold of each sample. Each class is spread over the folds as evenly
        as its count allows (its members are permuted, then dealt to the folds
        in turn), and fold sizes differ by at most one sample (single-label).

    Examples
    --------
    >>> import numpy as np
    >>> import classbalance as cb
    >>> y = np.array([0] * 9 + [1] * 3)
    >>> folds = cb.stratified_folds(y, 3, seed=0)
    >>> np.bincount(folds).tolist(), np.bincount(folds[y == 1]).tolist()
    ([4, 4, 4], [1, 1, 1])
    """
    seed = resolve_seed(seed)
    multihot, enc, n = _read_y(y, "stratified_folds")
    if (
        isinstance(n_folds, bool)
        or not isinstance(n_folds, numbers.Integral)
        or not 2 <= n_folds <= n
    ):
        raise ValueError(
            f"`n_folds` must be an integer from 2 to the number of samples ({n}). "
            f"Received: n_folds={short_repr(n_folds)}"
        )
    if multihot is not None:
        from classbalance._optional import require

        strat = require("iterstrat.ml_stratifiers", "stratified_folds with multi-hot y")
        sub = int(rng_for(seed, _DOMAIN, _KEY_FOLDS).integers(0, 2**31 - 1))
        splitter = strat.MultilabelStratifiedKFold(
            n_splits=int(n_folds), shuffle=True, random_state=sub
        )
        folds = np.empty(n, dtype=np.int64)
        for f, (_train, test) in enumerate(splitter.split(np.zeros((n, 1)), multihot)):
            folds[test] = f
        return folds
    # Class by class, members in random order, dealt to the folds in turn; the deal goes on
    # across classes, so each class is spread evenly and the folds stay equal in size.
    rng = rng_for(seed, _DOMAIN, _KEY_FOLDS)
    order = np.lexsort((rng.random(n), enc.codes))
    folds = np.empty(n, dtype=np.int64)
    folds[order] = (np.arange(n) + int(rng.integers(n_folds))) % n_folds
    return folds


def _multilabel_split(
    y: np.ndarray, n_val: int, n_test: int | None, groups: Any, seed: int
) -> tuple[np.ndarray, ...]:
    if groups is not None:
        raise ValueError(
            "`groups` is not supported with multi-hot `y` (multi-label). Split groups on a "
            "single label per group, or drop `groups`."
        )
    from classbalance._optional import require

    strat = require("iterstrat.ml_stratifiers", "stratified_split with multi-hot y")
    n = y.shape[0]
    # iterative-stratification takes a legacy RandomState seed: a 32-bit int
    # derived from ours keeps the split reproducible.
    sub = int(rng_for(seed, _DOMAIN, _KEY_MULTILABEL).integers(0, 2**31 - 1))
    held = n_val + (n_test or 0)
    splitter = strat.MultilabelStratifiedShuffleSplit(n_splits=1, test_size=held, random_state=sub)
    _train, rest = next(splitter.split(np.zeros((n, 1)), y))
    assignment = np.zeros(n, dtype=np.int64)
    assignment[rest] = 1
    if n_test is not None:
        splitter = strat.MultilabelStratifiedShuffleSplit(
            n_splits=1, test_size=n_test, random_state=sub + 1
        )
        _val_local, test_local = next(splitter.split(np.zeros((rest.shape[0], 1)), y[rest]))
        assignment[rest[test_local]] = 2
    n_parts = 2 if n_test is None else 3
    assignment = _repair_missing_labels(y, assignment, n_parts)
    return tuple(np.flatnonzero(assignment == s) for s in range(n_parts))


def _needed(positives: np.ndarray, n_parts: int) -> np.ndarray:
    """Which split must hold each label: the single-label minimums (2 positives: training
    and validation; 3: test as well). Shape ``(n_parts, n_labels)``."""
    need = np.broadcast_to(positives >= 2, (n_parts, positives.shape[0])).copy()
    if n_parts == 3:
        need[2] = positives >= 3
    return need


def _repair_missing_labels(y: np.ndarray, assignment: np.ndarray, n_parts: int) -> np.ndarray:
    """Swap rows so that every split holds the labels :func:`_needed` says it must.

    Iterative stratification can leave a label out of a split (a few percent
    of small random problems: a label with 5 positives and none of them in a
    5-row validation split). For each such (label, split) pair, one positive
    row of the label moves in from the split with the most positives to
    spare, and one row without the label moves back, so split sizes stay
    exact. Both rows are chosen to disturb the other labels' proportions
    least (the weighted squared distance of each split's label counts to its
    exact share, weight ``1 / positives`` as for ``groups``), and never so
    that a split loses the last positive of a label it must hold: a repair
    never creates a new miss. Deterministic: no random draws, ties go to the
    lowest row. The loop runs over the missing (label, split) pairs only.
    """
    n = y.shape[0]
    positives = y.sum(axis=0, dtype=np.int64).astype(np.float64)
    need = _needed(positives, n_parts)
    counts = np.stack(
        [
            y.sum(axis=0, dtype=np.int64, where=(assignment == s)[:, None]).astype(np.float64)
            for s in range(n_parts)
        ]
    )
    if not (need & (counts == 0)).any():
        return assignment
    sizes = np.bincount(assignment, minlength=n_parts).astype(np.float64)
    target = sizes[:, None] * positives[None, :] / n
    weight = 1.0 / np.maximum(positives, 1.0)
    for s in (*range(1, n_parts), 0):  # validation first, training last
        for label in np.flatnonzero(need[s] & (counts[s] == 0)).tolist():
            _swap_in(y, assignment, counts, need, target, weight, label, s)
    return assignment


_CHUNK_ROWS = 1 << 16


def _rows_dot(y: np.ndarray, rows: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """``y[rows] @ vectors`` in float64, one block of rows at a time (bounded memory)."""
    out = np.empty((rows.shape[0], vectors.shape[1]), dtype=np.float64)
    for start in range(0, rows.shape[0], _CHUNK_ROWS):
        block = rows[start : start + _CHUNK_ROWS]
        out[start : start + _CHUNK_ROWS] = y[block].astype(np.float64) @ vectors
    return out


def _swap_in(
    y: np.ndarray,
    assignment: np.ndarray,
    counts: np.ndarray,
    need: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray,
    label: int,
    s: int,
) -> None:
    """Bring one positive of ``label`` into split ``s`` by a swap (updates in place)."""
    if counts[s, label] > 0:  # an earlier swap brought it
        return
    spare = counts[:, label] - 1 - need[:, label]  # positives a donor can give and still hold it
    spare[s] = -1
    donors = [d for d in np.argsort(-spare, kind="stable").tolist() if spare[d] >= 0]
    column = y[:, label] == 1
    for d in donors:
        # A row may leave a split only if the split keeps every label it must hold.
        last_s = (need[s] & (counts[s] <= 1)).astype(np.float64)
        last_d = (need[d] & (counts[d] <= 1)).astype(np.float64)
        a = counts[s] - target[s]
        b = counts[d] - target[d]
        # Cost of a swap (i, j), v = y_i - y_j moving into s: sum w (a+v)^2 + w (b-v)^2
        # = const + f(i) + g(j) - 4 sum w y_i y_j. Pick i by f, then j given i.
        rows_i = np.flatnonzero((assignment == d) & column)
        cost_i = _rows_dot(y, rows_i, np.stack([last_d, weight * (2 * (a - b) + 2)], axis=1))
        rows_i, f = rows_i[cost_i[:, 0] == 0], cost_i[cost_i[:, 0] == 0, 1]
        if rows_i.size == 0:
            continue
        i = int(rows_i[np.argmin(f)])
        yi = y[i].astype(np.float64)
        rows_j = np.flatnonzero((assignment == s) & ~column)
        # j must not take away the last positive of a label s must hold (unless i brings it).
        vectors = np.stack([last_s * (yi == 0), weight * (2 - 2 * (a - b) - 4 * yi)], axis=1)
        cost_j = _rows_dot(y, rows_j, vectors)
        rows_j, g = rows_j[cost_j[:, 0] == 0], cost_j[cost_j[:, 0] == 0, 1]
        if rows_j.size == 0:
            continue
        j = int(rows_j[np.argmin(g)])
        assignment[i], assignment[j] = s, d
        move = yi - y[j]
        counts[s] += move
        counts[d] -= move
        return
