"""Per-class constants of the long-tail losses, computed once in NumPy.

The Keras and PyTorch losses only turn these arrays into tensors, so both
frameworks share one definition of every margin, weight and prior.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from classbalance._validation import check_fraction, short_repr

__all__ = [
    "check_alpha",
    "check_class_counts",
    "check_gamma",
    "check_prior",
    "class_balanced_weights",
    "ldam_margins",
    "log_prior",
]


def check_class_counts(class_counts: Any, name: str = "class_counts") -> np.ndarray:
    """Per-class training counts as float64, each > 0.

    Accepts a sequence aligned with class indices ``0..K-1``, a ``{index:
    count}`` dict with keys ``0..K-1``, or a :class:`~classbalance.ClassDistribution`.
    """
    from classbalance.distribution import ClassDistribution

    if isinstance(class_counts, ClassDistribution):
        values = class_counts.counts
    elif isinstance(class_counts, dict):
        keys = sorted(class_counts)
        if keys != list(range(len(keys))):
            raise ValueError(
                f"`{name}` as a dict must have the class indices 0..K-1 as keys. "
                f"Received: {name}={short_repr(class_counts)}"
            )
        values = [class_counts[k] for k in keys]
    else:
        values = class_counts
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.zeros((0, 0))
    if arr.ndim != 1 or arr.shape[0] < 2 or not np.all(np.isfinite(arr)):
        raise ValueError(
            f"`{name}` must be a 1-D sequence of at least 2 per-class counts (index = class), "
            f"e.g. `cb.class_distribution(y).counts`. Received: {name}={short_repr(class_counts)}"
        )
    if np.any(arr <= 0):
        bad = np.flatnonzero(arr <= 0).tolist()[:5]
        raise ValueError(
            f"`{name}` must be > 0 for every class; classes {bad} have none. Drop classes "
            f"without training samples from the output layer. Received: {name}={short_repr(values)}"
        )
    return arr


def check_prior(prior: Any, name: str = "prior") -> np.ndarray:
    """A probability vector over classes (normalized to sum to 1)."""
    arr = check_class_counts(prior, name)
    return arr / arr.sum()


def check_gamma(gamma: Any, name: str = "gamma") -> float:
    """The focusing parameter: a finite real number >= 0."""
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not gamma >= 0:
        raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={short_repr(gamma)}")
    if not np.isfinite(gamma):
        raise ValueError(f"`{name}` must be finite. Received: {name}={gamma}")
    return float(gamma)


def check_positive(value: Any, name: str) -> float:
    """A finite real number > 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"`{name}` must be a number > 0. Received: {name}={short_repr(value)}")
    return float(value)


def check_alpha(alpha: Any, name: str = "alpha") -> np.ndarray | None:
    """``None``, one number >= 0, or one weight >= 0 per class (sequence or ``{index: w}``)."""
    if alpha is None:
        return None
    if isinstance(alpha, Mapping):
        # A dict as class_weights() returns it: {class index: weight}, keys 0..K-1.
        keys = sorted(alpha)
        if keys != list(range(len(keys))):
            raise ValueError(
                f"`{name}` as a dict must have the class indices 0..K-1 as keys (as "
                "cb.class_weights(y) gives for labels 0..K-1). "
                f"Received: {name}={short_repr(alpha)}"
            )
        alpha = [alpha[k] for k in keys]
    if isinstance(alpha, bool):
        arr = np.zeros(0)
    else:
        try:
            arr = np.asarray(alpha, dtype=np.float64)
        except (TypeError, ValueError):
            arr = np.zeros(0)
    if arr.ndim > 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(
            f"`{name}` must be None, a number >= 0 or a sequence of per-class weights >= 0. "
            f"Received: {name}={short_repr(alpha)}"
        )
    return arr


def class_balanced_weights(counts: np.ndarray, beta: float) -> np.ndarray:
    """Cui et al. (2019) weights ``(1 - beta) / (1 - beta**n_c)``, scaled to sum to K."""
    beta = check_fraction(beta, "beta", inclusive_one=False)
    raw = (1.0 - beta) / (1.0 - np.power(beta, counts))
    return raw * (len(counts) / raw.sum())


def ldam_margins(counts: np.ndarray, max_margin: float) -> np.ndarray:
    """Cao et al. (2019) margins ``C / n_c**(1/4)``, the rarest class getting ``max_margin``."""
    raw = np.power(counts, -0.25)
    return raw * (max_margin / raw.max())


def log_prior(counts_or_prior: np.ndarray) -> np.ndarray:
    """``log pi_c`` with ``pi = counts / counts.sum()``."""
    return np.log(counts_or_prior / counts_or_prior.sum())
