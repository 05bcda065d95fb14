"""Average precision of multi-label scores, vectorized over bootstrap replicates.

scikit-learn's ``average_precision_score`` computes one label of one data set;
compare needs it for every label of thousands of bootstrap draws
(:func:`classbalance.compare.stats.bootstrap_multilabel`), so the draws are
row weights here and all replicates are summed at once.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mean_average_precision", "sigmoid", "weighted_average_precision"]


def _tie_ends(sorted_scores: np.ndarray) -> np.ndarray:
    """For scores sorted descending along axis 0: the last index of each entry's tie group."""
    n = sorted_scores.shape[0]
    is_end = np.ones(sorted_scores.shape, dtype=bool)
    is_end[:-1] = sorted_scores[1:] != sorted_scores[:-1]
    index = np.where(is_end, np.arange(n)[:, None], n)
    return np.minimum.accumulate(index[::-1], axis=0)[::-1]  # next end at or after i


def weighted_average_precision(
    Y: np.ndarray, scores: np.ndarray, row_weights: np.ndarray
) -> np.ndarray:
    """Average precision of every label under row weights (bootstrap draw counts), vectorized.

    Equals scikit-learn's ``average_precision_score`` of the data set in which
    row ``i`` is repeated ``row_weights[:, i]`` times (ties between scores are
    one threshold, as there).

    Parameters
    ----------
    Y : ndarray of shape (n, n_labels)
        0/1 labels.
    scores : ndarray of shape (n, n_labels)
    row_weights : ndarray of shape (b, n)
        Whole-number weights (how often each row is drawn).

    Returns
    -------
    ndarray of shape (b, n_labels)
        NaN where a label has no (weighted) positive.

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.ranking import weighted_average_precision
    >>> Y = np.array([[1], [0], [1], [0]])
    >>> S = np.array([[0.9], [0.8], [0.7], [0.1]])
    >>> weighted_average_precision(Y, S, np.ones((1, 4))).round(4).tolist()  # (1 + 2/3) / 2
    [[0.8333]]
    """
    Y = np.asarray(Y)
    scores = np.asarray(scores)
    order = np.argsort(-scores, axis=0, kind="stable")  # (n, L)
    ends = _tie_ends(np.take_along_axis(scores, order, axis=0))
    # Replicates last: gathering rows and summing down axis 0 run over contiguous memory.
    weights_t = np.ascontiguousarray(np.asarray(row_weights, dtype=np.float32).T)  # (n, b)
    out = np.full((weights_t.shape[1], scores.shape[1]), np.nan)
    for label in range(scores.shape[1]):  # one pass per label; rows are handled as arrays
        rows = order[:, label]
        positions = np.flatnonzero(Y[rows, label])  # the positives, in score order
        if len(positions) == 0:
            continue
        w = weights_t[rows]  # (n, b): draw counts in score order
        # Precision is read at the end of each positive's tie group (one threshold per score).
        unique_ends, which = np.unique(ends[positions, label], return_inverse=True)
        starts = np.r_[0, unique_ends[:-1] + 1]
        seen = np.cumsum(np.add.reduceat(w[: unique_ends[-1] + 1], starts, axis=0), axis=0)
        hits = w[positions]  # (P, b)
        tp = np.cumsum(hits, axis=0)[np.searchsorted(positions, unique_ends, "right") - 1]
        # Counts are whole numbers: seen >= 1 wherever a positive is drawn.
        precision = (tp / np.maximum(seen, 1.0))[which]
        total = hits.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, label] = (hits * precision).sum(axis=0) / np.where(total > 0, total, np.nan)
    return out


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Probabilities of logits, without overflow warnings.

    Examples
    --------
    >>> from classbalance.compare.ranking import sigmoid
    >>> sigmoid([-1000.0, 0.0, 1000.0]).tolist()
    [0.0, 0.5, 1.0]
    """
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(logits, dtype=np.float64)))


def mean_average_precision(Y: np.ndarray, scores: np.ndarray) -> float:
    """mAP over the labels with positives (scikit-learn's AP per label).

    Examples
    --------
    >>> import numpy as np
    >>> from classbalance.compare.ranking import mean_average_precision
    >>> mean_average_precision(np.array([[1, 0], [0, 1]]), np.array([[0.9, 0.1], [0.2, 0.8]]))
    1.0
    """
    ap = weighted_average_precision(Y, scores, np.ones((1, len(Y)), dtype=np.float32))[0]
    return float(np.nanmean(ap)) if np.isfinite(ap).any() else 0.0
