"""Decision thresholds tuned on validation data: one binary classifier, or one per label.

:func:`tune_threshold` tunes the threshold of a binary classifier (one column
of scores); :func:`tune_thresholds` one threshold per label of a multi-label
classifier. Tune on validation data and apply the result to the test set;
tuning on the test set would overstate every metric.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from classbalance._validation import check_choice, short_repr
from classbalance.labels import encode_labels, encode_multilabel

__all__ = [
    "THRESHOLD_METRICS",
    "LabelThresholds",
    "ThresholdResult",
    "tune_threshold",
    "tune_thresholds",
]

_LABEL_METRICS = ("f1", "balanced_accuracy", "mcc")


def check_scores(scores: Any, shape: tuple[int, int], name: str = "scores") -> np.ndarray:
    """``scores`` as a finite float64 array of ``shape`` (one column per label)."""
    try:
        values = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"`{name}` must be a numeric array of shape {shape}. "
            f"Received: {name}={short_repr(scores)}"
        ) from exc
    if values.shape != shape:
        raise ValueError(
            f"`{name}` must have one score per sample and label, shape {shape} like the labels. "
            f"Received: {name} of shape {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        row, col = (int(v) for v in np.argwhere(~np.isfinite(values))[0])
        raise ValueError(
            f"`{name}` must be finite; found {values[row, col]} at row {row}, column {col}."
        )
    return values


def _counts_metrics(tp, fp, tn, fn) -> dict[str, np.ndarray]:
    """Binary metrics at every threshold from confusion counts (vectorized)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        tnr = np.where(tn + fp > 0, tn / (tn + fp), 0.0)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
        mcc_den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        mcc = np.where(mcc_den > 0, (tp * tn - fp * fn) / mcc_den, 0.0)
    return {
        "f1": f1,
        "balanced_accuracy": (tpr + tnr) / 2,
        "g_mean": np.sqrt(tpr * tnr),
        "youden": tpr + tnr - 1,
        "mcc": mcc,
        "accuracy": (tp + tn) / (tp + fp + tn + fn),
    }


THRESHOLD_METRICS = ("f1", "balanced_accuracy", "g_mean", "youden", "mcc", "accuracy")


@dataclass(frozen=True)
class ThresholdResult:
    """What :func:`tune_threshold` found.

    Attributes
    ----------
    threshold : float
        Predict the positive class when ``score >= threshold``.
    score : float
        The metric at that threshold.
    metric : str
        The metric's name.
    curve : pandas.DataFrame
        One row per candidate threshold (ascending): ``threshold`` and the metric.
    """

    threshold: float
    score: float
    metric: str
    curve: pd.DataFrame

    def predict(self, scores: Any) -> np.ndarray:
        """0/1 predictions ``scores >= threshold`` (1 = the positive class)."""
        return (_binary_scores(scores) >= self.threshold).astype(np.int64)


def _binary_scores(scores: Any) -> np.ndarray:
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] == 2:
        values = values[:, 1]
    elif values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1 or not np.all(np.isfinite(values)):
        raise ValueError(
            "`scores` must be finite scores of the positive class, shape (n_samples,), or "
            f"two-column probabilities (n_samples, 2). Received an array of shape {values.shape}."
        )
    return values


def tune_threshold(
    y_true: Any,
    scores: Any,
    metric: str | Callable[[np.ndarray, np.ndarray], float] = "f1",
    *,
    pos_label: Any = None,
) -> ThresholdResult:
    """Choose the decision threshold of a binary classifier that maximizes ``metric``.

    Every distinct score is a candidate threshold; the built-in metrics are
    computed for all of them at once from cumulative counts (one sort), so
    this is fast for millions of samples. Tune on validation data, not on
    the test set.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels (any two values; see ``pos_label``).
    scores : array-like of shape (n_samples,) or (n_samples, 2)
        Score or probability of the positive class (the second column of
        two-column probabilities).
    metric : str or callable, default="f1"
        One of ``"f1"``, ``"balanced_accuracy"``, ``"g_mean"`` (geometric
        mean of the two recalls), ``"youden"`` (TPR - FPR), ``"mcc"``,
        ``"accuracy"``; or ``f(y_true01, y_pred01) -> float`` (e.g. a
        scikit-learn metric), evaluated at every candidate threshold.
    pos_label : default=None
        The positive class; default: the larger of the two labels.

    Returns
    -------
    ThresholdResult
        ``threshold``, its ``score``, and the whole ``curve``. Ties go to the
        smallest threshold reaching the best value.

    Examples
    --------
    >>> import numpy as np
    >>> import classbalance as cb
    >>> y = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    >>> s = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.45, 0.38, 0.42])
    >>> result = cb.tune_threshold(y, s, metric="balanced_accuracy")
    >>> result.threshold, round(result.score, 3)
    (0.38, 0.833)
    >>> result.predict(s).tolist()
    [0, 0, 0, 0, 1, 1, 1, 1]
    """
    enc = encode_labels(
        y_true,
        name="y_true",
        function="tune_threshold",
        multilabel_alternative="cb.tune_thresholds(Y_val, scores) (one threshold per label)",
    )
    values = _binary_scores(scores)
    if enc.n_classes != 2:
        raise ValueError(
            f"`y_true` must hold exactly 2 classes for threshold tuning; found {enc.n_classes}: "
            f"{short_repr(enc.classes.tolist())}. For multi-class outputs use `adjust_logits`."
        )
    if values.shape[0] != enc.n_samples:
        raise ValueError(
            f"`y_true` has {enc.n_samples} samples but `scores` has {values.shape[0]}; "
            "they must have the same length."
        )
    classes = enc.classes.tolist()
    if pos_label is None:
        positive_code = 1
    elif pos_label in classes:
        positive_code = classes.index(pos_label)
    else:
        raise ValueError(
            f"`pos_label` must be one of the labels {classes}. Received: pos_label={pos_label!r}"
        )
    positive = enc.codes == positive_code

    order = np.argsort(-values, kind="stable")
    sorted_scores = values[order]
    tp_cum = np.cumsum(positive[order])
    fp_cum = np.cumsum(~positive[order])
    # Last position of every distinct score: predicting "score >= t" there.
    last = np.r_[np.flatnonzero(np.diff(sorted_scores) != 0), len(values) - 1]
    thresholds = sorted_scores[last]
    tp, fp = tp_cum[last].astype(np.float64), fp_cum[last].astype(np.float64)
    n_pos, n_neg = float(positive.sum()), float((~positive).sum())
    fn, tn = n_pos - tp, n_neg - fp

    if callable(metric):
        name = getattr(metric, "__name__", "metric")
        y01 = positive.astype(np.int64)
        curve_values = np.array(
            [metric(y01, (values >= t).astype(np.int64)) for t in thresholds], dtype=np.float64
        )
    else:
        name = check_choice(metric, "metric", THRESHOLD_METRICS)
        curve_values = _counts_metrics(tp, fp, tn, fn)[name]

    ascending = slice(None, None, -1)
    curve = pd.DataFrame({"threshold": thresholds[ascending], name: curve_values[ascending]})
    best = int(np.argmax(curve[name].to_numpy()))
    return ThresholdResult(
        threshold=float(curve["threshold"].iloc[best]),
        score=float(curve[name].iloc[best]),
        metric=name,
        curve=curve,
    )


@dataclass(frozen=True)
class LabelThresholds:
    """Per-label decision thresholds found by :func:`tune_thresholds`.

    Attributes
    ----------
    thresholds : ndarray of shape (n_labels,)
        Predict label ``l`` when ``score[:, l] >= thresholds[l]``.
    scores : ndarray of shape (n_labels,)
        The metric reached on the validation data at each threshold (NaN for
        labels without validation positives, which keep ``default``).
    metric : str
    classes : ndarray of shape (n_labels,)
        Label names.
    """

    thresholds: np.ndarray
    scores: np.ndarray
    metric: str
    classes: np.ndarray = field(repr=False)

    def predict(self, scores: Any) -> np.ndarray:
        """0/1 matrix ``scores >= thresholds`` (uint8)."""
        values = np.asarray(scores, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.thresholds.shape[0]:
            raise ValueError(
                f"`scores` must have {self.thresholds.shape[0]} columns, one per label. "
                f"Received: scores of shape {values.shape}"
            )
        return (values >= self.thresholds).astype(np.uint8)

    def to_frame(self) -> pd.DataFrame:
        """One row per label: ``threshold`` and the validation metric."""
        return pd.DataFrame(
            {"threshold": self.thresholds, self.metric: self.scores},
            index=pd.Index(self.classes, name="label"),
        )


def _metric_table(metric: str, tp, fp, fn, tn) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if metric == "f1":
            return np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
        if metric == "balanced_accuracy":
            tpr = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
            tnr = np.where(tn + fp > 0, tn / (tn + fp), 0.0)
            return (tpr + tnr) / 2
        den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        return np.where(den > 0, (tp * tn - fp * fn) / den, 0.0)


def tune_thresholds(
    Y_val: Any,
    scores_val: Any,
    metric: str = "f1",
    *,
    default: float = 0.5,
    classes: Sequence[Any] | None = None,
    sep: str | None = None,
) -> LabelThresholds:
    """One decision threshold per label, maximizing ``metric`` on validation data.

    Every distinct validation score of a label is a candidate threshold;
    all labels and candidates are scored at once from cumulative counts (one
    sort of the score matrix, no Python loop over samples or labels). Ties go
    to the smallest threshold reaching the best value, as in
    :func:`classbalance.tune_threshold`. Tune on validation data and apply
    the result to the test set (``multilabel_report(..., thresholds=result)``);
    tuning on the test set would overstate every metric.

    Parameters
    ----------
    Y_val : multi-hot matrix, sequence of label sets, or strings joined by ``sep``
        Validation labels (see :func:`classbalance.labels.encode_multilabel`).
    scores_val : array-like of shape (n_samples, n_labels)
        Validation scores (probabilities or logits).
    metric : {"f1", "balanced_accuracy", "mcc"}, default="f1"
        Per-label binary metric to maximize.
    default : float, default=0.5
        Threshold kept for a label with no positive in ``Y_val`` (its metric
        cannot be tuned); use 0.0 for logits.
    classes, sep :
        As for :func:`~classbalance.labels.encode_multilabel`.

    Returns
    -------
    LabelThresholds

    Warns
    -----
    UserWarning
        Labels with no validation positive, which keep ``default``.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.thresholds import tune_thresholds
    >>> Y = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    >>> S = np.array([[0.9, 0.12], [0.3, 0.1], [0.2, 0.15], [0.1, 0.05]])
    >>> result = tune_thresholds(Y, S)
    >>> result.thresholds.tolist(), result.scores.tolist()
    ([0.3, 0.15], [1.0, 1.0])
    >>> result.predict(S).tolist()
    [[1, 0], [1, 0], [0, 1], [0, 0]]
    """
    metric = check_choice(metric, "metric", _LABEL_METRICS)
    if isinstance(default, bool) or not isinstance(default, numbers.Real):
        raise TypeError(f"`default` must be a number. Received: default={short_repr(default)}")
    enc = encode_multilabel(Y_val, classes=classes, sep=sep, name="Y_val")
    S = check_scores(scores_val, enc.Y.shape, "scores_val")
    n = S.shape[0]
    order = np.argsort(-S, axis=0, kind="stable")
    sorted_scores = np.take_along_axis(S, order, axis=0)
    positive = np.take_along_axis(enc.Y, order, axis=0).astype(bool)
    tp = np.cumsum(positive, axis=0, dtype=np.float64)
    fp = np.arange(1, n + 1, dtype=np.float64)[:, None] - tp
    n_pos = tp[-1]
    n_neg = n - n_pos
    values = _metric_table(metric, tp, fp, n_pos - tp, n_neg - fp)
    # Only the last row of each run of equal scores is a cut "score >= t".
    last = np.ones_like(positive)
    last[:-1] = sorted_scores[1:] != sorted_scores[:-1]
    values = np.where(last, values, -np.inf)
    best_from_end = np.argmax(values[::-1], axis=0)  # last index with the max: smallest t
    best = n - 1 - best_from_end
    columns = np.arange(S.shape[1])
    thresholds = sorted_scores[best, columns]
    scores = values[best, columns]
    empty = n_pos == 0
    if empty.any():
        warnings.warn(
            f"Labels {short_repr(enc.classes[empty].tolist())} have no positive in `Y_val`; "
            f"their threshold stays at default={default}.",
            UserWarning,
            stacklevel=2,
        )
        thresholds = np.where(empty, float(default), thresholds)
        scores = np.where(empty, np.nan, scores)
    return LabelThresholds(thresholds=thresholds, scores=scores, metric=metric, classes=enc.classes)
