"""Honest statistics for ``compare``: intervals, paired differences, the best group.

Balanced accuracy is the mean recall over the classes present in the test set.
The estimate is its mean over the training seeds, and the interval is for what
that mean estimates: the expected score of a run over training seeds *and*
test sets. Its uncertainty has three parts (a crossed design: every seed is
scored on every test sample):

- the **test samples**: a bootstrap redraws the test set with replacement
  *within each class* (so every class keeps its test count; a class-stratified
  bootstrap, the natural one for a metric that averages per-class recalls) and
  scores the seed-averaged predictions;
- the **training seeds**: the spread of the per-seed scores on the whole test
  set. It also holds the seed-by-sample interaction that the redrawn test
  samples already carry, so that part is taken out of the test-sample term
  once (estimated from the per-seed scores of the redrawn test sets), not
  counted twice;
- **few seeds**: the seed spread is estimated from ``n_seeds - 1`` degrees of
  freedom, so the replicates get Student-t tails with the Welch-Satterthwaite
  degrees of freedom of the sum (``n_seeds - 1`` when the seeds dominate,
  normal when the test samples do; computed with the seed variance at an upper
  confidence bound, see ``_SEED_VARIANCE_QUANTILE``). Three seeds whose scores
  disagree give a wide interval, as they should.

Each replicate is ``estimate + s * (k * (test-sample replicate - estimate) +
seed term)``: ``k`` removes the interaction, the seed term is a Gaussian
combination of the per-seed scores (``sum g_r (T_r - mean T) / sqrt(R (R - 1))``,
variance ``var(T) / R``), ``s = sqrt(nu / chi2_nu)`` with the Satterthwaite
``nu``. With one seed there is no seed term: the interval is about that one
trained model. Every strategy sees the same redraws, Gaussian draws and
quantiles, and a difference between strategies is computed from the
difference of their scores on those draws, so it is *paired*.
Calibration (coverage of the expected score over seeds and test sets, from
both sides) is checked in ``tests/test_interval_calibration.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from classbalance.compare.ranking import weighted_average_precision
from classbalance.metrics import (
    FREQUENCY_BOUNDS,
    FREQUENCY_GROUPS,
    balanced_accuracy,
    class_recalls,
)

__all__ = [
    "SHOT_GROUPS",
    "Bootstrap",
    "SeedParts",
    "bootstrap_balanced_accuracy",
    "bootstrap_multilabel",
    "paired_bootstrap",
]

# The Satterthwaite degrees of freedom of an interval use the seed variance's one-sided
# upper confidence bound (the chi-square quantile 0.3 of its n_seeds - 1 degrees of
# freedom). Chosen by simulation (2, 3, 5 and 10 seeds, the seeds' share of the variance
# from 0 to 1, Gaussian parts) as the flattest coverage of nominal 95%: 0.946-0.960 at 3
# seeds, 0.949-0.955 at 5, 0.935-0.968 at 2. The plug-in seed variance gives 0.92 at 3
# seeds and 0.87 at 2 (liberal); t tails on the seed term alone give up to 0.978 at 3
# seeds and 0.987 at 2 (conservative).
_SEED_VARIANCE_QUANTILE = 0.3

# (name, lowest, highest) training count of each group of classbalance.metrics.frequency_groups.
SHOT_GROUPS = (
    (FREQUENCY_GROUPS[0], FREQUENCY_BOUNDS[1] + 1, None),
    (FREQUENCY_GROUPS[1], *FREQUENCY_BOUNDS),
    (FREQUENCY_GROUPS[2], 0, FREQUENCY_BOUNDS[0] - 1),
)


@dataclass
class SeedParts:
    """What a contrast's replicates are built from (see the module docstring).

    Attributes
    ----------
    rows : ndarray of shape (n_replicates, n_strategies)
        Test-sample replicates of the seed-averaged score (equal seed weights).
    per_seed : ndarray of shape (n_seeds, n_strategies)
        Each seed's score on the whole test set.
    per_seed_rows : ndarray of shape (n_noise, n_seeds, n_strategies)
        Each seed's score on the first ``n_noise`` redrawn test sets: their
        spread across seeds is the seed-by-sample interaction.
    normal : ndarray of shape (n_replicates, n_seeds)
        Standard normal multipliers of the seed term.
    uniform : ndarray of shape (n_replicates,)
        Quantiles of the chi-square scale (Student-t tails).
    """

    rows: np.ndarray
    per_seed: np.ndarray
    per_seed_rows: np.ndarray
    normal: np.ndarray
    uniform: np.ndarray

    def replicates(self, weights: np.ndarray | None, center: np.ndarray) -> np.ndarray:
        """Replicates of contrasts of the strategies, shape (n_replicates, k).

        ``weights`` (n_strategies, k): each column a contrast (e.g. +1 and -1 for a
        difference); None: every strategy alone. ``center``: the contrasts' estimates.
        """
        from scipy.special import gammaincinv

        if weights is None:
            rows, per_seed, per_seed_rows = self.rows, self.per_seed, self.per_seed_rows
        else:
            used = np.flatnonzero(np.any(weights != 0, axis=1))  # e.g. the two of a difference
            weights = weights[used]
            rows = self.rows[:, used] @ weights
            per_seed = self.per_seed[:, used] @ weights
            per_seed_rows = self.per_seed_rows[:, :, used] @ weights
        n_seeds = per_seed.shape[0]
        if n_seeds < 2:
            return rows
        df = n_seeds - 1
        t = per_seed - per_seed.mean(axis=0)
        seed_var = (t * t).sum(axis=0) / df / n_seeds
        # Variance of one seed's score from the test samples beyond what all seeds share.
        noise = np.zeros(per_seed.shape[1])
        if len(per_seed_rows) > 1:
            d = per_seed_rows - per_seed_rows.mean(axis=1, keepdims=True)
            noise = np.nanvar(d, axis=0, ddof=1).sum(axis=0) / df
        row_var = np.nanvar(rows, axis=0, ddof=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            shrink = np.where(
                row_var > 0, np.sqrt(np.clip(1.0 - noise / n_seeds / row_var, 0.0, 1.0)), 1.0
            )
            # Welch-Satterthwaite degrees of freedom, with the seed variance at its upper
            # bound (see _SEED_VARIANCE_QUANTILE): with the plug-in value the interval is
            # liberal when few seeds dominate (coverage 0.92 at 3 seeds).
            upper = seed_var * df / (2.0 * gammaincinv(df / 2.0, _SEED_VARIANCE_QUANTILE))
            total = shrink**2 * row_var + upper
            nu = np.where(seed_var > 0, total**2 / (upper**2 / df), np.inf)
        seed_term = self.normal @ t / np.sqrt(n_seeds * df)
        scale = np.ones(rows.shape)
        finite = np.isfinite(nu) & (nu < 1e7)  # beyond: chi2_nu / nu is 1 to 1e-3
        if finite.any():
            nu_f = nu[finite][None, :]
            u = np.clip(self.uniform, 1e-12, 1.0 - 1e-12)[:, None]
            scale[:, finite] = np.sqrt(nu_f / (2.0 * gammaincinv(nu_f / 2.0, u)))
        return center + scale * (shrink * (rows - center) + seed_term)


@dataclass
class Bootstrap:
    """Bootstrap replicates of a score for every strategy, paired.

    Attributes
    ----------
    names : list of str
        Strategies, in the order of the columns.
    estimate : ndarray of shape (n_strategies,)
        The score averaged over seeds (no resampling).
    replicates : ndarray of shape (n_replicates, n_strategies)
        Replicates of each strategy's score (test samples and seeds).
    level : float
        Coverage of :meth:`interval` and :meth:`difference`.
    parts : SeedParts or None
        The pieces the replicates are made of; a difference is rebuilt from
        them (its seed and interaction terms are those of the difference).
        None: intervals are percentiles of ``replicates``.
    """

    names: list[str]
    estimate: np.ndarray
    replicates: np.ndarray
    level: float = 0.95
    parts: SeedParts | None = field(default=None, repr=False)

    def _col(self, name: str) -> int:
        return self.names.index(name)

    def interval(self, name: str) -> tuple[float, float]:
        """Percentile interval of the strategy's score."""
        return _percentiles(self.replicates[:, self._col(name)], self.level)

    def difference(self, name: str, baseline: str) -> tuple[float, float, float]:
        """``(estimate, low, high)`` of ``name - baseline`` (paired)."""
        a, b = self._col(name), self._col(baseline)
        estimate = float(self.estimate[a] - self.estimate[b])
        if self.parts is None:
            diff = self.replicates[:, a] - self.replicates[:, b]
        else:
            weights = np.zeros((len(self.names), 1))
            weights[a, 0], weights[b, 0] = 1.0, -1.0
            diff = self.parts.replicates(weights, np.array([estimate]))[:, 0]
        low, high = _percentiles(diff, self.level)
        return estimate, low, high

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
    n_noise: int = 400,
) -> dict[str, Bootstrap]:
    """Paired bootstrap over test samples and seeds, for any metric(s); one draw for all.

    Each replicate draws how often every test sample is taken (multinomial
    counts, within each stratum when ``strata_sizes`` is given, else over
    all samples) and scores the seed-averaged predictions on it; the seeds'
    spread adds a seed term with Student-t tails (see the module docstring).
    Every strategy is scored on the *same* draws, so differences between
    strategies are paired.

    Parameters
    ----------
    names : sequence of str
        Strategies; ``score`` is called with their index.
    score : callable ``(index, row_weights, seed_weights) -> dict``
        ``row_weights`` has shape ``(b, n_test)`` (draw counts, float32),
        ``seed_weights`` shape ``(b, n_seeds)`` (shares summing to 1: equal,
        or one seed alone); returns, for each metric name, the ``b`` values
        of strategy ``index``. The metric of a seed mixture must be the
        mixture of the seeds' metrics (true of means over seeds).
    n_test, n_seeds : int
        Test samples (sorted by stratum when strata are used) and seeds.
    strata_sizes : sequence of int, default=None
        Sizes of consecutive strata of the test samples (e.g. classes).
    n_replicates : int, default=2000
    level : float, default=0.95
    seed : int, default=0
    chunk : int, default=None
        Replicates drawn at once (default: about 4e6 / n_test).
    n_noise : int, default=400
        Replicates (the first ones) on which each seed is also scored alone,
        to measure the seed-by-sample interaction.

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
    n_strategies = len(names)
    ones = np.ones((1, n_test), dtype=np.float32)
    equal = np.full((1, n_seeds), 1.0 / n_seeds, dtype=np.float32)
    one_seed = np.eye(n_seeds, dtype=np.float32)
    first = [score(s, ones, equal) for s in range(n_strategies)]
    metrics = list(first[0])
    estimates = {m: np.array([float(f[m][0]) for f in first]) for m in metrics}
    rows_part = {m: np.empty((n_replicates, n_strategies)) for m in metrics}
    n_noise = min(n_noise, n_replicates) if n_seeds > 1 else 0
    per_seed = {m: np.empty((n_seeds, n_strategies)) for m in metrics}
    per_seed_rows = {m: np.empty((n_noise, n_seeds, n_strategies)) for m in metrics}
    for s in range(n_strategies):
        for r in range(n_seeds):
            for m, values in score(s, ones, one_seed[r : r + 1]).items():
                per_seed[m][r, s] = values[0]
    rng = np.random.default_rng([seed, 7001])
    # A chunk's draws (b, n_test) are shared by the strategies, scored one at a time.
    step = chunk or max(1, int(4e6 // max(1, n_test)))
    uniform = [np.full(m, 1.0 / m) for m in sizes]
    for lo in range(0, n_replicates, step):
        b = min(step, n_replicates - lo)
        rows = np.concatenate(
            [rng.multinomial(m, p, size=b) for m, p in zip(sizes, uniform)], axis=1
        ).astype(np.float32)  # (b, n_test)
        noisy = rows[: max(0, n_noise - lo)]
        for s in range(n_strategies):
            for m, values in score(s, rows, np.repeat(equal, b, axis=0)).items():
                rows_part[m][lo : lo + b, s] = values
            for r in range(n_seeds if len(noisy) else 0):
                alone = np.repeat(one_seed[r : r + 1], len(noisy), axis=0)
                for m, values in score(s, noisy, alone).items():
                    per_seed_rows[m][lo : lo + len(noisy), r, s] = values
    draws = np.random.default_rng([seed, 7002])
    normal = draws.standard_normal((n_replicates, n_seeds))
    quantiles = draws.random(n_replicates)
    out = {}
    for m in metrics:
        parts = SeedParts(rows_part[m], per_seed[m], per_seed_rows[m], normal, quantiles)
        replicates = parts.replicates(None, estimates[m])
        out[m] = Bootstrap(names, estimates[m], replicates, level=level, parts=parts)
    return out


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
        active = np.flatnonzero(seeds.any(axis=0))  # seeds scored alone: only that one
        seeds = seeds[:, active]
        for r in active.tolist():
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
            stacked = np.stack(values, axis=1)  # (b, active seeds)
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
