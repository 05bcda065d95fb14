"""Built-in long-tailed data for demos, tests and benchmarks (no downloads).

Single-label: scikit-learn's digits made long-tailed (arrays or an image
folder). Multi-label: generated features with long-tailed label rates
(:func:`make_long_tailed_multilabel`, NumPy only).
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classbalance._validation import check_positive_int, resolve_seed, short_repr

__all__ = [
    "LongTailedMultiLabel",
    "long_tail_counts",
    "long_tailed_digits",
    "long_tailed_label_priors",
    "make_long_tailed_multilabel",
    "write_long_tailed_digit_images",
]


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


def write_long_tailed_digit_images(
    root: str | os.PathLike[str],
    *,
    imbalance_ratio: float = 100.0,
    head: int = 800,
    test_per_class: int = 50,
    valid_per_class: int = 10,
    size: int = 28,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Write a long-tailed image folder (``train/ valid/ test/``) made from scikit-learn's digits.

    The digits' 1,797 originals are split per class first, so no original
    appears in two splits: ``test_per_class`` go to a balanced ``test/``,
    ``valid_per_class`` to ``valid/``, the rest feed ``train/``, which holds an
    exponential long tail from ``head`` images (digit 0) down to ``head /
    imbalance_ratio`` (digit 9). Each image is the 8x8 original upscaled to
    ``size`` x ``size`` RGB, with a random colour, shift and rotation (so
    training images of frequent digits repeat originals only up to this
    jitter). For demos and benchmarks of image pipelines; needs Pillow.

    Returns
    -------
    dict of str to ndarray
        Images written per class for ``"train"``, ``"valid"`` and ``"test"``.

    Examples
    --------
    >>> import tempfile
    >>> from classbalance.datasets import write_long_tailed_digit_images
    >>> counts = write_long_tailed_digit_images(tempfile.mkdtemp(), head=20, imbalance_ratio=10)
    >>> counts["train"].tolist(), int(counts["test"].sum())
    ([20, 15, 12, 9, 7, 6, 4, 3, 3, 2], 500)
    """
    from PIL import Image
    from sklearn.datasets import load_digits

    out = Path(root)
    rng = np.random.default_rng([check_positive_int(seed, "seed", allow_zero=True), 5001])
    digits = load_digits()
    keep = long_tail_counts(10, check_positive_int(head, "head"), imbalance_ratio)
    written = {
        "train": keep,
        "valid": np.full(10, valid_per_class),
        "test": np.full(10, test_per_class),
    }
    for c in range(10):
        pool = rng.permutation(np.flatnonzero(digits.target == c))
        test, valid = pool[:test_per_class], pool[test_per_class : test_per_class + valid_per_class]
        train = pool[test_per_class + valid_per_class :]
        if len(train) == 0:
            raise ValueError("`test_per_class` + `valid_per_class` leave no training originals.")
        cycles = -(-int(keep[c]) // len(train))
        train = np.concatenate([rng.permutation(train) for _ in range(cycles)])[: keep[c]]
        for split, idx in (("train", train), ("valid", valid), ("test", test)):
            folder = out / split / str(c)
            folder.mkdir(parents=True, exist_ok=True)
            for i, j in enumerate(idx):  # one file per image: writing is per file by nature
                gray = Image.fromarray((digits.images[j] * 16).clip(0, 255).astype(np.uint8))
                gray = gray.resize((size, size), Image.Resampling.BILINEAR)
                gray = gray.rotate(
                    float(rng.uniform(-10, 10)),
                    resample=Image.Resampling.BILINEAR,
                    translate=tuple(int(t) for t in rng.integers(-2, 3, size=2)),
                )
                ink = rng.uniform(0.5, 1.0, size=3)
                pixels = np.asarray(gray, dtype=np.float32)[..., None] * ink
                Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(folder / f"{j}_{i}.png")
    return written


def long_tailed_label_priors(
    n_labels: int, *, head: float = 0.4, imbalance_ratio: float = 100.0
) -> np.ndarray:
    """Per-label positive rates falling exponentially from ``head`` to ``head / imbalance_ratio``.

    Examples
    --------
    >>> from classbalance.datasets import long_tailed_label_priors
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

    Examples
    --------
    >>> from classbalance.datasets import make_long_tailed_multilabel
    >>> data = make_long_tailed_multilabel(200, n_val=50, n_test=100, n_labels=4, seed=0)
    >>> data.x_train.shape, data.Y_val.shape, data.Y_test.dtype
    ((200, 32), (50, 4), dtype('uint8'))
    >>> data.train_priors.round(3).tolist(), data.test_prior
    ([0.4, 0.086, 0.019, 0.004], 0.2)
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
    >>> from classbalance.datasets import make_long_tailed_multilabel
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
