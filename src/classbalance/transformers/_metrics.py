"""``compute_metrics`` for ``transformers.Trainer``: metrics that weigh every class equally."""

from __future__ import annotations

from typing import Any

import numpy as np

from classbalance.metrics._imbalance_report import summary_from_codes

__all__ = ["compute_metrics"]


def compute_metrics(eval_pred: Any) -> dict[str, float]:
    """Balanced accuracy, macro-F1 and worst-class recall of a ``Trainer`` evaluation.

    Pass it as ``Trainer(compute_metrics=compute_metrics)``. Single-label: logits ``(n, K)``
    and class ids ``(n,)``; the prediction is the argmax and the numbers are those of
    :func:`classbalance.metrics.imbalance_report`. Multi-label: logits and multi-hot labels
    ``(n, L)``; a label is predicted where its logit is > 0 and each label is scored as a
    binary task (balanced accuracy and worst recall averaged / minimized over labels with
    positives; macro-F1 over labels).

    Parameters
    ----------
    eval_pred : transformers.EvalPrediction or tuple
        ``(predictions, label_ids)``; a tuple of model outputs takes its first (the logits).

    Returns
    -------
    dict
        ``balanced_accuracy``, ``macro_f1``, ``min_recall`` (the worst class's recall).

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.transformers import compute_metrics
    >>> logits = np.array([[2.0, 0.0], [2.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    >>> compute_metrics((logits, np.array([0, 0, 1, 1])))
    {'balanced_accuracy': 0.75, 'macro_f1': 0.7333333333333334, 'min_recall': 0.5}
    """
    predictions, labels = eval_pred[0], eval_pred[1]
    if isinstance(predictions, (tuple, list)):
        predictions = predictions[0]
    logits, labels = np.asarray(predictions), np.asarray(labels)
    if labels.ndim == 2:
        return _multilabel(logits, labels)
    summary, _, _ = summary_from_codes(
        labels.astype(np.int64), logits.argmax(axis=-1), logits.shape[-1]
    )
    return {key: summary[key] for key in ("balanced_accuracy", "macro_f1", "min_recall")}


def _multilabel(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    truth, pred = labels > 0.5, logits > 0
    tp = (truth & pred).sum(axis=0)
    pos, neg = truth.sum(axis=0), (~truth).sum(axis=0)
    fp = (~truth & pred).sum(axis=0)
    present = pos > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(present, tp / pos, np.nan)
        specificity = np.where(neg > 0, (neg - fp) / neg, np.nan)
        f1 = np.where(2 * tp + fp + (pos - tp) > 0, 2 * tp / (2 * tp + fp + pos - tp), 0.0)
    balanced = np.nanmean((recall + specificity)[present] / 2) if present.any() else np.nan
    return {
        "balanced_accuracy": float(balanced),
        "macro_f1": float(f1.mean()),
        "min_recall": float(np.nanmin(recall)) if present.any() else float("nan"),
    }
