"""Decision thresholds tuned on validation data, for one column of scores or many.

A binary classifier has one column of scores (:func:`tune_threshold`); a
multi-label classifier has one per label (:func:`tune_thresholds`). Both run
the same kernel: in each column every distinct score is a candidate cut
``score >= t``; one sort and cumulative sums give the confusion counts at
every cut of every column at once, and one metric table turns those counts
into the metric. Ties go to the smallest threshold reaching the best value.

Tune on validation data and apply the result to the test set; tuning on the
test set would overstate every metric.
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


def _rates(tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray) -> tuple[Any, Any]:
    """True positive and true negative rates (0 where undefined)."""
    tpr = np.where(tp + fn > 0, tp / np.where(tp + fn > 0, tp + fn, 1.0), 0.0)
    tnr = np.where(tn + fp > 0, tn / np.where(tn + fp > 0, tn + fp, 1.0), 0.0)
    return tpr, tnr


def _f1(tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray) -> np.ndarray:
    den = 2 * tp + fp + fn
    return np.where(den > 0, 2 * tp / np.where(den > 0, den, 1.0), 0.0)


def _balanced_accuracy(tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray) -> Any:
    tpr, tnr = _rates(tp, fp, tn, fn)
    return (tpr + tnr) / 2


def _g_mean(tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray) -> np.ndarray:
    tpr, tnr = _rates(tp, fp, tn, fn)
    return np.sqrt(tpr * tnr)


def _youden(tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray) -> np.ndarray:
    tpr, tnr = _rates(tp, fp, tn, fn)
    return tpr + tnr - 1


def _mcc(tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray) -> np.ndarray:
    den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return np.where(den > 0, (tp * tn - fp * fn) / np.where(den > 0, den, 1.0), 0.0)


def _accuracy(tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray) -> np.ndarray:
    return (tp + tn) / (tp + fp + tn + fn)


#: The one metric table: confusion counts at every cut (any shape) -> the metric there.
#: Each is defined for every column, including one without positives (rates count as 0).
_METRICS: dict[str, Callable[..., np.ndarray]] = {
    "f1": _f1,
    "balanced_accuracy": _balanced_accuracy,
    "g_mean": _g_mean,
    "youden": _youden,
    "mcc": _mcc,
    "accuracy": _accuracy,
}
THRESHOLD_METRICS = tuple(_METRICS)


@dataclass(frozen=True)
class _Cuts:
    """Every cut ``score >= t`` of every column, in descending score order (rows)."""

    scores: np.ndarray  # (n, m) scores sorted descending within each column
    counts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # tp, fp, tn, fn at each cut
    last: np.ndarray  # (n, m) the last row of a run of equal scores: a real cut
    n_pos: np.ndarray  # (m,)

    def best(self, values: np.ndarray) -> np.ndarray:
        """Per column, the row of the best real cut; ties go to the smallest threshold."""
        masked = np.where(self.last, values, -np.inf)
        n = masked.shape[0]
        return n - 1 - np.argmax(masked[::-1], axis=0)  # last row with the max: smallest t


def _cuts(positive: np.ndarray, scores: np.ndarray) -> _Cuts:
    """The kernel: one sort per column, cumulative counts, no loop over samples or columns."""
    n = scores.shape[0]
    order = np.argsort(-scores, axis=0, kind="stable")
    sorted_scores = np.take_along_axis(scores, order, axis=0)
    tp = np.cumsum(np.take_along_axis(positive, order, axis=0), axis=0, dtype=np.float64)
    fp = np.arange(1, n + 1, dtype=np.float64)[:, None] - tp
    n_pos = tp[-1]
    n_neg = n - n_pos
    last = np.ones(scores.shape, dtype=bool)
    last[:-1] = sorted_scores[1:] != sorted_scores[:-1]
    return _Cuts(sorted_scores, (tp, fp, n_neg - fp, n_pos - tp), last, n_pos)


def _metric_values(metric: str, cuts: _Cuts) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return _METRICS[metric](*cuts.counts)


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


# ----------------------------------------------------------------------- binary
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

    Examples
    --------
    >>> import classbalance as cb
    >>> result = cb.tune_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], metric="f1")
    >>> float(result.threshold), float(result.score), result.predict([0.2, 0.9]).tolist()
    (0.35, 0.8, [0, 1])
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
    this is fast for millions of samples. It is the one-column case of
    :func:`tune_thresholds`. Tune on validation data, not on the test set.

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
    if not callable(metric):
        metric = check_choice(metric, "metric", THRESHOLD_METRICS)
    cuts = _cuts(positive[:, None], values[:, None])
    last = cuts.last[:, 0]
    if callable(metric):
        name = getattr(metric, "__name__", "metric")
        y01 = positive.astype(np.int64)
        curve_values = np.full(values.shape[0], -np.inf)
        curve_values[last] = [
            metric(y01, (values >= t).astype(np.int64)) for t in cuts.scores[last, 0]
        ]
        curve_values = curve_values[:, None]
    else:
        name = metric
        curve_values = _metric_values(name, cuts)
    best = int(cuts.best(curve_values)[0])
    ascending = slice(None, None, -1)
    curve = pd.DataFrame(
        {
            "threshold": cuts.scores[last, 0][ascending],
            name: curve_values[last, 0].astype(np.float64)[ascending],
        }
    )
    return ThresholdResult(
        threshold=float(cuts.scores[best, 0]),
        score=float(curve_values[best, 0]),
        metric=name,
        curve=curve,
    )


# -------------------------------------------------------------------- per label
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

    Examples
    --------
    >>> import classbalance as cb
    >>> tuned = cb.tune_thresholds([[1, 0], [0, 1], [1, 1]], [[0.9, 0.2], [0.3, 0.7], [0.8, 0.6]])
    >>> tuned.thresholds.tolist()
    [0.8, 0.6]
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
    sort of the score matrix, no Python loop over samples or labels), by the
    same kernel and metric table as :func:`tune_threshold`. Ties go to the
    smallest threshold reaching the best value. Apply the result to the test
    set (``multilabel_report(..., thresholds=result)``).

    Parameters
    ----------
    Y_val : multi-hot matrix, sequence of label sets, or strings joined by ``sep``
        Validation labels (see :func:`classbalance.labels.encode_multilabel`).
    scores_val : array-like of shape (n_samples, n_labels)
        Validation scores (probabilities or logits).
    metric : str, default="f1"
        Per-label binary metric to maximize, one of :data:`THRESHOLD_METRICS`:
        ``"f1"``, ``"balanced_accuracy"``, ``"g_mean"``, ``"youden"``,
        ``"mcc"``, ``"accuracy"``.
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
    >>> import classbalance as cb
    >>> Y = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    >>> S = np.array([[0.9, 0.12], [0.3, 0.1], [0.2, 0.15], [0.1, 0.05]])
    >>> result = cb.tune_thresholds(Y, S)
    >>> result.thresholds.tolist(), result.scores.tolist()
    ([0.3, 0.15], [1.0, 1.0])
    >>> result.predict(S).tolist()
    [[1, 0], [1, 0], [0, 1], [0, 0]]
    """
    metric = check_choice(metric, "metric", THRESHOLD_METRICS)
    if isinstance(default, bool) or not isinstance(default, numbers.Real):
        raise TypeError(f"`default` must be a number. Received: default={short_repr(default)}")
    enc = encode_multilabel(Y_val, classes=classes, sep=sep, name="Y_val")
    S = check_scores(scores_val, enc.Y.shape, "scores_val")
    cuts = _cuts(enc.Y.astype(bool), S)
    values = _metric_values(metric, cuts)
    best = cuts.best(values)
    columns = np.arange(S.shape[1])
    thresholds = cuts.scores[best, columns]
    scores = values[best, columns]
    empty = cuts.n_pos == 0
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
