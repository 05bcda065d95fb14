"""How many samples of each class an epoch holds: the engine's one table of strategies.

:func:`resolve_targets` turns a sampling ``strategy`` (or ``alpha``) and an
``epoch_size`` into a :class:`Targets`, the per-epoch target counts of
:class:`classbalance.BalancedSampler`. The epoch-size rule lives here, once:
a size alone means ``"balanced"`` at that size, and a strategy that fixes
its own size refuses a size it would ignore.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from classbalance._streams import TIES
from classbalance._validation import check_fraction, check_positive_int, rng_for, short_repr

__all__ = [
    "SAMPLING_STRATEGIES",
    "AlphaLike",
    "StrategyLike",
    "Targets",
    "alpha_shares",
    "alpha_weights",
    "check_targets",
    "progressive_alpha",
    "resolve_targets",
]

SAMPLING_STRATEGIES = ("oversample", "undersample", "balanced")

AlphaLike = float | Callable[[int], float]
StrategyLike = str | Mapping[Any, float] | Callable[[np.ndarray], Any] | None


def alpha_weights(counts: np.ndarray, alpha: float) -> np.ndarray:
    """Unnormalized ``n_c ** alpha``, 0 for empty classes (largest remainder normalizes once)."""
    return np.where(counts > 0, np.power(counts.astype(np.float64), alpha), 0.0)


def _largest_remainder(shares: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Integer counts summing to ``total``, proportional to ``shares``; ties broken by ``rng``."""
    exact = shares / shares.sum() * total
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    if short > 0:
        remainder = exact - counts
        # Random key only breaks ties between equal remainders.
        key = np.lexsort((rng.random(len(shares)), -remainder))
        eligible = key[shares[key] > 0]
        counts[eligible[:short]] += 1
    return counts


class Targets:
    """Target counts per epoch; a plain object (not a closure) so samplers pickle.

    ``strategy`` is the strategy in use after the defaults (``None`` with
    ``alpha``); ``sized`` says whether the targets read the epoch size.
    """

    def __init__(
        self,
        kind: str,
        counts: np.ndarray,
        seed: int,
        size: int,
        *,
        strategy: StrategyLike = None,
        fixed: np.ndarray | None = None,
        alpha: AlphaLike | None = None,
        sized: bool = False,
    ) -> None:
        self.kind = kind
        self.counts = counts
        self.seed = seed
        self.size = size
        self.strategy = strategy
        self.fixed = fixed
        self.alpha = alpha
        self.sized = sized

    def __call__(self, epoch: int) -> np.ndarray:
        if self.kind == "fixed":
            assert self.fixed is not None
            return self.fixed
        present = self.counts > 0
        ties = rng_for(self.seed, TIES, epoch, 0)
        if self.kind == "balanced":
            return _largest_remainder(present.astype(np.float64), self.size, ties)
        a = self.alpha(epoch) if callable(self.alpha) else self.alpha
        a = check_fraction(a, f"alpha({epoch})")
        return _largest_remainder(alpha_weights(self.counts, a), self.size, ties)


def check_targets(targets: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Target counts as int64, one per class, refused if negative, empty or asking for none."""
    if targets.shape != counts.shape or targets.dtype.kind not in "iuf":
        raise ValueError(
            f"Target counts must be {len(counts)} numbers, one per class. "
            f"Received: {short_repr(targets.tolist())}"
        )
    if np.any(targets < 0) or np.any(np.mod(targets, 1) != 0):
        raise ValueError(f"Target counts must be integers >= 0. Received: {targets.tolist()}")
    targets = targets.astype(np.int64)
    if np.any((targets > 0) & (counts == 0)):
        raise ValueError("Target counts ask for samples of a class that has none.")
    if targets.sum() == 0:
        raise ValueError("Target counts are all 0; an epoch would be empty.")
    return targets


def _from_mapping(
    mapping: Mapping[Any, Any], counts: np.ndarray, classes: np.ndarray, size: int
) -> tuple[np.ndarray, bool]:
    """Targets from ``{class: count or fraction}``, and whether a fraction read ``size``."""
    lookup = {v: i for i, v in enumerate(classes.tolist())}
    targets = counts.copy()
    sized = False
    for key, value in mapping.items():
        plain = key.item() if isinstance(key, np.generic) else key
        if plain not in lookup:
            raise ValueError(
                f"`strategy` names class {plain!r}, which is not in y. "
                f"Classes: {classes.tolist()[:20]}"
            )
        i = lookup[plain]
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
            raise ValueError(
                f"`strategy` values must be counts (int >= 0) or fractions (float in [0, 1]). "
                f"Received: {plain!r}: {value!r}"
            )
        if isinstance(value, numbers.Integral):
            targets[i] = int(value)
        else:
            sized = True
            targets[i] = round(check_fraction(float(value), f"strategy[{plain!r}]") * size)
        if targets[i] > 0 and counts[i] == 0:
            raise ValueError(
                f"`strategy` asks for {targets[i]} samples of class {plain!r}, which has none."
            )
    return check_targets(targets, counts), sized


def _resolve(
    strategy: StrategyLike,
    alpha: AlphaLike | None,
    counts: np.ndarray,
    classes: np.ndarray,
    seed: int,
    size: int,
) -> Targets:
    present = counts > 0
    if alpha is not None:
        if strategy is not None:
            raise ValueError(
                "Pass either `strategy` or `alpha`, not both. "
                f"Received: strategy={short_repr(strategy)}, alpha={short_repr(alpha)}"
            )
        if not callable(alpha):
            alpha = check_fraction(alpha, "alpha")
        return Targets("alpha", counts, seed, size, alpha=alpha, sized=True)
    if strategy is None:
        strategy = "oversample"
    if isinstance(strategy, str):
        if strategy == "oversample":
            fixed = np.where(present, counts.max(), 0)
            return Targets("fixed", counts, seed, size, strategy=strategy, fixed=fixed)
        if strategy == "undersample":
            fixed = np.where(present, counts[present].min(), 0)
            return Targets("fixed", counts, seed, size, strategy=strategy, fixed=fixed)
        if strategy == "balanced":
            return Targets("balanced", counts, seed, size, strategy=strategy, sized=True)
        allowed = ", ".join(repr(s) for s in SAMPLING_STRATEGIES)
        raise ValueError(
            f"`strategy` must be one of {allowed}, a dict {{class: count or fraction}} or a "
            f"callable. Received: strategy={strategy!r}"
        )
    if isinstance(strategy, Mapping):
        fixed, sized = _from_mapping(strategy, counts, classes, size)
        return Targets("fixed", counts, seed, size, strategy=strategy, fixed=fixed, sized=sized)
    if callable(strategy):
        result = strategy(counts.copy())
        if isinstance(result, Mapping):
            fixed, sized = _from_mapping(result, counts, classes, size)
        else:
            fixed, sized = check_targets(np.asarray(result), counts), False
        return Targets("fixed", counts, seed, size, strategy=strategy, fixed=fixed, sized=sized)
    raise TypeError(
        "`strategy` must be a str, a dict or a callable. "
        f"Received: strategy={short_repr(strategy)} of type {type(strategy).__name__}"
    )


def resolve_targets(
    strategy: StrategyLike,
    alpha: AlphaLike | None,
    *,
    counts: np.ndarray,
    classes: np.ndarray,
    seed: int,
    epoch_size: int | None,
    n_samples: int,
) -> Targets:
    """The :class:`Targets` of a strategy, with the one epoch-size rule.

    ``epoch_size`` given without ``strategy`` and ``alpha`` means
    ``strategy="balanced"`` at that size; a strategy that fixes its own size
    (``"oversample"``, ``"undersample"``, a dict of counts only, a callable
    returning counts) would ignore it, so it is a ``ValueError``.
    """
    if epoch_size is not None and strategy is None and alpha is None:
        strategy = "balanced"
    size = n_samples if epoch_size is None else epoch_size
    targets = _resolve(strategy, alpha, counts, classes, seed, size)
    if epoch_size is not None and not targets.sized:
        raise ValueError(
            "`epoch_size` (`num_samples` in the torch adapters) sets the size of an epoch of "
            f"strategy='balanced', `alpha` or fractions; strategy={short_repr(targets.strategy)} "
            "fixes its own size and would ignore it. Use strategy='balanced' (or alpha, or "
            "fractions in a dict) for that many samples per epoch, or drop `epoch_size`. "
            f"Received: epoch_size={epoch_size}"
        )
    return targets


class _LinearSchedule:
    """Picklable linear alpha schedule (DataLoader workers and Keras processes pickle it)."""

    def __init__(self, n_epochs: int, start: float, end: float) -> None:
        self.n_epochs, self.start, self.end = n_epochs, start, end

    def __call__(self, epoch: int) -> float:
        t = min(epoch / max(self.n_epochs - 1, 1), 1.0)
        return self.start + (self.end - self.start) * t

    def __repr__(self) -> str:
        return f"progressive_alpha({self.n_epochs}, start={self.start}, end={self.end})"


def progressive_alpha(
    n_epochs: int, *, start: float = 1.0, end: float = 0.0
) -> Callable[[int], float]:
    """A schedule for ``alpha`` going linearly from ``start`` to ``end``.

    ``alpha=1`` samples classes in their natural proportions and ``alpha=0``
    balances them; moving from one to the other over training is the
    "progressively balanced" sampling of Kang et al. (ICLR 2020).

    Examples
    --------
    >>> from classbalance.sampling import progressive_alpha
    >>> schedule = progressive_alpha(5)
    >>> [schedule(e) for e in range(6)]
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    return _LinearSchedule(
        check_positive_int(n_epochs, "n_epochs"),
        check_fraction(start, "start"),
        check_fraction(end, "end"),
    )


def alpha_shares(counts: Any, alpha: float) -> np.ndarray:
    """Class shares of an ``alpha`` plan: ``n_c ** alpha``, normalized; 0 for empty classes.

    The one meaning of ``alpha`` in the package (sampler, adapters, folders):
    0 is balanced, 0.5 square-root, 1 natural proportions.

    Examples
    --------
    >>> from classbalance.sampling import alpha_shares
    >>> alpha_shares([90, 10, 0], 0.5).round(3).tolist()
    [0.75, 0.25, 0.0]
    """
    shares = alpha_weights(np.asarray(counts), check_fraction(alpha, "alpha"))
    return shares / shares.sum()
