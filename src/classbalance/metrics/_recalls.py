"""The recall kernel and the training-frequency groups, shared by both reports."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from classbalance._validation import short_repr

__all__ = [
    "FREQUENCY_BOUNDS",
    "FREQUENCY_GROUPS",
    "balanced_accuracy",
    "check_bounds",
    "class_recalls",
    "frequency_groups",
]

#: Names of the training-frequency groups, most frequent first.
FREQUENCY_GROUPS = ("head", "medium", "tail")
#: ``(low, high)``: tail < low <= medium <= high < head, in training samples per class (or
#: positives per label); the long-tail benchmarks' rule (Liu et al., CVPR 2019, OLTR; Wu et
#: al., ECCV 2020, VOC-MLT / COCO-MLT).
FREQUENCY_BOUNDS = (20, 100)


def check_bounds(bounds: Any, name: str = "bounds") -> tuple[int, int]:
    """``(low, high)`` as ints with ``0 <= low <= high``; errors name the argument ``name``."""
    try:
        low, high = bounds
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"`{name}` must be a pair (low, high). Received: {name}={bounds!r}"
        ) from exc
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in (low, high)):
        raise TypeError(f"`{name}` must hold two numbers. Received: {name}={bounds!r}")
    if not 0 <= low <= high:
        raise ValueError(f"`{name}` must satisfy 0 <= low <= high. Received: {name}={bounds!r}")
    return (int(low), int(high))


def frequency_groups(
    train_counts: Any, bounds: tuple[int, int] = FREQUENCY_BOUNDS
) -> dict[str, np.ndarray]:
    """Classes (or labels) in each head / medium / tail group by training count.

    With ``bounds=(low, high)``: *head* has more than ``high`` training samples,
    *medium* from ``low`` to ``high``, *tail* fewer than ``low``. The default
    (20, 100) is the long-tail benchmarks' many / medium / few-shot rule.

    Parameters
    ----------
    train_counts : array-like of shape (n_classes,)
        Training samples per class (multi-label: positives per label).
    bounds : (int, int), default=(20, 100)

    Returns
    -------
    dict of str to ndarray
        ``{"head": ..., "medium": ..., "tail": ...}``: class indices (int64),
        every group present, possibly empty.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.metrics import frequency_groups
    >>> {k: v.tolist() for k, v in frequency_groups([500, 100, 20, 19, 0]).items()}
    {'head': [0], 'medium': [1, 2], 'tail': [3, 4]}
    """
    low, high = check_bounds(bounds)
    counts = np.asarray(train_counts)
    if counts.ndim != 1 or counts.dtype.kind not in "iuf":
        raise ValueError(
            "`train_counts` must be one number per class. "
            f"Received: train_counts={short_repr(train_counts)}"
        )
    head, medium, tail = FREQUENCY_GROUPS
    return {
        head: np.flatnonzero(counts > high),
        medium: np.flatnonzero((counts >= low) & (counts <= high)),
        tail: np.flatnonzero(counts < low),
    }


def class_recalls(
    y_true: Any,
    y_pred: Any,
    n_classes: int | None = None,
    *,
    sample_weight: Any = None,
) -> np.ndarray:
    """Recall of every class from integer class codes, for one prediction or a batch of them.

    The one recall kernel of the package (no loop over samples or classes):
    :func:`balanced_accuracy` averages it, and the single-label report, the
    fastai metrics and ``compare`` (its bootstrap included) call it.

    Parameters
    ----------
    y_true : array-like of int, shape (n_samples,)
        True class codes ``0..K-1``.
    y_pred : array-like of int, shape (..., n_samples)
        Predicted class codes; leading axes are a batch (e.g. one row per
        training seed).
    n_classes : int, default=None
        ``K``; default: one more than the largest code seen.
    sample_weight : array-like of shape (..., n_samples), default=None
        Weights of the samples (e.g. bootstrap draw counts), broadcast
        against ``y_pred``.

    Returns
    -------
    ndarray of shape (..., n_classes), float64
        ``(weighted) hits / (weighted) true samples`` of each class; NaN for a
        class with no (weighted) true sample.

    Examples
    --------
    >>> from classbalance.metrics import class_recalls
    >>> class_recalls([0, 0, 1, 1], [0, 1, 1, 1], 3).tolist()
    [0.5, 1.0, nan]
    >>> class_recalls([0, 0, 1, 1], [[0, 1, 1, 1], [0, 0, 0, 0]]).tolist()
    [[0.5, 1.0], [1.0, 0.0]]
    """
    true = np.asarray(y_true)
    pred = np.asarray(y_pred)
    for name, arr in (("y_true", true), ("y_pred", pred)):
        if arr.dtype.kind not in "biu":
            raise TypeError(
                f"`{name}` must hold integer class codes 0..K-1. Received: dtype={arr.dtype}"
            )
    if true.ndim != 1 or pred.ndim == 0 or pred.shape[-1] != true.shape[0]:
        raise ValueError(
            "`y_true` must be 1-D and `y_pred` must end in the same number of samples. "
            f"Received: y_true of shape {true.shape}, y_pred of shape {pred.shape}"
        )
    true = true.astype(np.int64, copy=False)
    if true.size and true.min() < 0:
        raise ValueError(f"`y_true` must hold codes >= 0. Received: min={int(true.min())}")
    seen = max(int(true.max(initial=-1)), int(pred.max(initial=-1))) + 1
    if n_classes is None:
        n_classes = seen
    elif isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral):
        raise TypeError(f"`n_classes` must be an int. Received: n_classes={n_classes!r}")
    elif int(true.max(initial=-1)) >= n_classes:
        raise ValueError(
            f"`y_true` holds code {int(true.max())}, outside 0..n_classes-1 = 0..{n_classes - 1}."
        )
    # Samples grouped by true class (already so when y_true is sorted): one reduceat per sum.
    if np.all(true[1:] >= true[:-1]):
        order = None
        sorted_true = true
    else:
        order = np.argsort(true, kind="stable")
        sorted_true = true[order]
    present, starts = np.unique(sorted_true, return_index=True)
    hit = (pred if order is None else pred[..., order]) == sorted_true
    if sample_weight is None:
        hits = np.add.reduceat(hit, starts, axis=-1, dtype=np.float64)
        support = np.diff(np.r_[starts, true.size]).astype(np.float64)
    else:
        weights = np.asarray(sample_weight)
        if weights.ndim == 0 or weights.shape[-1] != true.shape[0]:
            raise ValueError(
                "`sample_weight` must end in one weight per sample. "
                f"Received: sample_weight of shape {weights.shape}, {true.shape[0]} samples"
            )
        weights = weights if order is None else weights[..., order]
        hits = np.add.reduceat(weights * hit, starts, axis=-1)
        support = np.add.reduceat(weights, starts, axis=-1)
    batch = np.broadcast_shapes(hits.shape[:-1], np.shape(support)[:-1])
    out = np.full((*batch, n_classes), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[..., present] = np.where(support > 0, hits / support, np.nan)
    return out


def balanced_accuracy(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float | np.ndarray:
    """Mean recall over the classes present in ``y_true``, from integer class codes.

    The package's one balanced accuracy (scikit-learn's
    ``balanced_accuracy_score`` on codes, without its warnings): the mean of
    :func:`class_recalls` over classes with (weighted) true samples. A batch
    of predictions gives a batch of values.

    Parameters
    ----------
    y_true : array-like of int, shape (n_samples,)
    y_pred : array-like of int, shape (..., n_samples)
    sample_weight : array-like of shape (..., n_samples), default=None
        As in :func:`class_recalls`.

    Returns
    -------
    float, or ndarray of shape ``y_pred.shape[:-1]`` for a batch

    Examples
    --------
    >>> from classbalance.metrics import balanced_accuracy
    >>> balanced_accuracy([0, 0, 0, 1], [0, 0, 0, 0])
    0.5
    >>> balanced_accuracy([0, 0, 1], [[0, 1, 1], [0, 0, 1]]).tolist()
    [0.75, 1.0]
    """
    recalls = class_recalls(y_true, y_pred, sample_weight=sample_weight)
    present = ~np.isnan(recalls)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(present, recalls, 0.0).sum(axis=-1) / present.sum(axis=-1)
    return float(value) if np.ndim(value) == 0 else value
