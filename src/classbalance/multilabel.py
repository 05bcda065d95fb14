"""Multi-label (multi-hot) targets: validation, imbalance measures and per-label weights.

A multi-label target gives each sample a *set* of labels (a chest X-ray with
two findings, a photo with several objects). Here it is always turned into a
0/1 matrix ``Y`` of shape ``(n_samples, n_labels)`` plus the label names,
once, by :func:`encode_multilabel`; everything else works on that matrix.

Accepted inputs:

- a 0/1 matrix (NumPy array, nested lists, or a pandas DataFrame whose column
  names become the label names); ``bool`` and float ``0.0``/``1.0`` are fine,
  anything else is refused with the offending position and value;
- a list (or pandas Series) of label sets: each element a ``set``, ``list``,
  ``tuple`` or ``frozenset`` of hashable labels;
- a list (or pandas Series, e.g. a CSV column) of strings holding labels
  joined by a separator ``sep`` (``"cat|dog"``). ``sep`` must be given; it is
  never guessed.

Rows with no label (an all-zero row, an empty set, an empty string, or a
missing value ``None``/``NaN`` in a string column) are allowed: such a
sample is a negative for every label. Labels with no positive sample are
allowed too and reported (:attr:`LabelDistribution.empty_labels`).
"""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from classbalance._atomic import atomic_write_with
from classbalance._optional import require
from classbalance._validation import short_repr

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "LabelDistribution",
    "MultiHotLabels",
    "encode_multilabel",
    "is_multihot",
    "label_distribution",
    "pos_weight",
]

_SET_TYPES = (set, frozenset, list, tuple)
# Characters that often join labels in CSV columns; used only to explain errors.
_COMMON_SEPARATORS = ("|", ",", ";", " ", "\t", "/")


@dataclass(frozen=True)
class MultiHotLabels:
    """A validated multi-label target.

    Attributes
    ----------
    Y : ndarray of shape (n_samples, n_labels), dtype uint8
        ``Y[i, l] == 1`` when sample ``i`` has label ``l``.
    labels : ndarray of shape (n_labels,)
        Label names, index = column of ``Y``.
    """

    Y: np.ndarray
    labels: np.ndarray

    @property
    def n_samples(self) -> int:
        """Number of samples (rows)."""
        return int(self.Y.shape[0])

    @property
    def n_labels(self) -> int:
        """Number of labels (columns)."""
        return int(self.Y.shape[1])


def is_multihot(y: Any) -> bool:
    """Whether an array is a multi-hot matrix rather than a class vector or one-hot rows.

    True for a 2-D array of 0/1 with at least two columns where some row holds
    no label or several. One-hot rows (exactly one 1 each) are single-label, so
    multi-hot data in which every row happens to hold one label is not
    recognized: say it explicitly where a function offers ``multilabel=True``.

    Examples
    --------
    >>> from classbalance.multilabel import is_multihot
    >>> is_multihot([[1, 1], [0, 1]]), is_multihot([[1, 0], [0, 1]]), is_multihot([0, 1, 1])
    (True, False, False)
    """
    try:
        arr = np.asarray(y)
    except (TypeError, ValueError):
        return False
    if arr.ndim != 2 or arr.shape[1] < 2 or arr.shape[0] == 0 or arr.dtype.kind not in "biuf":
        return False
    if not np.isin(arr, (0, 1)).all():
        return False
    return bool((arr.sum(axis=1) != 1).any())


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


_CHUNK_ROWS = 1 << 16


def _row_sums(Y: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """``Y @ vectors`` in float64, one block of rows at a time (bounded temporary memory)."""
    out = np.empty((Y.shape[0], vectors.shape[1]), dtype=np.float64)
    for start in range(0, Y.shape[0], _CHUNK_ROWS):
        block = Y[start : start + _CHUNK_ROWS]
        out[start : start + _CHUNK_ROWS] = block.astype(np.float64) @ vectors
    return out


def _check_labels_arg(labels: Any, n_columns: int | None) -> np.ndarray | None:
    if labels is None:
        return None
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Iterable):
        raise TypeError(
            f"`labels` must be a sequence of label names. Received: labels={short_repr(labels)}"
        )
    names = list(labels)
    if len(set(names)) != len(names):
        raise ValueError(f"`labels` must not repeat a name. Received: labels={short_repr(names)}")
    if n_columns is not None and len(names) != n_columns:
        raise ValueError(
            f"`labels` must name each of the {n_columns} columns of `y`. "
            f"Received: {len(names)} names, labels={short_repr(names)}"
        )
    return np.asarray(names, dtype=object) if names else np.zeros(0, dtype=object)


def _from_matrix(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.dtype.kind == "b":
        return arr.astype(np.uint8)
    if arr.dtype.kind not in "iuf":
        raise ValueError(
            f"`{name}` is a 2-D array of dtype {arr.dtype}; a 2-D `{name}` must be a 0/1 "
            "(multi-hot) matrix of shape (n_samples, n_labels)."
        )
    if arr.dtype.kind == "u" and arr.max() <= 1:
        return arr.astype(np.uint8, copy=False)  # already 0/1: no temporaries, no copy for uint8
    bad = ~((arr == 0) | (arr == 1))  # NaN is neither, so it lands here too
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(
            f"`{name}` must hold only 0 and 1 (a multi-hot matrix); found {arr[row, col].item()!r} "
            f"at row {row}, column {col} ({int(bad.sum())} such entries). Binarize scores or "
            "probabilities first, e.g. `(y >= 0.5).astype(int)`; give label sets of integer ids "
            "as Python sets, e.g. [{0, 3}, {2}]."
        )
    return arr.astype(np.uint8)


def _split_strings(values: Sequence[Any], sep: str | None, name: str) -> list[list[str]]:
    strings = [v for v in values if not _is_missing(v)]
    if sep is None:
        seen = sorted({s for s in _COMMON_SEPARATORS if any(s in v for v in strings)})
        hint = f" The values contain {seen}." if seen else ""
        raise ValueError(
            f"`{name}` holds strings; pass `sep`, the character that joins labels within a "
            f"string (e.g. sep='|' for 'cat|dog'), or give label sets instead.{hint} "
            f"Received: {name}[0]={short_repr(strings[0] if strings else values[0])}"
        )
    if not isinstance(sep, str) or not sep:
        raise TypeError(f"`sep` must be a non-empty string. Received: sep={short_repr(sep)}")
    if strings and not any(sep in v for v in strings):
        others = [s for s in _COMMON_SEPARATORS if s != " " and any(s in v for v in strings)]
        if others:
            raise ValueError(
                f"`sep`={sep!r} never occurs in `{name}`, but {others} does; is that the "
                f"separator? Received: {name}[0]={short_repr(strings[0])}"
            )
    return [
        [] if _is_missing(v) else [t.strip() for t in v.split(sep) if t.strip()] for v in values
    ]


def _from_sets(
    values: Sequence[Any], labels: np.ndarray | None, sep: str | None, name: str
) -> tuple[np.ndarray, np.ndarray]:
    kinds = set()
    for v in values:  # one type check per row, not per label
        if isinstance(v, str):
            kinds.add("str")
        elif isinstance(v, _SET_TYPES):
            kinds.add("set")
        elif not _is_missing(v):
            raise TypeError(
                f"`{name}` must be a 0/1 matrix, a sequence of label sets, or strings of labels "
                f"joined by `sep`; found an element of type {type(v).__name__}: {short_repr(v)}. "
                "A 1-D vector of class ids is single-label: use `cb.class_distribution`."
            )
    if "str" in kinds and "set" in kinds:
        raise TypeError(f"`{name}` mixes strings and label sets; use one form for every row.")
    if "str" in kinds:
        rows = _split_strings(values, sep, name)
    else:
        rows = [[] if _is_missing(v) else list(v) for v in values]
    # One flat array of (row, label) pairs, factorized once: no per-label Python work.
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    flat = [label for r in rows for label in r]
    if labels is None:
        try:
            names = np.asarray(sorted(set(flat)), dtype=object)
        except TypeError:  # unorderable mix of label types: keep first-seen order
            names = np.asarray(list(dict.fromkeys(flat)), dtype=object)
        codes = pd.Index(names).get_indexer(flat) if flat else np.zeros(0, np.int64)
    else:
        names = labels
        codes = pd.Index(names).get_indexer(flat) if flat else np.zeros(0, np.int64)
        if (codes < 0).any():
            unknown = sorted({str(flat[i]) for i in np.flatnonzero(codes < 0)[:20]})
            raise ValueError(
                f"`{name}` uses labels not listed in `labels`: {short_repr(unknown)}. Add them to "
                f"`labels` or drop them. Received: labels={short_repr(list(names))}"
            )
    Y = np.zeros((len(rows), len(names)), dtype=np.uint8)
    Y[np.repeat(np.arange(len(rows)), lengths), codes] = 1
    return Y, names


def encode_multilabel(
    y: Any, *, labels: Sequence[Any] | None = None, sep: str | None = None, name: str = "y"
) -> MultiHotLabels:
    """Validate a multi-label target into a 0/1 matrix and label names.

    Parameters
    ----------
    y : array-like of shape (n_samples, n_labels), or sequence of label sets or strings
        A 0/1 matrix (array, nested lists, DataFrame), a sequence/Series of
        label sets, or a sequence/Series of strings of labels joined by ``sep``.
        A :class:`MultiHotLabels` is returned unchanged.
    labels : sequence, default=None
        Label names. For a matrix: one per column (default: the DataFrame's
        columns, else ``0..n_labels-1``). For label sets or strings: the
        columns and their order (default: sorted labels seen in ``y``); a
        label not listed is an error, a listed label never seen is a column of
        zeros.
    sep : str, default=None
        Separator inside label strings (``"|"`` for ``"cat|dog"``); required
        when ``y`` holds strings. Whitespace around labels is stripped and
        empty pieces dropped.
    name : str, default="y"
        Argument name used in error messages.

    Returns
    -------
    MultiHotLabels
        ``Y`` (uint8, shape (n_samples, n_labels)) and ``labels``.

    Raises
    ------
    TypeError
        ``y`` is not one of the accepted forms (e.g. a 1-D vector of numbers,
        which is a single-label class vector).
    ValueError
        Empty ``y``; a matrix entry other than 0 or 1 (NaN included); strings
        without ``sep``, or a ``sep`` that never occurs while another common
        separator does; labels outside ``labels``.

    Examples
    --------
    >>> from classbalance.multilabel import encode_multilabel
    >>> enc = encode_multilabel(["cat|dog", "dog", "", "bird|dog"], sep="|")
    >>> enc.labels.tolist()
    ['bird', 'cat', 'dog']
    >>> enc.Y.tolist()
    [[0, 1, 1], [0, 0, 1], [0, 0, 0], [1, 0, 1]]
    >>> encode_multilabel([{"a"}, {"a", "b"}]).Y.tolist()
    [[1, 0], [1, 1]]
    """
    if isinstance(y, MultiHotLabels):
        return y
    if isinstance(y, (str, bytes)) or y is None or np.isscalar(y):
        raise TypeError(
            f"`{name}` must be a 0/1 matrix or a sequence of label sets or strings. "
            f"Received: {name}={short_repr(y)}"
        )
    if isinstance(y, pd.DataFrame):
        if labels is None:
            labels = list(y.columns)
        arr = y.to_numpy()
        if arr.dtype == object:
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"`{name}` is a DataFrame with non-numeric values; each column must hold "
                    f"0/1 for one label ({exc})."
                ) from exc
        values: Any = arr
    elif isinstance(y, pd.Series):
        values = y.tolist()
    elif isinstance(y, np.ndarray):
        values = y
    elif isinstance(y, Iterable):
        values = list(y)
    else:
        raise TypeError(
            f"`{name}` must be a 0/1 matrix or a sequence of label sets or strings. "
            f"Received: {name}={short_repr(y)} of type {type(y).__name__}"
        )
    if len(values) == 0:
        raise ValueError(f"`{name}` is empty; at least one sample is needed.")

    matrix: np.ndarray | None = None
    if isinstance(values, np.ndarray) and values.dtype != object:
        matrix = values
    elif not isinstance(values[0], (str, set, frozenset)) and not _is_missing(values[0]):
        # Nested lists of numbers are a matrix; label sets of integer ids must be sets.
        try:
            candidate = np.asarray(values)
        except (TypeError, ValueError):
            candidate = None
        if candidate is not None and candidate.dtype.kind in "biuf":
            matrix = candidate
    if matrix is not None and matrix.ndim == 2:
        label_names = _check_labels_arg(labels, matrix.shape[1])
        if matrix.shape[1] == 0:
            raise ValueError(f"`{name}` has 0 columns; at least one label is needed.")
        Y = _from_matrix(matrix, name)
        if label_names is None:
            label_names = np.arange(Y.shape[1])
        return MultiHotLabels(Y=Y, labels=label_names)
    if matrix is not None:
        raise TypeError(
            f"`{name}` must be a 2-D 0/1 matrix (n_samples, n_labels) or a sequence of label "
            f"sets; received an array of shape {matrix.shape}. A 1-D vector of class ids is "
            "single-label: use `cb.class_distribution`."
        )
    label_names = _check_labels_arg(labels, None)
    Y, names = _from_sets(values, label_names, sep, name)
    return MultiHotLabels(Y=Y, labels=names)


class LabelDistribution:
    r"""Per-label positive counts of a multi-label target and the imbalance measures built on them.

    Build it with :func:`label_distribution`.

    Attributes
    ----------
    labels : ndarray of shape (n_labels,)
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
    """

    def __init__(self, encoded: MultiHotLabels) -> None:
        Y = encoded.Y
        self.labels = encoded.labels
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
        return self.labels[self.counts == 0].tolist()

    @property
    def fractions(self) -> np.ndarray:
        """Share of samples that carry each label (need not sum to 1)."""
        return self.counts / self.n_samples

    def to_frame(self) -> pd.DataFrame:
        """One row per label: ``count``, ``fraction`` and ``irlbl``, most frequent first.

        Examples
        --------
        >>> import classbalance.multilabel as ml
        >>> ml.label_distribution([{"a"}, {"a", "b"}, {"a"}, set()]).to_frame()
               count  fraction  irlbl
        label
        a          3      0.75    1.0
        b          1      0.25    3.0
        """
        frame = pd.DataFrame(
            {"count": self.counts, "fraction": self.fractions, "irlbl": self.irlbl},
            index=pd.Index(self.labels, name="label"),
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
        """Bar chart of positives per label, most frequent first (needs matplotlib).

        Parameters
        ----------
        log : bool, default=False
            Log-scale count axis (long-tailed labels).
        path : path, default=None
            Save the figure as PNG there (atomically).
        ax : matplotlib Axes, default=None
            Draw into these axes instead of a new figure.
        title : str, default=None
            Title; default states MeanIR and SCUMBLE.

        Returns
        -------
        matplotlib.figure.Figure

        Examples
        --------
        >>> import classbalance.multilabel as ml
        >>> fig = ml.label_distribution(["a|b", "a", "a|c"], sep="|").plot()
        >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
        ['a', 'b', 'c']
        """
        if not isinstance(log, bool):
            raise TypeError(f"`log` must be a bool. Received: log={short_repr(log)}")
        frame = self.to_frame()
        names = [str(v) for v in frame.index.tolist()]
        counts = frame["count"].to_numpy()
        if ax is None:
            figure_mod = require("matplotlib.figure", "LabelDistribution.plot")
            agg = require("matplotlib.backends.backend_agg", "LabelDistribution.plot")
            fig = figure_mod.Figure(
                figsize=(max(5.0, 0.45 * len(names) + 2.0), 4.0), layout="constrained"
            )
            agg.FigureCanvasAgg(fig)
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        positions = np.arange(len(names))
        bars = ax.bar(positions, counts, color="#4C72B0")
        many = len(names) > 6
        ax.set_xticks(
            positions, names, rotation=45 if many else 0, ha="right" if many else "center"
        )
        if log:
            ax.set_yscale("log")
        if len(names) <= 40:
            ax.bar_label(bars, labels=[f"{n:,}" for n in counts.tolist()], fontsize=7, padding=2)
        ax.margins(y=0.2)
        ax.set_xlabel("label")
        ax.set_ylabel("positive samples" + (" (log scale)" if log else ""))
        empty = f", {len(self.empty_labels)} without positives" if self.empty_labels else ""
        ax.set_title(
            title
            or f"{self.n_samples:,} samples, {self.n_labels} labels{empty}; "
            f"MeanIR {self.mean_ir:.3g}, SCUMBLE {self.scumble:.3f}"
        )
        if path is not None:
            atomic_write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
        return fig

    def __repr__(self) -> str:
        return (
            f"LabelDistribution(n_samples={self.n_samples}, n_labels={self.n_labels}, "
            f"mean_ir={self.mean_ir:.4g}, max_ir={self.max_ir:.4g}, scumble={self.scumble:.4g}, "
            f"empty_labels={len(self.empty_labels)})"
        )


def label_distribution(
    y: Any, *, labels: Sequence[Any] | None = None, sep: str | None = None
) -> LabelDistribution:
    """Per-label counts, IRLbl, MeanIR and SCUMBLE of a multi-label target.

    Parameters
    ----------
    y : multi-hot matrix, sequence of label sets, or strings joined by ``sep``
        See :func:`encode_multilabel`.
    labels : sequence, default=None
        Label names / column order (see :func:`encode_multilabel`).
    sep : str, default=None
        Separator inside label strings.

    Returns
    -------
    LabelDistribution

    Examples
    --------
    >>> import numpy as np
    >>> import classbalance.multilabel as ml
    >>> Y = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 0], [1, 0, 1], [0, 1, 0]])
    >>> dist = ml.label_distribution(Y, labels=["head", "mid", "tail"])
    >>> dist.counts.tolist(), dist.irlbl.tolist()
    ([4, 2, 1], [1.0, 2.0, 4.0])
    >>> round(dist.mean_ir, 3), round(dist.scumble, 3)
    (2.333, 0.051)
    """
    return LabelDistribution(encode_multilabel(y, labels=labels, sep=sep))


def pos_weight(
    y: Any,
    *,
    smoothing: float = 0.0,
    power: float = 1.0,
    labels: Sequence[Any] | None = None,
    sep: str | None = None,
) -> np.ndarray:
    r"""Per-label positive weights ``negatives / positives`` for binary cross-entropy.

    Ready for ``torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w))`` and for
    :class:`classbalance.keras.losses.WeightedBinaryCrossentropy`: the positive
    term of label ``l`` is multiplied by ``w[l]``, so positives and negatives
    of every label weigh the same in total.

    .. math:: w_l = \left(\frac{n_{\mathrm{neg},l} + s}{n_{\mathrm{pos},l} + s}\right)^{p}

    Parameters
    ----------
    y : multi-hot matrix, label sets, strings joined by ``sep``, or LabelDistribution
        Training labels (see :func:`encode_multilabel`), or their
        :func:`label_distribution`.
    smoothing : float, default=0.0
        Additive smoothing ``s`` (>= 0) of both counts; it tames the weight of
        very rare labels (``s=1`` is Laplace smoothing).
    power : float, default=1.0
        Exponent ``p`` in [0, 1] (0.5 = square root: a milder re-weighting).
    labels, sep :
        As for :func:`encode_multilabel`.

    Returns
    -------
    ndarray of shape (n_labels,), float64

    Warns
    -----
    UserWarning
        For labels with no positive sample when ``smoothing=0``: their
        weight would be infinite (and ``inf * 0`` is NaN inside the loss), so
        it is set to 1 (no positive term ever fires for them anyway).

    Examples
    --------
    >>> import numpy as np
    >>> import classbalance.multilabel as ml
    >>> Y = np.array([[1, 0], [1, 0], [1, 1], [0, 0]])
    >>> ml.pos_weight(Y).tolist()
    [0.3333333333333333, 3.0]
    >>> ml.pos_weight(Y, smoothing=1.0).tolist()
    [0.5, 2.0]
    """
    for value, arg in ((smoothing, "smoothing"), (power, "power")):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"`{arg}` must be a number. Received: {arg}={short_repr(value)}")
    if not (np.isfinite(smoothing) and smoothing >= 0):
        raise ValueError(
            f"`smoothing` must be a finite number >= 0. Received: smoothing={smoothing}"
        )
    if not 0 <= power <= 1:
        raise ValueError(f"`power` must be in [0, 1]. Received: power={power}")
    if isinstance(y, LabelDistribution):
        names, n_samples, positives = y.labels, y.n_samples, y.counts.astype(np.float64)
    else:
        enc = encode_multilabel(y, labels=labels, sep=sep)
        names, n_samples = enc.labels, enc.n_samples
        positives = enc.Y.sum(axis=0, dtype=np.int64).astype(np.float64)
    negatives = n_samples - positives
    empty = positives + smoothing == 0
    if empty.any():
        warnings.warn(
            f"Labels {short_repr(names[empty].tolist())} have no positive sample; their "
            "pos_weight is set to 1. Pass smoothing > 0 to give them a finite weight instead.",
            UserWarning,
            stacklevel=2,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = (negatives + smoothing) / (positives + smoothing)
    weights = np.where(empty, 1.0, weights)
    return np.power(weights, power)
