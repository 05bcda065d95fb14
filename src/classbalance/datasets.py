"""Built-in long-tailed data for demos and tests (no downloads)."""

from __future__ import annotations

import numpy as np

from classbalance._validation import check_positive_int, resolve_seed

__all__ = ["long_tail_counts", "long_tailed_digits"]


def long_tail_counts(n_classes: int, head: int, imbalance_ratio: float) -> np.ndarray:
    """Exponential long-tail profile: class c keeps ``head * ratio ** (-c / (K - 1))``.

    Examples
    --------
    >>> from classbalance.datasets import long_tail_counts
    >>> long_tail_counts(3, 100, 100).tolist()
    [100, 10, 1]
    """
    n_classes = check_positive_int(n_classes, "n_classes")
    head = check_positive_int(head, "head")
    if isinstance(imbalance_ratio, bool) or not imbalance_ratio >= 1:
        raise ValueError(
            "`imbalance_ratio` must be a number >= 1. "
            f"Received: imbalance_ratio={imbalance_ratio!r}"
        )
    steps = np.arange(n_classes) / max(n_classes - 1, 1)
    return np.maximum(1, np.round(head * float(imbalance_ratio) ** (-steps))).astype(np.int64)


def long_tailed_digits(
    imbalance_ratio: float = 50.0,
    *,
    test_per_class: int = 50,
    seed: int | np.random.Generator | None = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits, made long-tailed, with a balanced test set.

    A balanced test set of ``test_per_class`` images per digit is carved out
    first; the training set then keeps an exponential long tail over the rest
    (digit 0 the most frequent, digit 9 ``imbalance_ratio`` times rarer).
    Pixels are scaled to [0, 1].

    Returns
    -------
    x_train, y_train, x_test, y_test : ndarray
        ``x`` float32 of shape (n, 64); ``y`` int64 digits.

    Examples
    --------
    >>> from classbalance.datasets import long_tailed_digits
    >>> x_train, y_train, x_test, y_test = long_tailed_digits(imbalance_ratio=10)
    >>> x_train.shape[1], len(y_test)
    (64, 500)
    """
    from sklearn.datasets import load_digits

    test_per_class = check_positive_int(test_per_class, "test_per_class")
    rng = np.random.default_rng(resolve_seed(seed))
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    train_idx, test_idx = [], []
    pools = [rng.permutation(np.flatnonzero(y == c)) for c in range(10)]
    available = min(len(p) for p in pools) - test_per_class
    if available < 1:
        raise ValueError(
            f"`test_per_class`={test_per_class} leaves no training images; use fewer than "
            f"{min(len(p) for p in pools)}."
        )
    keep = long_tail_counts(10, available, imbalance_ratio)
    for c, pool in enumerate(pools):
        test_idx.append(pool[:test_per_class])
        train_idx.append(pool[test_per_class : test_per_class + keep[c]])
    train = rng.permutation(np.concatenate(train_idx))
    test = np.concatenate(test_idx)
    return x[train], y[train], x[test], y[test]
