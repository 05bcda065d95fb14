"""Reading a multi-label target given as label sets, separated strings or a 0/1 matrix.

Private helpers of :func:`classbalance.labels.encode_multilabel`: each turns
one accepted form into a uint8 matrix of shape ``(n_samples, n_labels)``
plus the label names, with errors that name the offending row and value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from classbalance._validation import short_repr

SET_TYPES = (set, frozenset, list, tuple)
# Characters that often join labels in CSV columns; used only to explain errors.
COMMON_SEPARATORS = ("|", ",", ";", " ", "\t", "/")


def is_missing(value: Any) -> bool:
    """None, pandas' NA or a float NaN: a row without labels."""
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def check_class_names(classes: Any, n_columns: int | None) -> np.ndarray | None:
    """The label names as an object array (one per column when ``n_columns`` is known)."""
    if classes is None:
        return None
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Iterable):
        raise TypeError(
            f"`classes` must be a sequence of label names. Received: classes={short_repr(classes)}"
        )
    names = list(classes)
    if len(set(names)) != len(names):
        raise ValueError(f"`classes` must not repeat a name. Received: classes={short_repr(names)}")
    if n_columns is not None and len(names) != n_columns:
        raise ValueError(
            f"`classes` must name each of the {n_columns} columns of `y`. "
            f"Received: {len(names)} names, classes={short_repr(names)}"
        )
    return np.asarray(names, dtype=object) if names else np.zeros(0, dtype=object)


def matrix_to_multihot(arr: np.ndarray, name: str) -> np.ndarray:
    """A numeric 2-D array of 0 and 1 as uint8; any other value is an error naming its cell."""
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
    strings = [v for v in values if not is_missing(v)]
    if sep is None:
        seen = sorted({s for s in COMMON_SEPARATORS if any(s in v for v in strings)})
        hint = f" The values contain {seen}." if seen else ""
        raise ValueError(
            f"`{name}` holds strings; pass `sep`, the character that joins labels within a "
            f"string (e.g. sep='|' for 'cat|dog'), or give label sets instead.{hint} "
            f"Received: {name}[0]={short_repr(strings[0] if strings else values[0])}"
        )
    if not isinstance(sep, str) or not sep:
        raise TypeError(f"`sep` must be a non-empty string. Received: sep={short_repr(sep)}")
    if strings and not any(sep in v for v in strings):
        others = [s for s in COMMON_SEPARATORS if s != " " and any(s in v for v in strings)]
        if others:
            raise ValueError(
                f"`sep`={sep!r} never occurs in `{name}`, but {others} does; is that the "
                f"separator? Received: {name}[0]={short_repr(strings[0])}"
            )
    return [[] if is_missing(v) else [t.strip() for t in v.split(sep) if t.strip()] for v in values]


def sets_to_multihot(
    values: Sequence[Any], classes: np.ndarray | None, sep: str | None, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(Y, names)`` from label sets or strings of labels joined by ``sep``."""
    kinds = set()
    for v in values:  # one type check per row, not per label
        if isinstance(v, str):
            kinds.add("str")
        elif isinstance(v, SET_TYPES):
            kinds.add("set")
        elif not is_missing(v):
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
        rows = [[] if is_missing(v) else list(v) for v in values]
    # One flat array of (row, label) pairs, factorized once: no per-label Python work.
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    flat = [label for r in rows for label in r]
    if classes is None:
        try:
            names = np.asarray(sorted(set(flat)), dtype=object)
        except TypeError:  # unorderable mix of label types: keep first-seen order
            names = np.asarray(list(dict.fromkeys(flat)), dtype=object)
        codes = pd.Index(names).get_indexer(flat) if flat else np.zeros(0, np.int64)
    else:
        names = classes
        codes = pd.Index(names).get_indexer(flat) if flat else np.zeros(0, np.int64)
        if (codes < 0).any():
            unknown = sorted({str(flat[i]) for i in np.flatnonzero(codes < 0)[:20]})
            raise ValueError(
                f"`{name}` uses labels not listed in `classes`: {short_repr(unknown)}. Add them "
                f"to `classes` or drop them. Received: classes={short_repr(list(names))}"
            )
    Y = np.zeros((len(rows), len(names)), dtype=np.uint8)
    Y[np.repeat(np.arange(len(rows)), lengths), codes] = 1
    return Y, names
