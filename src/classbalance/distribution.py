"""How many samples each class has, and the numbers derived from that."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from classbalance.labels import EncodedLabels, encode_labels

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ClassDistribution", "class_distribution"]


class ClassDistribution:
    """Per-class sample counts of a label array.

    Build it with :func:`class_distribution` from labels, or with
    :meth:`from_counts` when only the counts are known (e.g. from a folder
    listing).

    Attributes
    ----------
    classes : ndarray of shape (n_classes,)
        Class values, in declared or sorted order.
    counts : ndarray of shape (n_classes,)
        Samples per class (int64).
    """

    def __init__(self, classes: Any, counts: Any) -> None:
        classes = np.asarray(classes)
        counts = np.asarray(counts)
        if classes.ndim != 1 or counts.shape != classes.shape:
            raise ValueError(
                "`classes` and `counts` must be 1-D and of the same length. "
                f"Received: {classes.shape[0] if classes.ndim else 0} classes and "
                f"counts of shape {counts.shape}."
            )
        if counts.dtype.kind not in "iuf" or np.any(counts < 0) or np.any(np.mod(counts, 1) != 0):
            raise ValueError(
                f"`counts` must be non-negative integers. Received: counts={counts.tolist()[:20]}"
            )
        if counts.sum() == 0:
            raise ValueError("Every class has 0 samples; at least one sample is needed.")
        self.classes = classes
        self.counts = counts.astype(np.int64)

    @classmethod
    def from_counts(cls, counts: Mapping[Any, int] | Sequence[int]) -> ClassDistribution:
        """Build from ``{class: count}`` or a list of counts (classes 0..K-1).

        Examples
        --------
        >>> from classbalance import ClassDistribution
        >>> ClassDistribution.from_counts({"bee": 3000, "wasp": 4900}).imbalance_ratio
        1.6333333333333333
        """
        if isinstance(counts, Mapping):
            return cls(np.asarray(list(counts.keys())), np.asarray(list(counts.values())))
        values = np.asarray(counts)
        return cls(np.arange(values.shape[0]), values)

    @property
    def n_classes(self) -> int:
        """Number of classes (declared ones with 0 samples included)."""
        return int(self.classes.shape[0])

    @property
    def n_samples(self) -> int:
        """Total number of samples."""
        return int(self.counts.sum())

    @property
    def fractions(self) -> np.ndarray:
        """Share of each class, summing to 1."""
        return self.counts / self.counts.sum()

    @property
    def imbalance_ratio(self) -> float:
        """Largest count divided by smallest (``inf`` if a class has no samples)."""
        smallest = int(self.counts.min())
        if smallest == 0:
            return float("inf")
        return float(self.counts.max() / smallest)

    @property
    def empty_classes(self) -> list[Any]:
        """Declared classes that have no sample."""
        return self.classes[self.counts == 0].tolist()

    def effective_numbers(self, beta: float = 0.999) -> np.ndarray:
        """Effective number of samples per class, ``(1 - beta**n) / (1 - beta)``.

        Cui et al., "Class-Balanced Loss Based on Effective Number of Samples",
        CVPR 2019. ``beta -> 1`` gives the raw counts, ``beta = 0`` gives 1.
        """
        from classbalance._validation import check_fraction

        beta = check_fraction(beta, "beta", inclusive_one=False)
        return (1.0 - np.power(beta, self.counts)) / (1.0 - beta)

    def to_frame(self) -> pd.DataFrame:
        """A table with one row per class: ``count`` and ``fraction``.

        Examples
        --------
        >>> import classbalance as cb
        >>> cb.class_distribution(["a", "b", "b"]).to_frame()
               count  fraction
        class
        a          1  0.333333
        b          2  0.666667
        """
        frame = pd.DataFrame(
            {"count": self.counts, "fraction": self.fractions},
            index=pd.Index(self.classes, name="class"),
        )
        return frame

    def plot(self, *, log: bool = False, path: Any = None, ax: Any = None) -> Figure:
        """Bar chart of the counts, sorted, with counts and percentages.

        Needs matplotlib (``pip install "classbalance[plot]"``).
        """
        from classbalance.plots import plot_class_histogram

        return plot_class_histogram(self, log=log, path=path, ax=ax)

    def __repr__(self) -> str:
        pairs = ", ".join(
            f"{c!r}: {n}" for c, n in zip(self.classes.tolist()[:12], self.counts.tolist()[:12])
        )
        more = ", ..." if self.n_classes > 12 else ""
        return (
            f"ClassDistribution({{{pairs}{more}}}, n_samples={self.n_samples}, "
            f"imbalance_ratio={self.imbalance_ratio:.3g})"
        )


def class_distribution(y: Any, *, classes: Sequence[Any] | None = None) -> ClassDistribution:
    """Count the samples of each class.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Class vector, one-hot matrix, 0/1 column or pandas Series/Categorical.
    classes : sequence, default=None
        Declared classes in order; classes without samples get a count of 0.

    Returns
    -------
    ClassDistribution

    Examples
    --------
    >>> import classbalance as cb
    >>> dist = cb.class_distribution([0, 0, 0, 1], classes=[0, 1, 2])
    >>> dist.counts.tolist(), dist.imbalance_ratio
    ([3, 1, 0], inf)
    """
    enc = encode_labels(
        y,
        classes=classes,
        function="class_distribution",
        multilabel_alternative="cb.label_distribution(Y)",
    )
    return _from_encoded(enc)


def _from_encoded(enc: EncodedLabels) -> ClassDistribution:
    return ClassDistribution(enc.classes, enc.counts())
