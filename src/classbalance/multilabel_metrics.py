"""Multi-label evaluation: mAP, F1, per-label metrics grouped by training frequency, thresholds.

Scores are one column per label (sigmoid probabilities or logits; any real
numbers, higher = more likely). :func:`multilabel_report` scores them on
scikit-learn's metrics; :func:`tune_thresholds` picks one decision threshold
per label on *validation* data, to be passed to the report of the test set.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from classbalance._validation import check_choice, short_repr
from classbalance.multilabel import LabelDistribution, encode_multilabel

__all__ = [
    "GROUP_BOUNDS",
    "LabelThresholds",
    "MultiLabelReport",
    "multilabel_report",
    "tune_thresholds",
]

#: Default head / medium / tail rule on training positives per label: tail < 20 <= medium
#: <= 100 < head (Wu et al., ECCV 2020, the VOC-MLT and COCO-MLT benchmarks).
GROUP_BOUNDS = (20, 100)
THRESHOLD_METRICS = ("f1", "balanced_accuracy", "mcc")


def _check_scores(scores: Any, shape: tuple[int, int], name: str = "scores") -> np.ndarray:
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
    labels : ndarray of shape (n_labels,)
    """

    thresholds: np.ndarray
    scores: np.ndarray
    metric: str
    labels: np.ndarray = field(repr=False)

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
            index=pd.Index(self.labels, name="label"),
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
    labels: Sequence[Any] | None = None,
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
        Validation labels (see :func:`classbalance.multilabel.encode_multilabel`).
    scores_val : array-like of shape (n_samples, n_labels)
        Validation scores (probabilities or logits).
    metric : {"f1", "balanced_accuracy", "mcc"}, default="f1"
        Per-label binary metric to maximize.
    default : float, default=0.5
        Threshold kept for a label with no positive in ``Y_val`` (its metric
        cannot be tuned); use 0.0 for logits.
    labels, sep :
        As for :func:`~classbalance.multilabel.encode_multilabel`.

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
    >>> from classbalance.multilabel_metrics import tune_thresholds
    >>> Y = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    >>> S = np.array([[0.9, 0.12], [0.3, 0.1], [0.2, 0.15], [0.1, 0.05]])
    >>> result = tune_thresholds(Y, S)
    >>> result.thresholds.tolist(), result.scores.tolist()
    ([0.3, 0.15], [1.0, 1.0])
    >>> result.predict(S).tolist()
    [[1, 0], [1, 0], [0, 1], [0, 0]]
    """
    metric = check_choice(metric, "metric", THRESHOLD_METRICS)
    if isinstance(default, bool) or not isinstance(default, numbers.Real):
        raise TypeError(f"`default` must be a number. Received: default={short_repr(default)}")
    enc = encode_multilabel(Y_val, labels=labels, sep=sep, name="Y_val")
    S = _check_scores(scores_val, enc.Y.shape, "scores_val")
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
            f"Labels {short_repr(enc.labels[empty].tolist())} have no positive in `Y_val`; their "
            f"threshold stays at default={default}.",
            UserWarning,
            stacklevel=2,
        )
        thresholds = np.where(empty, float(default), thresholds)
        scores = np.where(empty, np.nan, scores)
    return LabelThresholds(thresholds=thresholds, scores=scores, metric=metric, labels=enc.labels)


@dataclass(frozen=True)
class MultiLabelReport:
    """Scores of a multi-label classifier. Build it with :func:`multilabel_report`.

    Attributes
    ----------
    per_label : pandas.DataFrame
        One row per label: ``train_count`` and ``group`` (when training counts
        were given), ``support`` (test positives), ``ap`` (average precision;
        NaN without test positives), ``precision``, ``recall``, ``f1`` and
        ``threshold``.
    mAP : float
        Mean of ``ap`` over labels that have test positives.
    macro_f1, micro_f1 : float
        scikit-learn's ``f1_score(average="macro" / "micro", zero_division=0)``.
    groups : pandas.DataFrame or None
        Per group (head / medium / tail): ``n_labels``, ``mAP``, ``macro_f1``,
        ``recall``; ``None`` without training counts.
    group_bounds : tuple of int
        ``(low, high)``: tail < low <= medium <= high < head (training positives).
    """

    per_label: pd.DataFrame
    mAP: float  # noqa: N815 (the metric's usual name)
    macro_f1: float
    micro_f1: float
    groups: pd.DataFrame | None
    group_bounds: tuple[int, int]

    @property
    def labels_without_positives(self) -> list[Any]:
        """Labels with no positive in ``Y_true``: no AP, left out of ``mAP``."""
        return self.per_label.index[self.per_label["support"] == 0].tolist()

    def to_dict(self) -> dict[str, Any]:
        """Headline numbers (and per-group mAP / macro-F1) as a JSON-friendly dict."""
        out: dict[str, Any] = {
            "mAP": self.mAP,
            "macro_f1": self.macro_f1,
            "micro_f1": self.micro_f1,
        }
        if self.groups is not None:
            for group, row in self.groups.iterrows():
                out[f"{group}_mAP"] = float(row["mAP"])
                out[f"{group}_macro_f1"] = float(row["macro_f1"])
        return out

    def to_markdown(self, digits: int = 3) -> str:
        """Headline numbers, the group table and the per-label table as Markdown."""
        head = (
            f"mAP {self.mAP:.{digits}f} · macro-F1 {self.macro_f1:.{digits}f} · "
            f"micro-F1 {self.micro_f1:.{digits}f}"
        )
        parts = [head]
        if self.groups is not None:
            parts.append(self.groups.round(digits).to_string())
        parts.append(self.per_label.round(digits).to_string())
        return "\n\n".join(parts)

    def __str__(self) -> str:
        return self.to_markdown()


def _train_counts(train_counts: Any, n_labels: int) -> np.ndarray:
    if isinstance(train_counts, LabelDistribution):
        counts = train_counts.counts
    else:
        try:
            counts = np.asarray(train_counts, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                "`train_counts` must be a LabelDistribution or one count per label. "
                f"Received: train_counts={short_repr(train_counts)}"
            ) from exc
    if counts.shape != (n_labels,) or np.any(counts < 0) or not np.all(np.isfinite(counts)):
        raise ValueError(
            f"`train_counts` must give one non-negative count per label ({n_labels}), e.g. "
            "`label_distribution(Y_train).counts`. "
            f"Received: train_counts={short_repr(train_counts)}"
        )
    return counts.astype(np.int64)


def _check_bounds(group_bounds: Any) -> tuple[int, int]:
    try:
        low, high = group_bounds
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"`group_bounds` must be a pair (low, high). Received: group_bounds={group_bounds!r}"
        ) from exc
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in (low, high)):
        raise TypeError(
            f"`group_bounds` must hold two numbers. Received: group_bounds={group_bounds!r}"
        )
    if not 0 <= low <= high:
        raise ValueError(
            f"`group_bounds` must satisfy 0 <= low <= high. Received: group_bounds={group_bounds!r}"
        )
    return (int(low), int(high))


def multilabel_report(
    Y_true: Any,
    scores: Any,
    *,
    train_counts: Any = None,
    thresholds: float | Sequence[float] | LabelThresholds = 0.5,
    group_bounds: tuple[int, int] = GROUP_BOUNDS,
    labels: Sequence[Any] | None = None,
    sep: str | None = None,
) -> MultiLabelReport:
    """mAP, macro/micro-F1 and per-label metrics, grouped into head / medium / tail labels.

    Parameters
    ----------
    Y_true : multi-hot matrix, sequence of label sets, or strings joined by ``sep``
        True test labels (see :func:`classbalance.multilabel.encode_multilabel`).
    scores : array-like of shape (n_samples, n_labels)
        Predicted scores, higher = more likely (probabilities or logits).
    train_counts : LabelDistribution or array-like of shape (n_labels,), default=None
        Training positives per label (``label_distribution(Y_train)``); with
        them every label gets a group and the report a per-group table.
    thresholds : float, array-like of shape (n_labels,) or LabelThresholds, default=0.5
        Decision thresholds (``score >= t`` predicts the label) for precision,
        recall and F1; mAP does not depend on them. Pass the result of
        :func:`tune_thresholds` on *validation* data. Use 0.0 for logits.
    group_bounds : (int, int), default=(20, 100)
        ``(low, high)``: a label with fewer than ``low`` training positives is
        *tail*, more than ``high`` is *head*, otherwise *medium* (the rule of
        the VOC-MLT / COCO-MLT benchmarks, Wu et al., ECCV 2020).
    labels, sep :
        As for :func:`~classbalance.multilabel.encode_multilabel`.

    Returns
    -------
    MultiLabelReport

    Notes
    -----
    Average precision is scikit-learn's ``average_precision_score`` per label
    (the area under the step precision-recall curve, no interpolation); a
    label with no positive in ``Y_true`` has no AP (NaN) and is left out of
    ``mAP`` and of its group's mAP (it is listed in
    ``labels_without_positives``). F1 scores follow
    ``f1_score(..., zero_division=0)``.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.multilabel_metrics import multilabel_report
    >>> Y = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]])
    >>> S = np.array([[0.8, 0.1, 0.2], [0.7, 0.6, 0.1], [0.4, 0.3, 0.3], [0.6, 0.4, 0.2]])
    >>> report = multilabel_report(Y, S, train_counts=[500, 50, 5])
    >>> round(report.mAP, 3), round(report.macro_f1, 3), round(report.micro_f1, 3)
    (1.0, 0.667, 0.889)
    >>> report.per_label["group"].tolist()
    ['head', 'medium', 'tail']
    """
    enc = encode_multilabel(Y_true, labels=labels, sep=sep, name="Y_true")
    Y = enc.Y
    S = _check_scores(scores, Y.shape)
    n_labels = Y.shape[1]
    low, high = _check_bounds(group_bounds)
    metrics = _sklearn_metrics()

    if isinstance(thresholds, LabelThresholds):
        t = thresholds.thresholds
    elif isinstance(thresholds, bool):
        raise TypeError(f"`thresholds` must be numbers. Received: thresholds={thresholds!r}")
    else:
        try:
            t = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (n_labels,))
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"`thresholds` must be one number or one per label ({n_labels}). "
                f"Received: thresholds={short_repr(thresholds)}"
            ) from exc
    if t.shape != (n_labels,) or not np.all(np.isfinite(t)):
        raise ValueError(
            f"`thresholds` must be finite, one per label ({n_labels}). "
            f"Received: thresholds={short_repr(thresholds)}"
        )
    predicted = np.greater_equal(S, t).astype(np.uint8)

    support = Y.sum(axis=0, dtype=np.int64)
    ap = np.full(n_labels, np.nan)
    for col in np.flatnonzero(support > 0):  # one sklearn call per label, not per sample
        ap[col] = metrics.average_precision_score(Y[:, col], S[:, col])
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(
        Y, predicted, average=None, zero_division=0
    )
    per_label = pd.DataFrame(
        {
            "support": support,
            "ap": ap,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "threshold": t,
        },
        index=pd.Index(enc.labels, name="label"),
    )
    groups = None
    if train_counts is not None:
        counts = _train_counts(train_counts, n_labels)
        group = np.where(counts < low, "tail", np.where(counts > high, "head", "medium"))
        per_label.insert(0, "group", group)
        per_label.insert(0, "train_count", counts)
        grouped = per_label.groupby("group", sort=False)
        groups = pd.DataFrame(
            {
                "n_labels": grouped.size(),
                "mAP": grouped["ap"].mean(),  # pandas' mean skips NaN (no test positives)
                "macro_f1": grouped["f1"].mean(),
                "recall": grouped["recall"].mean(),
            }
        ).reindex([g for g in ("head", "medium", "tail") if g in set(group.tolist())])
    return MultiLabelReport(
        per_label=per_label,
        mAP=float(np.nanmean(ap)) if np.isfinite(ap).any() else float("nan"),
        macro_f1=float(metrics.f1_score(Y, predicted, average="macro", zero_division=0)),
        micro_f1=float(metrics.f1_score(Y, predicted, average="micro", zero_division=0)),
        groups=groups,
        group_bounds=(low, high),
    )


def _sklearn_metrics() -> Any:
    import sklearn.metrics

    return sklearn.metrics
