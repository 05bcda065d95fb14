"""Generated long-tailed multi-label data, for tests, benchmarks and examples (NumPy only)."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from classbalance._validation import check_positive_int, resolve_seed, short_repr

__all__ = ["LongTailedMultiLabel", "long_tailed_label_priors", "make_long_tailed_multilabel"]


def long_tailed_label_priors(
    n_labels: int, *, head: float = 0.4, imbalance_ratio: float = 100.0
) -> np.ndarray:
    """Per-label positive rates falling exponentially from ``head`` to ``head / imbalance_ratio``.

    Examples
    --------
    >>> from classbalance.multilabel_data import long_tailed_label_priors
    >>> long_tailed_label_priors(3, head=0.4, imbalance_ratio=100).round(3).tolist()
    [0.4, 0.04, 0.004]
    """
    n_labels = check_positive_int(n_labels, "n_labels")
    for value, name in ((head, "head"), (imbalance_ratio, "imbalance_ratio")):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"`{name}` must be a number. Received: {name}={short_repr(value)}")
    if not 0 < head <= 1:
        raise ValueError(f"`head` must be in (0, 1]. Received: head={head}")
    if not imbalance_ratio >= 1:
        raise ValueError(
            f"`imbalance_ratio` must be >= 1. Received: imbalance_ratio={imbalance_ratio}"
        )
    steps = np.arange(n_labels) / max(n_labels - 1, 1)
    return head * float(imbalance_ratio) ** (-steps)


@dataclass(frozen=True)
class LongTailedMultiLabel:
    """Train / validation / test splits from :func:`make_long_tailed_multilabel`.

    ``x_*`` are float32 features, ``Y_*`` uint8 multi-hot matrices. Training
    and validation share the long-tailed label rates ``train_priors``; the
    test set has the same rate ``test_prior`` for every label, so tail labels
    are measured on many positives.
    """

    x_train: np.ndarray
    Y_train: np.ndarray
    x_val: np.ndarray
    Y_val: np.ndarray
    x_test: np.ndarray
    Y_test: np.ndarray
    train_priors: np.ndarray
    test_prior: float


def make_long_tailed_multilabel(
    n_train: int = 4000,
    *,
    n_val: int = 1000,
    n_test: int = 4000,
    n_labels: int = 10,
    n_features: int = 32,
    head: float = 0.4,
    imbalance_ratio: float = 100.0,
    test_prior: float = 0.2,
    noise: float = 1.0,
    seed: Any = None,
) -> LongTailedMultiLabel:
    """Long-tailed multi-label data with a known generating process.

    Label ``l`` of a sample is present with probability
    ``long_tailed_label_priors(...)[l]`` (independently across labels); the
    features are ``x = sum_l y_l * mu_l + noise * N(0, I)`` passed through
    ``tanh``, where the label signatures ``mu_l`` are random unit-norm
    directions scaled by 2. Training and validation draw labels from the
    long-tailed rates; the test set uses ``test_prior`` for every label.

    Parameters
    ----------
    n_train, n_val, n_test : int
        Split sizes.
    n_labels, n_features : int
        Shape of the problem.
    head, imbalance_ratio : float
        Rate of the most frequent label and ratio head / rarest.
    test_prior : float, default=0.2
        Rate of every label in the test set.
    noise : float, default=1.0
        Standard deviation of the feature noise.
    seed : int, Generator or None
        Randomness.

    Returns
    -------
    LongTailedMultiLabel

    Examples
    --------
    >>> from classbalance.multilabel_data import make_long_tailed_multilabel
    >>> data = make_long_tailed_multilabel(2000, n_labels=4, seed=0)
    >>> data.x_train.shape, data.Y_train.shape
    ((2000, 32), (2000, 4))
    >>> data.Y_train.sum(axis=0).tolist()
    [810, 191, 36, 8]
    """
    sizes = [check_positive_int(v, k) for v, k in ((n_train, "n_train"), (n_val, "n_val"))]
    n_test = check_positive_int(n_test, "n_test")
    n_labels = check_positive_int(n_labels, "n_labels")
    n_features = check_positive_int(n_features, "n_features")
    if isinstance(test_prior, bool) or not isinstance(test_prior, numbers.Real):
        raise TypeError(f"`test_prior` must be a number. Received: test_prior={test_prior!r}")
    if not 0 < test_prior < 1:
        raise ValueError(f"`test_prior` must be in (0, 1). Received: test_prior={test_prior}")
    priors = long_tailed_label_priors(n_labels, head=head, imbalance_ratio=imbalance_ratio)
    rng = np.random.default_rng(resolve_seed(seed))
    signatures = rng.normal(size=(n_labels, n_features))
    signatures *= 2.0 / np.linalg.norm(signatures, axis=1, keepdims=True)

    def draw(n: int, rates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Y = (rng.random((n, n_labels)) < rates).astype(np.uint8)
        x = np.tanh(Y @ signatures + noise * rng.normal(size=(n, n_features)))
        return x.astype(np.float32), Y

    x_train, Y_train = draw(sizes[0], priors)
    x_val, Y_val = draw(sizes[1], priors)
    x_test, Y_test = draw(n_test, np.full(n_labels, float(test_prior)))
    return LongTailedMultiLabel(
        x_train, Y_train, x_val, Y_val, x_test, Y_test, priors, float(test_prior)
    )
