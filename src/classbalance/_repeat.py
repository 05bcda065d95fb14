"""The repeat-factor rule (LVIS) and random rounding of repeat counts, shared by the
in-memory engine (:mod:`classbalance.sampling`) and the stream (:mod:`classbalance.stream`).

The repeat factor of class ``c`` is ``r_c = max(1, sqrt(t / f_c))`` where ``f_c``
is the fraction of samples that carry ``c`` and ``t`` the threshold (Gupta et
al., LVIS, CVPR 2019; detectron2's ``RepeatFactorTrainingSampler`` and
mmengine's ``ClassBalancedDataset``). A sample's factor is the largest factor
of its labels. A factor ``r`` becomes a whole number of copies by random
rounding: ``floor(r)`` copies, plus one with probability ``r - floor(r)``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from classbalance._validation import short_repr

__all__ = [
    "REPEAT_FACTOR",
    "RepeatFactor",
    "as_repeat_factor",
    "class_repeat_factors",
    "fixed_total_copies",
    "random_round",
    "repeat_factor",
    "sample_factors",
]

REPEAT_FACTOR = "repeat_factor"
_DEFAULT_THRESHOLD = 0.001  # LVIS's t


class RepeatFactor:
    """The strategy ``"repeat_factor"`` with threshold ``t`` (see :func:`repeat_factor`)."""

    def __init__(self, threshold: float = _DEFAULT_THRESHOLD) -> None:
        ok = isinstance(threshold, numbers.Real) and not isinstance(threshold, bool)
        if not ok or not 0 < float(threshold) <= 1:
            raise ValueError(
                "`threshold` of the repeat-factor rule must be a number in (0, 1] (the class "
                "frequency below which samples repeat). "
                f"Received: threshold={short_repr(threshold)}"
            )
        self.threshold = float(threshold)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RepeatFactor) and other.threshold == self.threshold

    def __hash__(self) -> int:
        return hash(("repeat_factor", self.threshold))

    def __repr__(self) -> str:
        return f"repeat_factor(threshold={self.threshold})"


def repeat_factor(threshold: float = 0.001) -> RepeatFactor:
    """The repeat-factor strategy (LVIS) with threshold ``t``: ``strategy=repeat_factor(t)``.

    Each epoch, sample ``i`` is repeated ``r_i`` times on average, ``r_i`` the
    largest of ``max(1, sqrt(t / f_c))`` over its classes (multi-label: its
    labels), ``f_c`` the fraction of samples carrying ``c``; the rule of
    detectron2's ``RepeatFactorTrainingSampler`` and mmengine's
    ``ClassBalancedDataset``. ``strategy="repeat_factor"`` is ``t = 0.001``.
    Rare classes are repeated, nothing is dropped. An epoch holds exactly
    ``round(sum(r_i))`` samples (the same every epoch, so ranks of
    ``torch.distributed`` stay in step): each sample ``floor(r_i)`` times and
    one more for a systematic sample of them, drawn with probability about
    ``r_i - floor(r_i)`` from ``(seed, epoch)``. Multi-label rows with no label
    count once.

    Examples
    --------
    >>> import numpy as np
    >>> import classbalance as cb
    >>> from classbalance.sampling import repeat_factor
    >>> y = np.array([0] * 990 + [1] * 10)
    >>> sampler = cb.BalancedSampler(y, repeat_factor(0.1), seed=0)
    >>> len(sampler), sampler.target_counts().tolist()  # class 1: sqrt(0.1 / 0.01) = 3.16x
    (1022, [990, 32])
    """
    return RepeatFactor(threshold)


def as_repeat_factor(strategy: Any) -> RepeatFactor | None:
    """The :class:`RepeatFactor` a strategy names, or None for any other strategy."""
    if isinstance(strategy, RepeatFactor):
        return strategy
    if isinstance(strategy, str) and strategy == REPEAT_FACTOR:
        return RepeatFactor()
    return None


def class_repeat_factors(counts: np.ndarray, n_samples: int, threshold: float) -> np.ndarray:
    """``max(1, sqrt(t / f_c))`` per class, ``f_c = counts / n_samples``; 0 for empty classes."""
    counts = np.asarray(counts, dtype=np.float64)
    freq = counts / max(n_samples, 1)
    with np.errstate(divide="ignore"):
        factors = np.maximum(1.0, np.sqrt(threshold / freq))
    return np.where(counts > 0, factors, 0.0)


def sample_factors(
    class_factors: np.ndarray, codes: np.ndarray | None, Y: Any = None
) -> np.ndarray:
    """Per-sample factor: its class's (``codes``), or the max over its labels (``Y``).

    Rows of ``Y`` with no label get 0 here; callers decide what they mean.
    """
    if codes is not None:
        return class_factors[codes]
    Y = np.asarray(Y)
    out = np.zeros(Y.shape[0], dtype=np.float64)
    for start in range(0, Y.shape[0], 1 << 16):  # bounds the (rows, labels) temporary
        block = Y[start : start + (1 << 16)] > 0
        out[start : start + len(block)] = np.where(block, class_factors, 0.0).max(axis=1)
    return out


def random_round(means: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Copies per sample: ``floor(m)``, plus one with probability ``m - floor(m)`` (int64)."""
    whole = np.floor(means)
    return (whole + (rng.random(len(means)) < means - whole)).astype(np.int64)


def fixed_total_copies(means: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Copies per sample with mean about ``means`` and a total of exactly ``round(sum(means))``.

    ``floor(m)`` copies each; the extra copies go to ``round(S)`` samples
    chosen by systematic sampling in a random order (``S`` the sum of the
    fractional parts), so sample ``i`` gets one with probability
    ``frac_i * round(S) / S``: the same total every epoch, which ranks of
    ``torch.distributed`` need to stay in step.
    """
    whole = np.floor(means)
    frac = means - whole
    copies = whole.astype(np.int64)
    total = float(frac.sum())
    n_extra = round(total)
    if n_extra == 0:
        return copies
    order = rng.permutation(len(means))
    edges = np.cumsum(frac[order]) * (n_extra / total)
    points = rng.random() + np.arange(n_extra)
    hit = np.searchsorted(edges, points, side="right")
    np.add.at(copies, order[np.minimum(hit, len(means) - 1)], 1)
    return copies
