"""Encoding kernels of :mod:`classbalance.labels`: class codes from any label vector.

``factorize`` turns a 1-D label array into codes ``0..K-1`` and the sorted
classes (a bincount lookup for small non-negative integers, which is O(n));
``encode_matrix`` reads a one-hot (or label-smoothed) matrix and refuses a
multi-hot one with a pointer to the multi-label function; ``apply_declared``
encodes against classes the caller declared. The public doors, their
validation and their messages are in :mod:`classbalance.labels`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DENSE_LIMIT",
    "apply_declared",
    "code_dtype",
    "encode_matrix",
    "factorize",
    "multilabel_message",
]

# Integer labels in [0, DENSE_LIMIT) are encoded with a bincount lookup table,
# which is O(n) and much faster than a sort or hash for 1e8 labels.
DENSE_LIMIT = 1 << 20


def code_dtype(n_classes: int) -> np.dtype:
    if n_classes <= 1 << 8:
        return np.dtype(np.uint8)
    if n_classes <= 1 << 16:
        return np.dtype(np.uint16)
    return np.dtype(np.int32)


def multilabel_message(
    name: str, row: int, n_pos: int, function: str, alternative: str | None
) -> str:
    text = (
        f"`{name}` looks multi-label (multi-hot): row {row} has {n_pos} positive classes. "
        f"{function} supports single-label targets only."
    )
    if alternative:
        text += f" For multi-label data use {alternative}."
    else:
        text += " Pass one class per sample (a class vector or a one-hot matrix)."
    return text


def encode_matrix(
    arr: np.ndarray, name: str, function: str, multilabel_alternative: str | None
) -> tuple[np.ndarray, str]:
    n, k = arr.shape
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"`{name}` is a 2-D array of dtype {arr.dtype}; a 2-D `{name}` must be a numeric "
            "one-hot matrix of shape (n_samples, n_classes)."
        )
    values = arr.astype(np.float64, copy=False)
    if np.isnan(values).any():
        row = int(np.flatnonzero(np.isnan(values).any(axis=1))[0])
        raise ValueError(f"`{name}` contains NaN in row {row}. Drop or fix those samples.")
    if k == 1:
        col = values[:, 0]
        if np.all(np.mod(col, 1) == 0) and (col.min() < 0 or col.max() > 1):
            return col.astype(np.int64), "vector"  # a column of integer class ids
        if col.min() < 0 or col.max() > 1:
            raise ValueError(
                f"`{name}` has shape ({n}, 1) with values outside [0, 1] that are not integer "
                f"class ids (min={col.min():g}, max={col.max():g})."
            )
        return (col >= 0.5).astype(np.uint8), "column"
    binary = np.isin(values, (0.0, 1.0)).all()
    row_sums = values.sum(axis=1)
    if binary:
        many = row_sums > 1
        if many.any():
            row = int(np.flatnonzero(many)[0])
            raise ValueError(
                multilabel_message(name, row, int(row_sums[row]), function, multilabel_alternative)
            )
        none = row_sums < 1
        if none.any():
            row = int(np.flatnonzero(none)[0])
            raise ValueError(
                f"`{name}` row {row} has no positive class (all zeros); every row of a one-hot "
                "matrix needs exactly one 1."
            )
        return values.argmax(axis=1), "onehot"
    # Label-smoothed one-hot rows: non-negative, each summing to 1.
    if values.min() >= 0 and np.allclose(row_sums, 1.0, atol=1e-4):
        return values.argmax(axis=1), "onehot"
    row = int(np.flatnonzero(~np.isclose(row_sums, 1.0, atol=1e-4) | (values < 0).any(axis=1))[0])
    raise ValueError(
        f"`{name}` is a 2-D array but not a one-hot matrix: row {row} is {values[row][:10]!r}. "
        "Pass a class vector of shape (n_samples,) or a one-hot matrix (e.g. from "
        "keras.utils.to_categorical)."
    )


def factorize(values: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes and sorted unique classes of a 1-D array, rejecting missing labels."""
    kind = values.dtype.kind
    if kind in "iu" and values.size:
        lo, hi = int(values.min()), int(values.max())
        if lo >= 0 and hi < DENSE_LIMIT:
            present = np.bincount(values, minlength=hi + 1) > 0
            classes = np.flatnonzero(present).astype(values.dtype)
            dtype = code_dtype(len(classes))
            if present.all():  # labels are already 0..K-1: the codes are the labels
                return values.astype(dtype), classes
            lookup = (np.cumsum(present) - 1).astype(dtype)
            return lookup[values], classes
    if kind == "b":
        present = np.bincount(values.view(np.uint8), minlength=2) > 0
        lookup = np.cumsum(present) - 1
        return lookup[values.view(np.uint8)], np.array([False, True])[present]
    missing = pd.isna(values)
    if np.any(missing):
        first = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"`{name}` contains a missing label (NaN/None) at position {first}. "
            "Drop or impute those samples before balancing."
        )
    if kind == "O" and pd.api.types.infer_dtype(values, skipna=False).startswith("mixed"):
        types = sorted({type(v).__name__ for v in values[:10000]})
        raise TypeError(
            f"`{name}` mixes label types ({', '.join(types)}); 1 and '1' would be two classes. "
            "Use one type for all labels (e.g. all str)."
        )
    codes, uniques = pd.factorize(values, sort=True)
    return codes, np.asarray(uniques)


def apply_declared(
    values: np.ndarray, classes: Sequence[Any], name: str
) -> tuple[np.ndarray, np.ndarray]:
    declared = np.asarray(list(classes))
    if declared.ndim != 1 or declared.size == 0:
        raise ValueError(
            f"`classes` must be a non-empty 1-D sequence. Received: classes={classes!r}"
        )
    index = pd.Index(declared)
    if not index.is_unique:
        dupes = index[index.duplicated()].tolist()[:5]
        raise ValueError(f"`classes` lists a class more than once: {dupes}.")
    missing = pd.isna(values) if values.dtype.kind in "fOUS" else None
    if missing is not None and np.any(missing):
        first = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"`{name}` contains a missing label (NaN/None) at position {first}. "
            "Drop or impute those samples before balancing."
        )
    codes = index.get_indexer(values)
    unknown = codes < 0
    if unknown.any():
        extra = pd.unique(values[unknown])[:5].tolist()
        raise ValueError(
            f"`{name}` has labels that are not in `classes`: {extra}. "
            f"Add them to `classes` (declared: {declared.tolist()[:20]})."
        )
    return codes, declared
