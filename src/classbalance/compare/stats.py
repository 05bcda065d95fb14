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

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SHOT_GROUPS", "Bootstrap", "bootstrap_balanced_accuracy", "shot_groups"]

# Long-tail literature's split by training images per class (e.g. Liu et al. 2019, OLTR).
SHOT_GROUPS = (("many", 101, None), ("medium", 20, 100), ("few", 0, 19))


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
    _, starts, sizes = np.unique(y_sorted, return_index=True, return_counts=True)
    # correct[s, r, i]: strategy s, seed r got sorted test sample i right.
    correct = np.stack(
        [(np.asarray(predictions[n])[:, order] == y_sorted).astype(np.float32) for n in names]
    )
    n_strategies, n_seeds, n_test = correct.shape
    per_class = np.add.reduceat(correct, starts, axis=2) / sizes  # (S, R, K) recalls
    estimate = per_class.mean(axis=2).mean(axis=1)
    rng = np.random.default_rng([seed, 7001])
    replicates = np.empty((n_replicates, n_strategies))
    chunk = max(1, int(2e7 // max(1, n_test * n_strategies)))
    uniform_class = [np.full(m, 1.0 / m) for m in sizes]
    for lo in range(0, n_replicates, chunk):
        b = min(chunk, n_replicates - lo)
        # Multinomial counts: how often each test sample is drawn, within its class.
        weights = np.concatenate(
            [rng.multinomial(m, p, size=b) for m, p in zip(sizes, uniform_class)], axis=1
        ).astype(np.float32)  # (b, n_test)
        seed_w = (
            rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=b).astype(np.float32)
            / n_seeds
        )  # (b, R)
        for s in range(n_strategies):
            mixed = seed_w @ correct[s]  # (b, n_test): seed-averaged correctness
            recalls = np.add.reduceat(weights * mixed, starts, axis=1) / sizes
            replicates[lo : lo + b, s] = recalls.mean(axis=1)
    return Bootstrap(names=names, estimate=estimate, replicates=replicates, level=level)


def shot_groups(train_counts: np.ndarray) -> dict[str, np.ndarray]:
    """Classes in each many- / medium- / few-shot group by training count (>100, 20–100, <20).

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.stats import shot_groups
    >>> {k: v.tolist() for k, v in shot_groups(np.array([500, 100, 20, 19, 1])).items()}
    {'many': [0], 'medium': [1, 2], 'few': [3, 4]}
    """
    counts = np.asarray(train_counts)
    groups = {}
    for name, low, high in SHOT_GROUPS:
        mask = counts >= low if high is None else (counts >= low) & (counts <= high)
        groups[name] = np.flatnonzero(mask)
    return groups


def group_recalls(
    y_true: np.ndarray, predictions: np.ndarray, groups: dict[str, np.ndarray], n_classes: int
) -> dict[str, Any]:
    """Mean recall over the classes of each group (present in the test set), seed-averaged."""
    y_true = np.asarray(y_true)
    counts = np.bincount(y_true, minlength=n_classes)
    recalls = []
    for pred in np.atleast_2d(predictions):
        hits = np.bincount(y_true[pred == y_true], minlength=n_classes)
        recalls.append(np.divide(hits, counts, out=np.full(n_classes, np.nan), where=counts > 0))
    recall = np.stack(recalls).mean(axis=0)  # NaN for classes absent from the test set
    out: dict[str, Any] = {}
    for name, members in groups.items():
        values = recall[members]
        values = values[~np.isnan(values)]
        out[name] = float(values.mean()) if len(values) else None
    return out
