"""Per-label thresholds on a large input give scikit-learn's answer, not only a fast one.

It replaces a test that only timed this 100,000 x 40 input (a timed unit test proves
nothing about the answer, and speed belongs in benchmarks/): every label's threshold and F1
are checked against ``sklearn.metrics.precision_recall_curve``, continuous scores and heavily
tied ones.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import precision_recall_curve

import classbalance as cb


def best_f1_by_sklearn(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) maximizing F1 of ``s >= threshold``; ties: the smallest threshold."""
    precision, recall, thresholds = precision_recall_curve(y, s)
    precision, recall = precision[:-1], recall[:-1]  # the last point has no threshold
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0)
    best = np.flatnonzero(f1 == f1.max())
    k = best[np.argmin(thresholds[best])]
    return float(thresholds[k]), float(f1[k])


@pytest.mark.parametrize("decimals", [None, 1])
def test_large_input_matches_sklearn(decimals):
    """100,000 x 40 scores: every label's threshold and F1 equal scikit-learn's
    (decimals=1: about 100 distinct scores per label, so almost every row is a tie)."""
    rng = np.random.default_rng(3)
    Y = (rng.random((100_000, 40)) < np.linspace(0.01, 0.3, 40)).astype(np.uint8)
    S = Y + rng.normal(size=Y.shape)
    if decimals is not None:
        S = np.round(S, decimals)
    result = cb.tune_thresholds(Y, S)
    expected = np.array([best_f1_by_sklearn(Y[:, k], S[:, k]) for k in range(40)])
    np.testing.assert_array_equal(result.thresholds, expected[:, 0])
    np.testing.assert_allclose(result.scores, expected[:, 1], rtol=1e-12)
    assert result.metric == "f1"
