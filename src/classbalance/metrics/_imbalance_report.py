"""The single-label imbalance report: per-class metrics and class-balanced summaries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from classbalance._validation import short_repr
from classbalance.labels import encode_labels
from classbalance.metrics._recalls import balanced_accuracy

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SUMMARY_METRICS", "ImbalanceReport", "imbalance_report"]

SUMMARY_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "weighted_f1",
    "g_mean",
    "mcc",
    "min_recall",
)


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

    Examples
    --------
    >>> import classbalance as cb
    >>> report = cb.imbalance_report([0, 0, 1, 1], [0, 0, 1, 0])
    >>> report.summary["balanced_accuracy"], report.per_class["recall"].tolist()
    (0.75, [1.0, 0.5])
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
    summary = {
        "accuracy": float(accuracy_score(true_codes, pred_codes)),
        "balanced_accuracy": balanced_accuracy(true_codes, pred_codes),
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
