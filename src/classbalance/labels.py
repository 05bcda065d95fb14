"""Validate a target once: class codes ``0..K-1``, or a multi-hot matrix for multi-label data.

Single-label targets (a class vector, one-hot rows) become
:class:`EncodedLabels`: integer codes plus the class values they stand for.
Multi-label targets (each sample has a *set* of labels) become
:class:`MultiHotLabels`: a 0/1 matrix ``Y`` of shape ``(n_samples,
n_labels)`` plus the label names, by :func:`encode_multilabel`. Everything
downstream (distribution, weights, sampling plans) works on the codes or the
matrix; everything user-facing speaks the original values, kept in
``classes`` for both kinds.

Multi-label inputs accepted by :func:`encode_multilabel`:

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
allowed too and reported (``LabelDistribution.empty_labels``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from classbalance._label_codes import (
    apply_declared,
    code_dtype,
    encode_matrix,
    factorize,
)
from classbalance._label_sets import (
    check_class_names,
    is_missing,
    matrix_to_multihot,
    sets_to_multihot,
)
from classbalance._validation import short_repr

__all__ = [
    "EncodedLabels",
    "MultiHotLabels",
    "encode_labels",
    "encode_multilabel",
    "is_multihot",
    "keras_keys",
]


@dataclass(frozen=True)
class EncodedLabels:
    """Labels as integer codes plus the class values they stand for.

    Attributes
    ----------
    codes : ndarray of shape (n_samples,)
        Class index of each sample, in ``0..n_classes-1`` (smallest unsigned
        dtype that fits).
    classes : ndarray of shape (n_classes,)
        The original class value of each code, in declared or sorted order.
    kind : {"vector", "onehot", "column"}
        What ``y`` looked like: a class vector, a one-hot (or label-smoothed)
        matrix, or a single 0/1 or probability column.

    Examples
    --------
    >>> import classbalance as cb
    >>> enc = cb.encode_labels(["cat", "dog", "cat", "cat"])
    >>> enc.codes.tolist(), enc.classes.tolist(), enc.kind
    ([0, 1, 0, 0], ['cat', 'dog'], 'vector')
    >>> enc.counts().tolist(), enc.n_samples, enc.n_classes
    ([3, 1], 4, 2)
    >>> cb.encode_labels([[0, 1], [1, 0]]).kind  # one-hot rows
    'onehot'
    """

    codes: np.ndarray
    classes: np.ndarray
    kind: str

    @property
    def n_samples(self) -> int:
        """Number of labels."""
        return int(self.codes.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of classes, including declared classes without samples."""
        return int(self.classes.shape[0])

    def counts(self) -> np.ndarray:
        """Samples per class, aligned with :attr:`classes` (int64)."""
        return np.bincount(self.codes, minlength=self.n_classes).astype(np.int64)

    @classmethod
    def from_counts(cls, counts: Any, classes: Any = None) -> EncodedLabels:
        """Labels sorted by class with the given count per class.

        For planners that know only how many samples each class has (e.g.
        ``classbalance.tf.resample`` after its label pass): sample ``i`` of
        the result is member ``i - start_c`` of its class ``c``.

        Parameters
        ----------
        counts : array-like of int >= 0, shape (n_classes,)
        classes : array-like of shape (n_classes,), default=None
            Class values; default ``0..n_classes-1``.

        Examples
        --------
        >>> from classbalance.labels import EncodedLabels
        >>> enc = EncodedLabels.from_counts([2, 1], ["a", "b"])
        >>> enc.codes.tolist(), enc.classes.tolist()
        ([0, 0, 1], ['a', 'b'])
        """
        arr = np.asarray(counts)
        if arr.ndim != 1 or arr.dtype.kind not in "iu" or np.any(arr < 0):
            raise ValueError(
                f"`counts` must be a 1-D array of ints >= 0. Received: counts={arr.tolist()!r:.80}"
            )
        values = np.arange(len(arr)) if classes is None else np.asarray(classes)
        if values.shape != arr.shape:
            raise ValueError(
                f"`classes` must have one value per count ({len(arr)}). "
                f"Received {len(values)} classes."
            )
        codes = np.repeat(np.arange(len(arr), dtype=code_dtype(len(arr))), arr)
        return cls(codes, values, "vector")

    def keras_keys(self) -> list[int]:
        """Keys Keras expects in ``fit(class_weight=...)``, one per class (:func:`keras_keys`)."""
        return keras_keys(self.classes, onehot=self.kind == "onehot")


def keras_keys(classes: Any, *, onehot: bool = False) -> list[int]:
    """Keys Keras expects in ``fit(class_weight=...)`` for each class.

    Keras looks a sample's weight up with ``int(label)`` (``argmax`` for
    one-hot rows). So integer-valued classes keep their value (``{3: ..,
    7: ..}`` for labels 3 and 7); other classes (strings) use their code.

    Examples
    --------
    >>> from classbalance.labels import keras_keys
    >>> keras_keys([3, 7]), keras_keys(["cat", "dog"])
    ([3, 7], [0, 1])
    """
    values = np.asarray(classes)
    if onehot:
        return list(range(len(values)))
    if values.dtype.kind in "biu":
        return [int(v) for v in values]
    if values.dtype.kind == "f" and np.all(np.mod(values, 1) == 0):
        return [int(v) for v in values]
    return list(range(len(values)))


def _as_array(y: Any, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Return ``(values, declared_categories)`` for array-likes and pandas input."""
    if isinstance(y, EncodedLabels):
        raise TypeError("internal: EncodedLabels passed to _as_array")
    if isinstance(y, pd.DataFrame):
        if y.shape[1] == 1:
            y = y.iloc[:, 0]
        else:
            return y.to_numpy(), None
    if isinstance(y, (pd.Series, pd.Index, pd.Categorical)):
        dtype = y.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            cat = pd.Categorical(y)
            if (cat.codes < 0).any():
                first = int(np.flatnonzero(cat.codes < 0)[0])
                raise ValueError(
                    f"`{name}` contains a missing label (NaN/None) at position {first}. "
                    "Drop or impute those samples before balancing."
                )
            return cat.codes.astype(np.int64), np.asarray(cat.categories)
        return y.to_numpy(), None
    if isinstance(y, (str, bytes)) or np.isscalar(y):
        raise TypeError(
            f"`{name}` must be an array-like of labels (a class vector, a one-hot matrix or a "
            f"pandas Series). Received: {name}={y!r}"
        )
    try:
        arr = np.asarray(y)
    except (ValueError, TypeError) as exc:
        raise TypeError(
            f"`{name}` could not be read as an array of labels ({exc}). "
            "Pass a 1-D class vector or a 2-D one-hot matrix."
        ) from exc
    return arr, None


def encode_labels(
    y: Any,
    *,
    classes: Sequence[Any] | None = None,
    name: str = "y",
    function: str = "This function",
    multilabel_alternative: str | None = None,
) -> EncodedLabels:
    """Validate labels and encode them as codes ``0..K-1`` plus class values.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_classes) or EncodedLabels
        A class vector (ints, strings, bools, floats holding class ids), a
        one-hot or label-smoothed matrix (``keras.utils.to_categorical``), a
        single 0/1 or probability column of shape ``(n_samples, 1)``
        (thresholded at 0.5), or a pandas Series/Categorical (categories give
        the class order).
    classes : sequence, default=None
        Declared classes, in order. Lets a class with zero samples exist (its
        count is 0). Labels outside ``classes`` are an error. For a one-hot
        ``y`` these name the columns.
    name : str, default="y"
        Argument name used in error messages.
    function : str, default="This function"
        Caller named in the multi-label error.
    multilabel_alternative : str, default=None
        What to use instead for multi-label data, named in that error.

    Returns
    -------
    EncodedLabels

    Raises
    ------
    ValueError
        Empty ``y``, missing labels, a multi-hot matrix, labels outside
        ``classes``, arrays of more than 2 dimensions.

    Examples
    --------
    >>> from classbalance.labels import encode_labels
    >>> enc = encode_labels(["cat", "dog", "cat"])
    >>> enc.codes.tolist(), enc.classes.tolist()
    ([0, 1, 0], ['cat', 'dog'])
    """
    if isinstance(y, EncodedLabels):
        return y
    arr, categories = _as_array(y, name)
    if arr.ndim == 0:
        raise ValueError(f"`{name}` must be 1-D or 2-D, got a scalar. Received: {name}={arr!r}")
    if arr.shape[0] == 0:
        raise ValueError(f"`{name}` is empty; at least one labelled sample is needed.")
    if arr.ndim > 2:
        raise ValueError(
            f"`{name}` must be a class vector (n_samples,) or a one-hot matrix "
            f"(n_samples, n_classes). Received an array of shape {arr.shape}."
        )
    kind = "vector"
    if categories is not None:
        codes: np.ndarray = arr
        found = categories
        if classes is not None:
            remap, found = apply_declared(categories, classes, "classes of the Categorical")
            codes = remap[codes]
        return _finish(codes, found, kind)
    if arr.ndim == 2:
        if arr.shape[1] == 1 and arr.dtype.kind not in "biuf":
            arr = arr[:, 0]
        else:
            codes, kind = encode_matrix(arr, name, function, multilabel_alternative)
            if kind == "onehot":
                k = arr.shape[1]
                if classes is not None:
                    declared = np.asarray(list(classes))
                    if declared.shape != (k,):
                        raise ValueError(
                            f"`classes` has {declared.size} entries but the one-hot `{name}` has "
                            f"{k} columns; give one class name per column."
                        )
                    return _finish(codes, declared, kind)
                return _finish(codes, np.arange(k), kind)
            if kind == "column":
                found = np.array([0, 1])
                if classes is not None:
                    found = np.asarray(list(classes))
                    if found.shape != (2,):
                        raise ValueError(
                            "`classes` must name 2 classes for a 0/1 column "
                            f"`{name}`. Received: classes={list(classes)!r}"
                        )
                return _finish(codes, found, kind)
            arr = codes  # integer class ids given as a column
    if classes is not None:
        codes, found = apply_declared(arr, classes, name)
    else:
        codes, found = factorize(arr, name)
    return _finish(codes, found, kind)


def _finish(codes: np.ndarray, classes: np.ndarray, kind: str) -> EncodedLabels:
    codes = np.asarray(codes)
    dtype = code_dtype(len(classes))
    if codes.dtype != dtype:
        codes = codes.astype(dtype)
    return EncodedLabels(codes=codes, classes=np.asarray(classes), kind=kind)


# --------------------------------------------------------------------- multi-label
@dataclass(frozen=True)
class MultiHotLabels:
    """A validated multi-label target.

    Attributes
    ----------
    Y : ndarray of shape (n_samples, n_labels), dtype uint8
        ``Y[i, l] == 1`` when sample ``i`` has label ``l``.
    classes : ndarray of shape (n_labels,)
        Label names, index = column of ``Y``.

    Examples
    --------
    >>> import classbalance as cb
    >>> labels = cb.encode_multilabel([{"cat"}, {"cat", "dog"}, set()])
    >>> labels.Y.tolist(), labels.classes.tolist()
    ([[1, 0], [1, 1], [0, 0]], ['cat', 'dog'])
    >>> labels.n_samples, labels.n_labels
    (3, 2)
    """

    Y: np.ndarray
    classes: np.ndarray

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
    >>> from classbalance.labels import is_multihot
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


def encode_multilabel(
    y: Any, *, classes: Sequence[Any] | None = None, sep: str | None = None, name: str = "y"
) -> MultiHotLabels:
    """Validate a multi-label target into a 0/1 matrix and label names.

    Parameters
    ----------
    y : array-like of shape (n_samples, n_labels), or sequence of label sets or strings
        A 0/1 matrix (array, nested lists, DataFrame), a sequence/Series of
        label sets, or a sequence/Series of strings of labels joined by ``sep``.
        A :class:`MultiHotLabels` is returned unchanged.
    classes : sequence, default=None
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
        ``Y`` (uint8, shape (n_samples, n_labels)) and ``classes``.

    Raises
    ------
    TypeError
        ``y`` is not one of the accepted forms (e.g. a 1-D vector of numbers,
        which is a single-label class vector).
    ValueError
        Empty ``y``; a matrix entry other than 0 or 1 (NaN included); strings
        without ``sep``, or a ``sep`` that never occurs while another common
        separator does; labels outside ``classes``.

    Examples
    --------
    >>> from classbalance.labels import encode_multilabel
    >>> enc = encode_multilabel(["cat|dog", "dog", "", "bird|dog"], sep="|")
    >>> enc.classes.tolist()
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
        if classes is None:
            classes = list(y.columns)
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
    elif not isinstance(values[0], (str, set, frozenset)) and not is_missing(values[0]):
        # Nested lists of numbers are a matrix; label sets of integer ids must be sets.
        try:
            candidate = np.asarray(values)
        except (TypeError, ValueError):
            candidate = None
        if candidate is not None and candidate.dtype.kind in "biuf":
            matrix = candidate
    if matrix is not None and matrix.ndim == 2:
        names = check_class_names(classes, matrix.shape[1])
        if matrix.shape[1] == 0:
            raise ValueError(f"`{name}` has 0 columns; at least one label is needed.")
        Y = matrix_to_multihot(matrix, name)
        return MultiHotLabels(Y=Y, classes=np.arange(Y.shape[1]) if names is None else names)
    if matrix is not None:
        raise TypeError(
            f"`{name}` must be a 2-D 0/1 matrix (n_samples, n_labels) or a sequence of label "
            f"sets; received an array of shape {matrix.shape}. A 1-D vector of class ids is "
            "single-label: use `cb.class_distribution`."
        )
    Y, found = sets_to_multihot(values, check_class_names(classes, None), sep, name)
    return MultiHotLabels(Y=Y, classes=found)
