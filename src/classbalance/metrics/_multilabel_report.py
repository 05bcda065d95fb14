"""The multi-label report: mAP, macro/micro-F1 and per-label metrics by frequency group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from classbalance._validation import short_repr
from classbalance.distribution import LabelDistribution
from classbalance.labels import encode_multilabel
from classbalance.metrics._recalls import (
    FREQUENCY_BOUNDS,
    FREQUENCY_GROUPS,
    check_bounds,
    frequency_groups,
)
from classbalance.thresholds import LabelThresholds, check_scores

__all__ = ["MultiLabelReport", "multilabel_report"]


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

    Examples
    --------
    >>> import classbalance as cb
    >>> Y, scores = [[1, 0], [0, 1], [1, 1]], [[0.9, 0.2], [0.3, 0.7], [0.8, 0.6]]
    >>> report = cb.multilabel_report(Y, scores)
    >>> float(report.mAP), float(report.macro_f1)
    (1.0, 1.0)
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
    low, high = check_bounds(group_bounds, "group_bounds")
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
