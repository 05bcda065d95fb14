"""Honest statistics for ``compare``: intervals, paired differences, the best group.

Balanced accuracy is the mean recall over the classes present in the test set.
Its uncertainty comes from two sources, and the bootstrap resamples both:

- the **test samples**: each replicate redraws the test set with replacement
  *within each class* (so every class keeps its test count; a class-stratified
  bootstrap, the natural one for a metric that averages per-class recalls);
- the **training seeds**: each replicate redraws the seeds with replacement,
  and averages the metric over the drawn seeds.

Every strategy sees the same redraws (the same test samples and the same
seeds), so differences between strategies are *paired*: their interval is the
percentile interval of the difference over the replicates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from classbalance.metrics import (
    FREQUENCY_BOUNDS,
    FREQUENCY_GROUPS,
    balanced_accuracy,
    class_recalls,
    frequency_groups,
)

__all__ = [
    "SHOT_GROUPS",
    "Bootstrap",
    "bootstrap_balanced_accuracy",
    "bootstrap_multilabel",
    "mean_average_precision",
    "paired_bootstrap",
    "shot_groups",
    "sigmoid",
    "weighted_average_precision",
]

# (name, lowest, highest) training count of each group of classbalance.metrics.frequency_groups.
SHOT_GROUPS = (
    (FREQUENCY_GROUPS[0], FREQUENCY_BOUNDS[1] + 1, None),
    (FREQUENCY_GROUPS[1], *FREQUENCY_BOUNDS),
    (FREQUENCY_GROUPS[2], 0, FREQUENCY_BOUNDS[0] - 1),
)


@dataclass
class Bootstrap:
    """Bootstrap replicates of balanced accuracy for every strategy, paired.

    Attributes
    ----------
    names : list of str
        Strategies, in the order of the columns.
    estimate : ndarray of shape (n_strategies,)
        Balanced accuracy averaged over seeds (no resampling).
    replicates : ndarray of shape (n_replicates, n_strategies)
    """

    names: list[str]
    estimate: np.ndarray
    replicates: np.ndarray
    level: float = 0.95

    def _col(self, name: str) -> int:
        return self.names.index(name)

    def interval(self, name: str) -> tuple[float, float]:
        """Percentile interval of the strategy's balanced accuracy."""
        return _percentiles(self.replicates[:, self._col(name)], self.level)

    def difference(self, name: str, baseline: str) -> tuple[float, float, float]:
        """``(estimate, low, high)`` of ``name - baseline`` (paired)."""
        a, b = self._col(name), self._col(baseline)
        diff = self.replicates[:, a] - self.replicates[:, b]
        low, high = _percentiles(diff, self.level)
        return float(self.estimate[a] - self.estimate[b]), low, high

    def best(self) -> str:
        """The strategy with the highest estimate."""
        return self.names[int(np.argmax(self.estimate))]

    def indistinguishable_from_best(self) -> list[str]:
        """Strategies whose paired difference to the best has an interval reaching 0.

        The best itself comes first; the rest in the order of their estimates.
        """
        best = self.best()
        group = [best]
        order = np.argsort(-self.estimate, kind="stable")
        for i in order:
            name = self.names[i]
            if name != best and self.difference(best, name)[1] <= 0.0:
                group.append(name)
        return group


def _percentiles(values: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


#: ``score(index, row_weights, seed_weights) -> {metric: replicate values}``: see
#: :func:`paired_bootstrap`.
ReplicateScore = Callable[[int, np.ndarray, np.ndarray], dict[str, np.ndarray]]


def paired_bootstrap(
    names: Sequence[str],
    score: ReplicateScore,
    *,
    n_test: int,
    n_seeds: int,
    strata_sizes: Sequence[int] | None = None,
    n_replicates: int = 2000,
    level: float = 0.95,
    seed: int = 0,
    chunk: int | None = None,
) -> dict[str, Bootstrap]:
    """Paired bootstrap over test samples and seeds, for any metric(s); one draw for all.

    Each replicate draws how often every test sample is taken (multinomial
    counts, within each stratum when ``strata_sizes`` is given, else over
    all samples) and how often every seed is taken; every strategy is scored
    on the *same* draws, so differences between strategies are paired.

    Parameters
    ----------
    names : sequence of str
        Strategies; ``score`` is called with their index.
    score : callable ``(index, row_weights, seed_weights) -> dict``
        ``row_weights`` has shape ``(b, n_test)`` (draw counts, float32),
        ``seed_weights`` shape ``(b, n_seeds)`` (draw shares, summing to 1);
        returns, for each metric name, the ``b`` replicate values of strategy
        ``index``. Called once with ``b = 1``, all-one row weights and equal
        seed weights for the point estimate.
    n_test, n_seeds : int
        Test samples (sorted by stratum when strata are used) and seeds.
    strata_sizes : sequence of int, default=None
        Sizes of consecutive strata of the test samples (e.g. classes).
    n_replicates : int, default=2000
    level : float, default=0.95
    seed : int, default=0
    chunk : int, default=None
        Replicates drawn at once (default: about 2e7 / (n_test * strategies)).

    Returns
    -------
    dict of str to Bootstrap
        One :class:`Bootstrap` per metric, with the same replicates' draws.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.stats import paired_bootstrap
    >>> hits = {"a": np.ones((1, 50)), "b": np.zeros((1, 50))}  # (seeds, test samples)
    >>> def accuracy(i, rows, seeds):
    ...     per_seed = rows @ hits["ab"[i]].T / rows.sum(axis=1, keepdims=True)
    ...     return {"accuracy": (per_seed * seeds).sum(axis=1)}
    >>> boot = paired_bootstrap(["a", "b"], accuracy, n_test=50, n_seeds=1, n_replicates=100)
    >>> boot["accuracy"].estimate.tolist(), boot["accuracy"].interval("b")
    ([1.0, 0.0], (0.0, 0.0))
    """
    names = list(names)
    sizes = [n_test] if strata_sizes is None else [int(m) for m in strata_sizes]
    if sum(sizes) != n_test:
        raise ValueError(f"`strata_sizes` sum to {sum(sizes)}, not n_test={n_test}.")
    ones = np.ones((1, n_test), dtype=np.float32)
    equal = np.full((1, n_seeds), 1.0 / n_seeds, dtype=np.float32)
    first = [score(s, ones, equal) for s in range(len(names))]
    metrics = list(first[0])
    estimates = {m: np.array([float(f[m][0]) for f in first]) for m in metrics}
    replicates = {m: np.empty((n_replicates, len(names))) for m in metrics}
    rng = np.random.default_rng([seed, 7001])
    step = chunk or max(1, int(2e7 // max(1, n_test * len(names))))
    uniform = [np.full(m, 1.0 / m) for m in sizes]
    for lo in range(0, n_replicates, step):
        b = min(step, n_replicates - lo)
        rows = np.concatenate(
            [rng.multinomial(m, p, size=b) for m, p in zip(sizes, uniform)], axis=1
        ).astype(np.float32)  # (b, n_test)
        seeds = (
            rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=b).astype(np.float32)
            / n_seeds
        )  # (b, R)
        for s in range(len(names)):
            for m, values in score(s, rows, seeds).items():
                replicates[m][lo : lo + b, s] = values
    return {
        m: Bootstrap(names=names, estimate=estimates[m], replicates=replicates[m], level=level)
        for m in metrics
    }


def bootstrap_balanced_accuracy(
    y_true: np.ndarray,
    predictions: dict[str, np.ndarray],
    *,
    n_replicates: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> Bootstrap:
    """Paired, class-stratified bootstrap of balanced accuracy over test samples and seeds.

    Parameters
    ----------
    y_true : ndarray of shape (n_test,)
        Test labels, integer codes.
    predictions : dict of str to ndarray of shape (n_seeds, n_test)
        Predicted codes of each strategy, one row per training seed (the same
        seeds, in the same order, for every strategy).
    n_replicates : int, default=2000
    level : float, default=0.95
    seed : int, default=0

    Returns
    -------
    Bootstrap

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.stats import bootstrap_balanced_accuracy
    >>> y = np.repeat([0, 1], 50)
    >>> perfect, coin = y[None, :], np.zeros((1, 100), dtype=int)
    >>> boot = bootstrap_balanced_accuracy(y, {"perfect": perfect, "coin": coin})
    >>> boot.estimate.tolist(), boot.interval("perfect")
    ([1.0, 0.5], (1.0, 1.0))
    >>> boot.indistinguishable_from_best()
    ['perfect']
    """
    names = list(predictions)
    y_true = np.asarray(y_true, dtype=np.int64)
    order = np.argsort(y_true, kind="stable")
    y_sorted = y_true[order]
    _, sizes = np.unique(y_sorted, return_counts=True)
    # preds[s][r]: strategy s, seed r, test samples sorted by class.
    preds = [np.asarray(predictions[n])[:, order] for n in names]

    def score(s: int, rows: np.ndarray, seeds: np.ndarray) -> dict[str, np.ndarray]:
        # Within-class draws keep each class's weight at its size, so the seed mixture of the
        # per-seed balanced accuracies is the balanced accuracy of the mixture.
        per_seed = np.stack(
            [balanced_accuracy(y_sorted, p, sample_weight=rows) for p in preds[s]], axis=1
        )  # (b, n_seeds)
        return {"balanced_accuracy": (per_seed * seeds).sum(axis=1)}

    return paired_bootstrap(
        names, score, n_test=len(y_true), n_seeds=preds[0].shape[0], strata_sizes=sizes,
        n_replicates=n_replicates, level=level, seed=seed,
    )["balanced_accuracy"]  # fmt: skip


def _tie_ends(sorted_scores: np.ndarray) -> np.ndarray:
    """For scores sorted descending along axis 0: the last index of each entry's tie group."""
    n = sorted_scores.shape[0]
    is_end = np.ones(sorted_scores.shape, dtype=bool)
    is_end[:-1] = sorted_scores[1:] != sorted_scores[:-1]
    index = np.where(is_end, np.arange(n)[:, None], n)
    return np.minimum.accumulate(index[::-1], axis=0)[::-1]  # next end at or after i


def weighted_average_precision(
    Y: np.ndarray, scores: np.ndarray, row_weights: np.ndarray
) -> np.ndarray:
    """Average precision of every label under row weights (bootstrap draw counts), vectorized.

    Equals scikit-learn's ``average_precision_score`` of the data set in which
    row ``i`` is repeated ``row_weights[:, i]`` times (ties between scores are
    one threshold, as there).

    Parameters
    ----------
    Y : ndarray of shape (n, n_labels)
        0/1 labels.
    scores : ndarray of shape (n, n_labels)
    row_weights : ndarray of shape (b, n)
        Whole-number weights (how often each row is drawn).

    Returns
    -------
    ndarray of shape (b, n_labels)
        NaN where a label has no (weighted) positive.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.stats import weighted_average_precision
    >>> Y = np.array([[1], [0], [1], [0]])
    >>> S = np.array([[0.9], [0.8], [0.7], [0.1]])
    >>> weighted_average_precision(Y, S, np.ones((1, 4))).round(4).tolist()  # (1 + 2/3) / 2
    [[0.8333]]
    """
    Y = np.asarray(Y)
    scores = np.asarray(scores)
    order = np.argsort(-scores, axis=0, kind="stable")  # (n, L)
    ends = _tie_ends(np.take_along_axis(scores, order, axis=0))
    # Replicates last: gathering rows and summing down axis 0 run over contiguous memory.
    weights_t = np.ascontiguousarray(np.asarray(row_weights, dtype=np.float32).T)  # (n, b)
    out = np.full((weights_t.shape[1], scores.shape[1]), np.nan)
    for label in range(scores.shape[1]):  # one pass per label; rows are handled as arrays
        rows = order[:, label]
        positions = np.flatnonzero(Y[rows, label])  # the positives, in score order
        if len(positions) == 0:
            continue
        w = weights_t[rows]  # (n, b): draw counts in score order
        # Precision is read at the end of each positive's tie group (one threshold per score).
        unique_ends, which = np.unique(ends[positions, label], return_inverse=True)
        starts = np.r_[0, unique_ends[:-1] + 1]
        seen = np.cumsum(np.add.reduceat(w[: unique_ends[-1] + 1], starts, axis=0), axis=0)
        hits = w[positions]  # (P, b)
        tp = np.cumsum(hits, axis=0)[np.searchsorted(positions, unique_ends, "right") - 1]
        # Counts are whole numbers: seen >= 1 wherever a positive is drawn.
        precision = (tp / np.maximum(seen, 1.0))[which]
        total = hits.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, label] = (hits * precision).sum(axis=0) / np.where(total > 0, total, np.nan)
    return out


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Probabilities of logits, without overflow warnings.

    Examples
    --------
    >>> from classbalance.compare.stats import sigmoid
    >>> sigmoid([-1000.0, 0.0, 1000.0]).tolist()
    [0.0, 0.5, 1.0]
    """
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(logits, dtype=np.float64)))


def mean_average_precision(Y: np.ndarray, scores: np.ndarray) -> float:
    """mAP over the labels with positives (scikit-learn's AP per label).

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.stats import mean_average_precision
    >>> mean_average_precision(np.array([[1, 0], [0, 1]]), np.array([[0.9, 0.1], [0.2, 0.8]]))
    1.0
    """
    ap = weighted_average_precision(Y, scores, np.ones((1, len(Y)), dtype=np.float32))[0]
    return float(np.nanmean(ap)) if np.isfinite(ap).any() else 0.0


def _nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    present = ~np.isnan(values)
    count = present.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.where(present, values, 0.0).sum(axis=axis) / count, np.nan)


def bootstrap_multilabel(
    Y_test: np.ndarray,
    scores: dict[str, np.ndarray],
    decisions: dict[str, dict[str, np.ndarray]],
    *,
    groups: dict[str, np.ndarray] | None = None,
    n_replicates: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, Bootstrap]:
    """Paired bootstrap of mAP, group mAPs and macro-F1s over test rows (not stratified) and seeds.

    Parameters
    ----------
    Y_test : ndarray of shape (n_test, n_labels)
        0/1 test labels.
    scores : dict of str to ndarray of shape (n_seeds, n_test, n_labels)
        Scores of each strategy (probabilities or logits), one block per seed.
    decisions : dict of str to (dict of str to ndarray of shape (n_seeds, n_test, n_labels))
        For each decision rule (e.g. ``"macro_f1"`` at 0.5, ``"macro_f1_tuned"``),
        the 0/1 predictions of each strategy; scored by macro-F1
        (``zero_division=0``, every label counted, as scikit-learn does).
    groups : dict of str to ndarray of label indices, default=None
        E.g. head / medium / tail labels: adds ``"<group>_mAP"`` metrics.
    n_replicates, level, seed :
        As in :func:`paired_bootstrap`.

    Returns
    -------
    dict of str to Bootstrap
        ``"mAP"`` (mean AP over labels with test positives in the replicate),
        the group mAPs, and one entry per decision rule.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.stats import bootstrap_multilabel
    >>> Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]] * 10)
    >>> good, bad = Y[None] * 0.8 + 0.1, np.full((1, 40, 2), 0.5)
    >>> boot = bootstrap_multilabel(Y, {"good": good, "bad": bad},
    ...                             {"macro_f1": {"good": good > 0.5, "bad": bad > 0.5}})
    >>> boot["mAP"].estimate.tolist(), boot["macro_f1"].estimate.tolist()
    ([1.0, 0.5], [1.0, 0.0])
    """
    names = list(scores)
    Y = np.asarray(Y_test, dtype=np.float32)
    n_test, n_labels = Y.shape
    blocks = {n: np.asarray(scores[n], dtype=np.float64) for n in names}
    n_seeds = blocks[names[0]].shape[0]
    counts = {}  # rule -> strategy -> (R, n, 3 L): true positives, false positives, false negatives
    for rule, preds in decisions.items():
        counts[rule] = {}
        for n in names:
            p = np.asarray(preds[n], dtype=np.float32)
            counts[rule][n] = np.concatenate([p * Y, p * (1 - Y), (1 - p) * Y], axis=2)
    groups = {g: np.asarray(idx) for g, idx in (groups or {}).items() if len(idx)}

    def score(s: int, rows: np.ndarray, seeds: np.ndarray) -> dict[str, np.ndarray]:
        name = names[s]
        out: dict[str, np.ndarray] = {}
        per_seed: dict[str, list[np.ndarray]] = {}
        for r in range(n_seeds):
            ap = weighted_average_precision(Y, blocks[name][r], rows)  # (b, L)
            per_seed.setdefault("mAP", []).append(_nanmean(ap, axis=1))
            for g, idx in groups.items():
                per_seed.setdefault(f"{g}_mAP", []).append(_nanmean(ap[:, idx], axis=1))
            for rule in decisions:
                tp, fp, fn = np.split(rows @ counts[rule][name][r], 3, axis=1)  # (b, L) each
                den = 2 * tp + fp + fn
                with np.errstate(invalid="ignore", divide="ignore"):
                    f1 = np.where(den > 0, 2 * tp / np.where(den > 0, den, 1.0), 0.0)
                per_seed.setdefault(rule, []).append(f1.mean(axis=1))
        for metric, values in per_seed.items():
            stacked = np.stack(values, axis=1)  # (b, R)
            # NaN (a group without positives in the draw) is left out of the seed mixture.
            present = ~np.isnan(stacked)
            weight = np.where(present, seeds, 0.0).sum(axis=1)
            total = np.where(present, stacked * seeds, 0.0).sum(axis=1)
            out[metric] = np.where(weight > 0, total / np.where(weight > 0, weight, 1.0), np.nan)
        return out

    chunk = max(1, int(4e6 // max(1, n_test * n_labels)))
    return paired_bootstrap(
        names, score, n_test=n_test, n_seeds=n_seeds, n_replicates=n_replicates,
        level=level, seed=seed, chunk=chunk,
    )  # fmt: skip


def shot_groups(train_counts: np.ndarray) -> dict[str, np.ndarray]:
    """Classes in each head / medium / tail group by training count (>100, 20–100, <20).

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.stats import shot_groups
    >>> {k: v.tolist() for k, v in shot_groups(np.array([500, 100, 20, 19, 1])).items()}
    {'head': [0], 'medium': [1, 2], 'tail': [3, 4]}
    """
    return frequency_groups(train_counts)


def group_recalls(
    y_true: np.ndarray, predictions: np.ndarray, groups: dict[str, np.ndarray], n_classes: int
) -> dict[str, Any]:
    """Mean recall over the classes of each group (present in the test set), seed-averaged."""
    recalls = class_recalls(y_true, np.atleast_2d(predictions), n_classes)  # (n_seeds, K)
    recall = recalls.mean(axis=0)  # NaN for classes absent from the test set
    out: dict[str, Any] = {}
    for name, members in groups.items():
        values = recall[members]
        values = values[~np.isnan(values)]
        out[name] = float(values.mean()) if len(values) else None
    return out
