"""How well a classifier does on *every* class or label: the imbalance reports.

Accuracy hides a model that ignores rare classes. :func:`imbalance_report`
puts per-class recall, precision, F1 and specificity next to summaries that
weigh classes equally (balanced accuracy, macro-F1, G-mean, worst-class
recall). :func:`multilabel_report` scores a multi-label classifier (one
score column per label): mAP, macro/micro-F1 and per-label metrics, grouped
by training frequency (:func:`frequency_groups`). The numbers come from
scikit-learn's metrics; this module only gathers them.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from classbalance._validation import short_repr
from classbalance.distribution import LabelDistribution
from classbalance.labels import encode_labels, encode_multilabel
from classbalance.thresholds import LabelThresholds, check_scores

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "FREQUENCY_BOUNDS",
    "FREQUENCY_GROUPS",
    "SUMMARY_METRICS",
    "ImbalanceReport",
    "MultiLabelReport",
    "frequency_groups",
    "imbalance_report",
    "multilabel_report",
]

SUMMARY_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "weighted_f1",
    "g_mean",
    "mcc",
    "min_recall",
)


#: Names of the training-frequency groups, most frequent first.
FREQUENCY_GROUPS = ("head", "medium", "tail")
#: ``(low, high)``: tail < low <= medium <= high < head, in training samples per class (or
#: positives per label); the long-tail benchmarks' rule (Liu et al., CVPR 2019, OLTR; Wu et
#: al., ECCV 2020, VOC-MLT / COCO-MLT).
FREQUENCY_BOUNDS = (20, 100)


def _check_bounds(bounds: Any, name: str = "bounds") -> tuple[int, int]:
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
    low, high = _check_bounds(bounds)
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


@dataclass(frozen=True)
class ImbalanceReport:
    """Per-class and summary metrics of one set of predictions.

    Attributes
    ----------
    per_class : pandas.DataFrame
        One row per class (index ``class``): ``precision``, ``recall``,
        ``f1``, ``specificity``, ``support`` (true samples).
    summary : dict of str to float
        ``accuracy``, ``balanced_accuracy`` (mean recall), ``macro_f1``,
        ``weighted_f1``, ``g_mean`` (geometric mean of recalls), ``mcc``
        (Matthews correlation) and ``min_recall`` (the worst class's recall).
        Recall-based summaries average over classes present in ``y_true``.
    confusion : ndarray of shape (n_classes, n_classes)
        Counts; row = true class, column = predicted class.
    classes : ndarray of shape (n_classes,)
        Class values, in the order of the rows and columns.
    """

    per_class: pd.DataFrame
    summary: dict[str, float]
    confusion: np.ndarray
    classes: np.ndarray

    @property
    def worst_class(self) -> Any:
        """The class with the lowest recall (among classes with samples)."""
        table = self.per_class[self.per_class["support"] > 0]
        return table["recall"].idxmin()

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain Python types (``json.dumps`` works on it)."""
        rows = []
        for value, row in zip(self.classes.tolist(), self.per_class.itertuples(index=False)):
            entry = {"class": value}
            entry.update(
                {k: v.item() if hasattr(v, "item") else v for k, v in row._asdict().items()}
            )
            rows.append(entry)
        return {
            "classes": self.classes.tolist(),
            "summary": {k: float(v) for k, v in self.summary.items()},
            "per_class": rows,
            "confusion": self.confusion.tolist(),
        }

    def to_markdown(self, digits: int = 3) -> str:
        """Summary, per-class table and confusion matrix as GitHub markdown tables."""
        fmt = f"{{:.{digits}f}}"
        summary = _markdown_table(
            ["metric", "value"], [[k, fmt.format(v)] for k, v in self.summary.items()]
        )
        columns = list(self.per_class.columns)
        per_class = _markdown_table(
            ["class", *columns],
            [
                [str(c)] + [str(int(v)) if k == "support" else fmt.format(v) for k, v in r.items()]
                for c, r in zip(self.classes.tolist(), self.per_class.to_dict("records"))
            ],
        )
        names = [str(c) for c in self.classes.tolist()]
        confusion = _markdown_table(
            ["true \\ predicted", *names],
            [[n, *map(str, row)] for n, row in zip(names, self.confusion.tolist())],
        )
        return f"{summary}\n\n{per_class}\n\n{confusion}\n"

    def plot_confusion(self, path: Any = None, *, normalize: Any = None, **kwargs: Any) -> Figure:
        """Draw the confusion matrix (needs ``pip install "classbalance[plot]"``).

        Parameters are passed to :func:`classbalance.plots.plot_confusion_matrix`;
        ``path`` saves the figure there.
        """
        from classbalance.plots import plot_confusion_matrix

        if normalize is not None:
            kwargs["normalize"] = normalize
        return plot_confusion_matrix(
            confusion=self.confusion, classes=self.classes.tolist(), path=path, **kwargs
        )

    def __str__(self) -> str:
        summary = "  ".join(f"{k}={v:.3f}" for k, v in self.summary.items())
        return f"{summary}\n{self.per_class.round(3).to_string()}"


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    rule = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _as_numpy(values: Any) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.DataFrame)):
        return values.to_numpy()
    return np.asarray(values)


def _is_score_vector(pred: np.ndarray) -> bool:
    return (
        pred.dtype.kind == "f"
        and pred.size > 0
        and bool(np.all((pred >= 0) & (pred <= 1)))
        and not bool(np.all(np.mod(pred, 1) == 0))
    )


def predictions_to_codes(
    y_true: Any,
    y_pred: Any,
    *,
    classes: Sequence[Any] | None = None,
    threshold: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(true_codes, pred_codes, classes)`` from labels, one-hot or probabilities."""
    enc = encode_labels(
        y_true,
        classes=classes,
        name="y_true",
        function="imbalance_report",
        multilabel_alternative="cb.multilabel_report(Y_true, scores)",
    )
    true_codes = enc.codes.astype(np.int64)
    found = enc.classes
    pred = _as_numpy(y_pred)
    if pred.ndim == 0 or pred.shape[0] != enc.n_samples:
        length = pred.shape[0] if pred.ndim else "no"
        raise ValueError(
            f"`y_true` has {enc.n_samples} samples but `y_pred` has {length}; they must have "
            "the same length."
        )
    if pred.ndim == 2 and pred.shape[1] == 1:
        pred = pred[:, 0]
    if pred.ndim > 2:
        raise ValueError(
            "`y_pred` must be labels (n_samples,), or scores/one-hot (n_samples, n_classes). "
            f"Received an array of shape {pred.shape}."
        )
    if pred.ndim == 2:
        width = pred.shape[1]
        if width != len(found):
            integer_ids = found.dtype.kind in "iu" and found.min() >= 0 and found.max() < width
            if classes is not None or enc.kind != "vector" or not integer_ids:
                raise ValueError(
                    f"`y_pred` has {width} columns but there are {len(found)} classes "
                    f"({short_repr(found.tolist())}); give one column per class, or pass `classes`."
                )
            # Integer labels 0..K-1 with some classes absent from y_true.
            true_codes, found = found[true_codes].astype(np.int64), np.arange(width)
        return true_codes, np.argmax(pred, axis=1).astype(np.int64), found
    if _is_score_vector(pred):
        if len(found) != 2:
            raise ValueError(
                "`y_pred` looks like scores of a positive class (floats in [0, 1]) but y_true "
                f"has {len(found)} classes; pass labels or a (n_samples, n_classes) array."
            )
        return true_codes, (pred >= threshold).astype(np.int64), found
    if classes is not None or enc.kind != "vector":
        named = enc.kind == "vector" or classes is not None
        index = pd.Index(found if named else np.arange(len(found)))
        pred_codes = index.get_indexer(pred)
        if np.any(pred_codes < 0):
            extra = pd.unique(pred[pred_codes < 0])[:5].tolist()
            raise ValueError(f"`y_pred` has labels that are not among the classes: {extra}.")
        return true_codes, pred_codes.astype(np.int64), found
    both = encode_labels(
        np.concatenate([found[true_codes], pred]), name="y_true and y_pred", function="report"
    )
    codes = both.codes.astype(np.int64)
    return codes[: enc.n_samples], codes[enc.n_samples :], both.classes


def summary_from_codes(
    true_codes: np.ndarray, pred_codes: np.ndarray, n_classes: int
) -> tuple[dict[str, float], pd.DataFrame, np.ndarray]:
    """Summary dict, per-class metrics frame (no index) and confusion matrix."""
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        confusion_matrix,
        f1_score,
        matthews_corrcoef,
        precision_recall_fscore_support,
    )

    labels = np.arange(n_classes)
    confusion = confusion_matrix(true_codes, pred_codes, labels=labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        true_codes, pred_codes, labels=labels, zero_division=0
    )
    total = confusion.sum()
    fp = confusion.sum(axis=0) - np.diag(confusion)
    tn = total - confusion.sum(axis=1) - fp
    with np.errstate(divide="ignore", invalid="ignore"):
        specificity = np.where(tn + fp > 0, tn / (tn + fp), 0.0)
    present = support > 0
    with warnings.catch_warnings():
        # "y_pred contains classes not in y_true": expected when a model confuses classes.
        warnings.simplefilter("ignore", UserWarning)
        balanced = balanced_accuracy_score(true_codes, pred_codes)
    summary = {
        "accuracy": float(accuracy_score(true_codes, pred_codes)),
        "balanced_accuracy": float(balanced),
        "macro_f1": float(f1_score(true_codes, pred_codes, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(true_codes, pred_codes, average="weighted", zero_division=0)),
        "g_mean": float(np.prod(recall[present]) ** (1.0 / present.sum())),
        "mcc": float(matthews_corrcoef(true_codes, pred_codes)),
        "min_recall": float(recall[present].min()),
    }
    per_class = pd.DataFrame(
        {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "specificity": specificity,
            "support": support.astype(np.int64),
        }
    )
    return summary, per_class, confusion


def imbalance_report(
    y_true: Any,
    y_pred_or_proba: Any,
    *,
    classes: Sequence[Any] | None = None,
    threshold: float = 0.5,
) -> ImbalanceReport:
    """Per-class and class-balanced metrics of predictions on imbalanced data.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        True labels: class vector or one-hot matrix.
    y_pred_or_proba : array-like
        Predicted labels (n_samples,); or scores, probabilities or one-hot
        rows of shape (n_samples, n_classes), turned into labels by
        ``argmax``; or, for two classes, the probability of the second class
        (n_samples,), thresholded at ``threshold``.
    classes : sequence, default=None
        Declared classes, in order (also for classes that never occur). For
        a 2-D ``y_pred_or_proba`` they name its columns.
    threshold : float, default=0.5
        Only for a vector of positive-class probabilities.

    Returns
    -------
    ImbalanceReport

    Examples
    --------
    >>> import classbalance as cb
    >>> report = cb.imbalance_report(["a", "a", "a", "b"], ["a", "a", "a", "a"])
    >>> report.summary["accuracy"], report.summary["balanced_accuracy"]
    (0.75, 0.5)
    >>> report.per_class["recall"].tolist()
    [1.0, 0.0]
    """
    true_codes, pred_codes, found = predictions_to_codes(
        y_true, y_pred_or_proba, classes=classes, threshold=threshold
    )
    summary, per_class, confusion = summary_from_codes(true_codes, pred_codes, len(found))
    per_class.index = pd.Index(found, name="class")
    return ImbalanceReport(
        per_class=per_class, summary=summary, confusion=confusion, classes=np.asarray(found)
    )


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


def multilabel_report(
    Y_true: Any,
    scores: Any,
    *,
    train_counts: Any = None,
    thresholds: float | Sequence[float] | LabelThresholds = 0.5,
    group_bounds: tuple[int, int] = FREQUENCY_BOUNDS,
    classes: Sequence[Any] | None = None,
    sep: str | None = None,
) -> MultiLabelReport:
    """mAP, macro/micro-F1 and per-label metrics, grouped into head / medium / tail labels.

    Parameters
    ----------
    Y_true : multi-hot matrix, sequence of label sets, or strings joined by ``sep``
        True test labels (see :func:`classbalance.labels.encode_multilabel`).
    scores : array-like of shape (n_samples, n_labels)
        Predicted scores, higher = more likely (probabilities or logits).
    train_counts : LabelDistribution or array-like of shape (n_labels,), default=None
        Training positives per label (``label_distribution(Y_train)``); with
        them every label gets a group and the report a per-group table.
    thresholds : float, array-like of shape (n_labels,) or LabelThresholds, default=0.5
        Decision thresholds (``score >= t`` predicts the label) for precision,
        recall and F1; mAP does not depend on them. Pass the result of
        :func:`~classbalance.thresholds.tune_thresholds` on *validation* data. Use 0.0
        for logits.
    group_bounds : (int, int), default=(20, 100)
        ``(low, high)``: a label with fewer than ``low`` training positives is
        *tail*, more than ``high`` is *head*, otherwise *medium*
        (:func:`frequency_groups`).
    classes, sep :
        As for :func:`~classbalance.labels.encode_multilabel`.

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
    >>> from classbalance.metrics import multilabel_report
    >>> Y = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]])
    >>> S = np.array([[0.8, 0.1, 0.2], [0.7, 0.6, 0.1], [0.4, 0.3, 0.3], [0.6, 0.4, 0.2]])
    >>> report = multilabel_report(Y, S, train_counts=[500, 50, 5])
    >>> round(report.mAP, 3), round(report.macro_f1, 3), round(report.micro_f1, 3)
    (1.0, 0.667, 0.889)
    >>> report.per_label["group"].tolist()
    ['head', 'medium', 'tail']
    """
    enc = encode_multilabel(Y_true, classes=classes, sep=sep, name="Y_true")
    Y = enc.Y
    S = check_scores(scores, Y.shape)
    n_labels = Y.shape[1]
    low, high = _check_bounds(group_bounds, "group_bounds")
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
        index=pd.Index(enc.classes, name="label"),
    )
    groups = None
    if train_counts is not None:
        counts = _train_counts(train_counts, n_labels)
        group = np.empty(n_labels, dtype=object)
        for name, members in frequency_groups(counts, (low, high)).items():
            group[members] = name
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
        ).reindex([g for g in FREQUENCY_GROUPS if g in set(group.tolist())])
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
