"""How many samples each class (or label) has, and the imbalance measures derived from that.

:class:`ClassDistribution` counts a single-label target; :class:`LabelDistribution`
counts the positives of each label of a multi-label target and adds the
multi-label measures (IRLbl, MeanIR, SCUMBLE).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from classbalance.labels import EncodedLabels, MultiHotLabels, encode_labels, encode_multilabel

if TYPE_CHECKING:
    import os

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["ClassDistribution", "LabelDistribution", "class_distribution", "label_distribution"]


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

    Examples
    --------
    >>> import classbalance as cb
    >>> dist = cb.ClassDistribution.from_counts({"bee": 3000, "wasp": 4900})
    >>> dist.classes.tolist(), dist.counts.tolist()
    (['bee', 'wasp'], [3000, 4900])
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


# Rows of a multi-hot matrix multiplied at a time (bounds the temporaries).
_CHUNK_ROWS = 1 << 16


def _row_sums(Y: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """``Y @ vectors`` in float64, one block of rows at a time (bounded temporary memory)."""
    out = np.empty((Y.shape[0], vectors.shape[1]), dtype=np.float64)
    for start in range(0, Y.shape[0], _CHUNK_ROWS):
        block = Y[start : start + _CHUNK_ROWS]
        out[start : start + _CHUNK_ROWS] = block.astype(np.float64) @ vectors
    return out


class LabelDistribution:
    r"""Per-label positive counts of a multi-label target and the imbalance measures built on them.

    Build it with :func:`label_distribution`.

    Attributes
    ----------
    classes : ndarray of shape (n_labels,)
        Label names.
    counts : ndarray of shape (n_labels,)
        Positive samples per label (int64).
    n_samples : int
        Number of samples.
    irlbl : ndarray of shape (n_labels,)
        Imbalance ratio per label, ``max(counts) / counts[l]``: 1 for the most
        frequent label, larger for rarer ones; ``inf`` for a label with no
        positives.
    mean_ir : float
        MeanIR, the mean of ``irlbl`` over the labels that have positives
        (labels without positives are left out, not averaged in as ``inf``;
        they are listed in ``empty_labels``).
    max_ir : float
        MaxIR, the largest finite ``irlbl``.
    scumble : float
        SCUMBLE: how much rare and frequent labels occur *together* in the same
        samples (0 = never; towards 1 = rare labels mostly appear beside
        frequent ones, which makes resampling by sample ineffective).
    scumble_per_sample : ndarray of shape (n_samples,)
        The per-sample values averaged into ``scumble``.
    cardinality : float
        Mean number of labels per sample.
    n_unlabeled : int
        Samples with no label at all (negatives for every label).

    Notes
    -----
    Following Charte et al. (2015, 2019), with ``IRLbl_l`` as above and
    ``Y_i`` the labels of sample ``i``:

    .. math::

        \mathrm{SCUMBLE}_i = 1 - \frac{\left(\prod_{l \in Y_i}
        \mathrm{IRLbl}_l\right)^{1/|Y_i|}}{\frac{1}{|Y_i|}
        \sum_{l \in Y_i} \mathrm{IRLbl}_l}, \qquad
        \mathrm{SCUMBLE} = \frac{1}{n} \sum_i \mathrm{SCUMBLE}_i

    one minus the ratio of the geometric to the arithmetic mean of the
    sample's label imbalance ratios (an Atkinson index); a sample with 0 or 1
    label scores 0 and still counts in ``n``. It is computed in log space
    (no overflow for hundreds of labels).

    References
    ----------
    F. Charte, A. J. Rivera, M. J. del Jesus, F. Herrera, "Addressing imbalance
    in multilabel classification: Measures and random resampling algorithms",
    Neurocomputing 163 (2015) (IRLbl, MeanIR). F. Charte, A. J. Rivera,
    M. J. del Jesus, F. Herrera, "Dealing with difficult minority labels in
    imbalanced multilabel data sets", Neurocomputing 326-327 (2019)
    (SCUMBLE; first in HAIS 2014, "Concurrence among imbalanced labels and its
    influence on multilabel resampling algorithms").

    Examples
    --------
    >>> import classbalance as cb
    >>> dist = cb.label_distribution([[1, 1], [1, 0], [0, 0]], classes=["cat", "dog"])
    >>> dist.counts.tolist(), dist.irlbl.tolist()
    ([2, 1], [1.0, 2.0])
    """

    def __init__(self, encoded: MultiHotLabels) -> None:
        Y = encoded.Y
        self.classes = encoded.classes
        self.n_samples = int(Y.shape[0])
        self.counts = Y.sum(axis=0, dtype=np.int64)
        top = self.counts.max()
        with np.errstate(divide="ignore"):
            self.irlbl = np.where(self.counts > 0, top / np.maximum(self.counts, 1), np.inf)
        finite = np.isfinite(self.irlbl)
        self.mean_ir = float(self.irlbl[finite].mean()) if finite.any() else float("nan")
        self.max_ir = float(self.irlbl[finite].max()) if finite.any() else float("nan")
        per_row = Y.sum(axis=1, dtype=np.int64)
        self.cardinality = float(per_row.mean())
        self.n_unlabeled = int((per_row == 0).sum())
        # Matrix-vector products: sums of log IRLbl and of IRLbl over each row's labels.
        vectors = np.stack(
            [np.log(np.where(finite, self.irlbl, 1.0)), np.where(finite, self.irlbl, 0.0)], axis=1
        )
        sums = _row_sums(Y, vectors)
        sum_log, sum_ir = sums[:, 0], sums[:, 1]
        active = np.maximum(per_row, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.exp(sum_log / active) / (sum_ir / active)
        self.scumble_per_sample = np.where(per_row > 1, np.clip(1.0 - ratio, 0.0, 1.0), 0.0)
        self.scumble = float(self.scumble_per_sample.mean())

    @property
    def n_labels(self) -> int:
        """Number of labels (columns), those without positives included."""
        return int(self.counts.shape[0])

    @property
    def empty_labels(self) -> list[Any]:
        """Labels with no positive sample (IRLbl ``inf``), in column order."""
        return self.classes[self.counts == 0].tolist()

    @property
    def fractions(self) -> np.ndarray:
        """Share of samples that carry each label (need not sum to 1)."""
        return self.counts / self.n_samples

    def to_frame(self) -> pd.DataFrame:
        """One row per label: ``count``, ``fraction`` and ``irlbl``, most frequent first.

        Examples
        --------
        >>> import classbalance as cb
        >>> cb.label_distribution([{"a"}, {"a", "b"}, {"a"}, set()]).to_frame()
               count  fraction  irlbl
        label
        a          3      0.75    1.0
        b          1      0.25    3.0
        """
        frame = pd.DataFrame(
            {"count": self.counts, "fraction": self.fractions, "irlbl": self.irlbl},
            index=pd.Index(self.classes, name="label"),
        )
        return frame.sort_values("count", ascending=False, kind="stable")

    def summary(self) -> dict[str, Any]:
        """The dataset-level measures as a plain dict (JSON-friendly)."""
        return {
            "n_samples": self.n_samples,
            "n_labels": self.n_labels,
            "cardinality": self.cardinality,
            "n_unlabeled": self.n_unlabeled,
            "mean_ir": self.mean_ir,
            "max_ir": self.max_ir,
            "scumble": self.scumble,
            "empty_labels": [str(v) for v in self.empty_labels],
        }

    def plot(
        self,
        *,
        log: bool = False,
        path: str | os.PathLike[str] | None = None,
        ax: Axes | None = None,
        title: str | None = None,
    ) -> Figure:
        """Bar chart of positives per label, most frequent first.

        Needs matplotlib (``pip install "classbalance[plot]"``); see
        :func:`classbalance.plots.plot_label_histogram`.
        """
        from classbalance.plots import plot_label_histogram

        return plot_label_histogram(self, log=log, path=path, ax=ax, title=title)

    def __repr__(self) -> str:
        return (
            f"LabelDistribution(n_samples={self.n_samples}, n_labels={self.n_labels}, "
            f"mean_ir={self.mean_ir:.4g}, max_ir={self.max_ir:.4g}, scumble={self.scumble:.4g}, "
            f"empty_labels={len(self.empty_labels)})"
        )


def label_distribution(
    y: Any, *, classes: Sequence[Any] | None = None, sep: str | None = None
) -> LabelDistribution:
    """Per-label counts, IRLbl, MeanIR and SCUMBLE of a multi-label target.

    Parameters
    ----------
    y : multi-hot matrix, sequence of label sets, or strings joined by ``sep``
        See :func:`~classbalance.labels.encode_multilabel`.
    classes : sequence, default=None
        Label names / column order (see :func:`~classbalance.labels.encode_multilabel`).
    sep : str, default=None
        Separator inside label strings.

    Returns
    -------
    LabelDistribution

    Examples
    --------
    >>> import numpy as np
    >>> import classbalance as cb
    >>> Y = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 0], [1, 0, 1], [0, 1, 0]])
    >>> dist = cb.label_distribution(Y, classes=["head", "mid", "tail"])
    >>> dist.counts.tolist(), dist.irlbl.tolist()
    ([4, 2, 1], [1.0, 2.0, 4.0])
    >>> round(dist.mean_ir, 3), round(dist.scumble, 3)
    (2.333, 0.051)
    """
    return LabelDistribution(encode_multilabel(y, classes=classes, sep=sep))
