"""Racing: spend the seeds on the strategies that can still win.

Every strategy runs seed 0. After each round of seeds, the strategy with the
best estimate so far is the *leader*; a strategy is dropped when the paired
bootstrap interval of ``leader - strategy`` (test samples and the seeds run
so far, :func:`classbalance.compare.stats.paired_bootstrap`) lies entirely
above 0 at the per-comparison level of :func:`racing_alpha`; the others (and
``none``, the baseline of every ``vs none`` interval, which always runs every
seed) get the next seed.

Why it drops the true best no more often than the intervals allow: let ``b``
be the strategy with the highest true score, ``m`` the strategies and ``R``
the seeds, so there are at most ``R - 1`` rounds with decisions. ``b`` is
dropped in a round only if, for the leader ``L`` of that round, the lower
bound of the one-sided interval of ``L - b`` is above 0 although the true
difference is <= 0: the interval misses. For a fixed ``L`` this has
probability at most ``alpha_c``; the leader is chosen from the data, but the
event lies in the union over the ``m - 1`` possible leaders, so its
probability in one round is at most ``(m - 1) alpha_c``, and over the rounds
(a union bound again) at most ``(R - 1)(m - 1) alpha_c = alpha`` (Bonferroni).
With ``alpha = 0.05`` the best strategy survives the race with probability
>= 95%, as often as one 95% interval covers; protecting ``none`` only removes
comparisons. The bound is as good as the intervals: with one seed an interval
sees the test samples' noise, not the seed-to-seed noise, which only the
later rounds resample; the strict per-comparison level (z = 2.84 instead of
1.96 for 12 strategies and 3 seeds) leaves room for seed noise up to about
the size of the test noise.

Examples
--------
>>> import numpy as np
>>> from classbalance.compare.racing import race_step, racing_alpha
>>> from classbalance.compare.stats import bootstrap_balanced_accuracy
>>> y = np.repeat([0, 1], 200)
>>> good = y[None].copy()
>>> close = good.copy(); close[0, :4] = 1  # 4 errors in 400
>>> bad = np.zeros((1, 400), dtype=int)    # always class 0
>>> preds = {"good": good, "close": close, "bad": bad}
>>> boot = bootstrap_balanced_accuracy(y, preds, n_replicates=4000)
>>> step = race_step(boot, ["good", "close", "bad"], alpha=racing_alpha(3, 3))
>>> step.leader, step.dropped, step.kept
('good', ['bad'], ['good', 'close'])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from classbalance.compare.stats import Bootstrap

__all__ = ["RACE_ALPHA", "RaceStep", "race_replicates", "race_step", "racing_alpha"]

RACE_ALPHA = 0.05  # chance, at most, that the race drops the truly best strategy


def racing_alpha(n_strategies: int, n_seeds: int, alpha: float = RACE_ALPHA) -> float:
    """One-sided level of each comparison: ``alpha / ((n_strategies - 1) (n_seeds - 1))``.

    Examples
    --------
    >>> from classbalance.compare.racing import racing_alpha
    >>> round(racing_alpha(12, 3), 5)
    0.00227
    """
    comparisons = max(1, n_strategies - 1) * max(1, n_seeds - 1)
    return alpha / comparisons


def race_replicates(alpha: float, minimum: int = 2000) -> int:
    """Bootstrap replicates for a percentile at ``alpha``: about 20 replicates beyond it.

    Examples
    --------
    >>> from classbalance.compare.racing import race_replicates
    >>> race_replicates(0.05 / 22)
    8800
    """
    return max(minimum, math.ceil(20 / alpha - 1e-9))


@dataclass
class RaceStep:
    """One decision of the race: who leads, who is dropped, and the intervals behind it."""

    leader: str
    dropped: list[str]
    kept: list[str]
    alpha: float
    seeds: int = 0
    differences: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "after_seeds": self.seeds,
            "leader": self.leader,
            "dropped": list(self.dropped),
            "kept": list(self.kept),
            "one_sided_alpha": self.alpha,
            "leader_minus": {k: list(v) for k, v in self.differences.items()},
        }


def race_step(
    boot: Bootstrap,
    alive: Sequence[str],
    *,
    alpha: float,
    keep: Sequence[str] = ("none",),
    seeds: int = 0,
) -> RaceStep:
    """Drop the strategies of ``alive`` that are clearly worse than the leader (a pure function).

    Parameters
    ----------
    boot : Bootstrap
        Paired replicates of (at least) the ``alive`` strategies.
    alive : sequence of str
        Strategies still in the race.
    alpha : float
        One-sided level of each comparison (:func:`racing_alpha`): a
        strategy is dropped when the ``alpha`` quantile of ``leader - it``
        over the replicates is above 0.
    keep : sequence of str, default=("none",)
        Never dropped (the baseline).
    seeds : int, default=0
        Seeds the replicates cover (recorded).

    Returns
    -------
    RaceStep
        ``kept`` in the order of ``alive``.
    """
    if not 0 < alpha < 0.5:
        raise ValueError(f"`alpha` must be in (0, 0.5). Received: alpha={alpha!r}")
    names = list(alive)
    estimate = {n: float(boot.estimate[boot.names.index(n)]) for n in names}
    leader = max(names, key=lambda n: estimate[n])  # ties: the first in `alive`
    strict = replace(boot, level=1.0 - 2.0 * alpha)
    dropped, differences = [], {}
    for name in names:
        if name == leader:
            continue
        differences[name] = strict.difference(leader, name)
        if name not in keep and differences[name][1] > 0.0:
            dropped.append(name)
    kept = [n for n in names if n not in dropped]
    return RaceStep(leader, dropped, kept, alpha, seeds, differences)
