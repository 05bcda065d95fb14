"""Post-hoc fixes for a trained model (no retraining): logit adjustment, threshold tuning."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from classbalance._loss_params import check_class_counts, check_gamma, log_prior
from classbalance._validation import check_choice, short_repr
from classbalance.labels import encode_labels

__all__ = ["THRESHOLD_METRICS", "ThresholdResult", "adjust_logits", "tune_threshold"]


def _looks_like_probabilities(values: np.ndarray) -> bool:
    return bool(
        values.min() >= 0 and values.max() <= 1 and np.allclose(values.sum(axis=1), 1, atol=1e-4)
    )


def adjust_logits(
    logits_or_probs: Any,
    class_counts: Any,
    tau: float = 1.0,
    *,
    kind: str = "auto",
) -> np.ndarray:
    r"""Remove the training prior from a model's outputs: ``z - tau * log pi``.

    A model trained with plain cross-entropy on long-tailed data learns
    ``p(y | x)`` under the training prior ``pi``; subtracting ``tau * log pi``
    from its logits estimates the balanced posterior, so ``argmax`` stops
    favouring frequent classes. Menon et al., "Long-tail learning via logit
    adjustment", ICLR 2021 (post-hoc variant; ``tau=1`` is Bayes-optimal for
    the balanced error). For probabilities this is ``p_c / pi_c**tau``,
    renormalized.

    Parameters
    ----------
    logits_or_probs : array-like of shape (n_samples, n_classes)
        Logits, or probabilities (rows of non-negative numbers summing to 1).
    class_counts : sequence of int or ClassDistribution
        Training samples per class, index = column.
    tau : float, default=1.0
        Strength (>= 0); 0 returns the input unchanged.
    kind : {"auto", "logits", "probs"}, default="auto"
        What the input holds; ``"auto"`` treats rows of non-negative values
        summing to 1 as probabilities.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Adjusted logits (float64), or adjusted probabilities (rows summing
        to 1) if the input was probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> import classbalance as cb
    >>> probs = np.array([[0.6, 0.4], [0.8, 0.2]])
    >>> cb.adjust_logits(probs, class_counts=[900, 100]).round(3)
    array([[0.143, 0.857],
           [0.308, 0.692]])
    >>> cb.adjust_logits(probs, [900, 100]).argmax(axis=1)
    array([1, 1])
    """
    values = np.asarray(logits_or_probs, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] < 2 or not np.all(np.isfinite(values)):
        raise ValueError(
            "`logits_or_probs` must be a finite 2-D array of shape (n_samples, n_classes) with at "
            f"least 2 classes. Received an array of shape {values.shape}."
        )
    counts = check_class_counts(class_counts)
    if counts.shape[0] != values.shape[1]:
        raise ValueError(
            f"`class_counts` has {counts.shape[0]} classes but `logits_or_probs` has "
            f"{values.shape[1]} columns; they must match."
        )
    tau = check_gamma(tau, "tau")
    kind = check_choice(kind, "kind", ("auto", "logits", "probs"))
    is_probs = kind == "probs" or (kind == "auto" and _looks_like_probabilities(values))
    shift = tau * log_prior(counts)
    if not is_probs:
        return values - shift
    with np.errstate(divide="ignore"):
        logits = np.log(values) - shift
    logits -= logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    return out / out.sum(axis=1, keepdims=True)


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
