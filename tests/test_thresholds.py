"""Threshold tuning: one column (binary, tune_threshold) or one per label (tune_thresholds)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    matthews_corrcoef,
    recall_score,
)

import classbalance as cb
from classbalance.metrics import multilabel_report
from classbalance.thresholds import THRESHOLD_METRICS, LabelThresholds, tune_thresholds


def _brute_force(y01, scores, metric, threshold):
    pred = (scores >= threshold).astype(int)
    if metric == "f1":
        return f1_score(y01, pred, zero_division=0)
    if metric == "balanced_accuracy":
        return balanced_accuracy_score(y01, pred)
    if metric == "mcc":
        return matthews_corrcoef(y01, pred)
    if metric == "accuracy":
        return accuracy_score(y01, pred)
    tpr = recall_score(y01, pred, zero_division=0)
    tnr = recall_score(1 - y01, 1 - pred, zero_division=0)
    return np.sqrt(tpr * tnr) if metric == "g_mean" else tpr + tnr - 1


class TestTuneThreshold:
    @pytest.mark.parametrize("metric", THRESHOLD_METRICS)
    @settings(max_examples=20)
    @given(seed=st.integers(0, 2**32 - 1))
    def test_curve_matches_scikit_learn_everywhere(self, metric, seed):
        """Every point of the curve equals scikit-learn's metric at that threshold, and
        the chosen threshold is the curve's maximum."""
        rng = np.random.default_rng(seed)
        n = int(rng.integers(5, 60))
        y = (rng.random(n) < 0.2).astype(int)
        y[0], y[1] = 0, 1
        scores = np.round(rng.random(n) + 0.3 * y, 2)  # rounded: ties happen
        result = cb.tune_threshold(y, scores, metric=metric)
        assert result.curve["threshold"].is_monotonic_increasing
        assert set(result.curve["threshold"]) == set(np.unique(scores))
        expected = [_brute_force(y, scores, metric, t) for t in result.curve["threshold"]]
        np.testing.assert_allclose(result.curve[metric], expected, atol=1e-12)
        assert result.score == pytest.approx(max(expected))
        assert _brute_force(y, scores, metric, result.threshold) == pytest.approx(result.score)

    def test_callable_metric_equals_builtin(self):
        """A scikit-learn metric as a callable gives the same curve as the built-in name."""
        rng = np.random.default_rng(3)
        y = (rng.random(200) < 0.1).astype(int)
        scores = rng.random(200) + 0.4 * y
        builtin = cb.tune_threshold(y, scores, "balanced_accuracy")
        custom = cb.tune_threshold(y, scores, balanced_accuracy_score)
        np.testing.assert_allclose(
            custom.curve["balanced_accuracy_score"], builtin.curve["balanced_accuracy"]
        )
        assert custom.threshold == builtin.threshold

    def test_beats_default_threshold_on_imbalanced_data(self):
        """On a rare positive class, the tuned balanced accuracy is >= that of 0.5."""
        rng = np.random.default_rng(4)
        y = (rng.random(2000) < 0.05).astype(int)
        scores = 1 / (1 + np.exp(-(rng.normal(size=2000) + 2.0 * y - 2.5)))
        result = cb.tune_threshold(y, scores, "balanced_accuracy")
        default = balanced_accuracy_score(y, (scores >= 0.5).astype(int))
        assert result.threshold < 0.5
        assert result.score > default + 0.1

    def test_labels_two_columns_and_pos_label(self):
        """String labels, two-column probabilities and pos_label pick the right class."""
        y = np.array(["ham", "ham", "spam", "ham", "spam"])
        p_spam = np.array([0.1, 0.2, 0.8, 0.3, 0.35])
        two_col = np.c_[1 - p_spam, p_spam]
        a = cb.tune_threshold(y, p_spam, "f1")
        b = cb.tune_threshold(y, two_col, "f1", pos_label="spam")
        assert a.threshold == b.threshold == 0.35
        assert a.score == 1.0
        assert a.predict(two_col).tolist() == [0, 0, 1, 0, 1]
        c = cb.tune_threshold(y, 1 - p_spam, "f1", pos_label="ham")
        assert c.score == 1.0

    @pytest.mark.parametrize(
        ("y", "scores", "kwargs", "match"),
        [
            ([0, 1, 2], [0.1, 0.2, 0.3], {}, "exactly 2 classes.*found 3"),
            ([0, 1, 1], [0.1, 0.2], {}, "3 samples but `scores` has 2"),
            ([0, 1], [0.1, 0.2], {"metric": "auc"}, "`metric` must be one of"),
            ([0, 1], [0.1, np.nan], {}, "`scores` must be finite"),
            (
                [0, 1],
                [0.1, 0.2],
                {"pos_label": 5},
                r"`pos_label` must be one of the labels \[0, 1\]",
            ),
        ],
    )
    def test_errors(self, y, scores, kwargs, match):
        """Bad inputs are reported with what was received."""
        with pytest.raises(ValueError, match=match):
            cb.tune_threshold(y, scores, **kwargs)


def _problem(n: int = 400, n_labels: int = 6, seed: int = 0, decimals: int | None = None):
    """Labels with falling frequency and noisy scores that rank positives higher."""
    rng = np.random.default_rng(seed)
    prob = 0.5 * 0.6 ** np.arange(n_labels)
    Y = (rng.random((n, n_labels)) < prob).astype(np.uint8)
    S = 1 / (1 + np.exp(-(2.0 * Y - 1.0 + rng.normal(scale=1.2, size=Y.shape))))
    if decimals is not None:
        S = np.round(S, decimals)  # many tied scores
    return Y, S


def _brute_force_labels(y, s, score_fn):
    """Best threshold over every distinct score, smallest on ties (loop: test oracle only)."""
    best_t, best = None, -np.inf
    for t in np.unique(s):  # ascending: strict > keeps the smallest best
        value = score_fn(y, (s >= t).astype(int))
        if value > best + 1e-12:
            best_t, best = t, value
    return best_t, best


class TestTuneThresholds:
    @pytest.mark.parametrize("metric", THRESHOLD_METRICS)
    @pytest.mark.parametrize("decimals", [None, 1])
    def test_optimal_per_label(self, metric, decimals):
        """Each label's threshold maximizes the sklearn metric over all candidates (ties too),
        for every metric of the one table."""
        Y, S = _problem(n=120, decimals=decimals)
        result = tune_thresholds(Y, S, metric=metric)

        def score_fn(y, pred):
            return _brute_force(y, pred, metric, 1)

        for col in range(Y.shape[1]):
            t, best = _brute_force_labels(Y[:, col], S[:, col], score_fn)
            assert result.scores[col] == pytest.approx(best, abs=1e-12)
            assert result.thresholds[col] == pytest.approx(t)

    @pytest.mark.parametrize("metric", THRESHOLD_METRICS)
    def test_agrees_with_binary_tune_threshold(self, metric):
        """Per label, the same threshold and value as cb.tune_threshold on that column: one
        kernel and one metric table for one column or many."""
        Y, S = _problem(decimals=2)
        result = tune_thresholds(Y, S, metric)
        for col in range(Y.shape[1]):
            binary = cb.tune_threshold(Y[:, col], S[:, col], metric)
            assert result.thresholds[col] == binary.threshold
            assert result.scores[col] == binary.score

    def test_report_uses_tuned_thresholds(self):
        """Thresholds tuned on validation apply to the test report (never tuned on test)."""
        Y_val, S_val = _problem(seed=1)
        Y_test, S_test = _problem(seed=2)
        tuned = tune_thresholds(Y_val, S_val)
        report = multilabel_report(Y_test, S_test, thresholds=tuned)
        np.testing.assert_allclose(report.per_label["threshold"], tuned.thresholds)
        expected = metrics.f1_score(Y_test, tuned.predict(S_test), average="macro")
        assert report.macro_f1 == pytest.approx(expected)
        assert isinstance(tuned, LabelThresholds)
        assert tuned.to_frame().shape == (Y_val.shape[1], 2)

    def test_label_without_positives_keeps_default(self):
        """No validation positive: default threshold, NaN score, a warning."""
        Y, S = _problem()
        Y[:, 1] = 0
        with pytest.warns(UserWarning, match=r"Labels \[1\] have no positive in `Y_val`"):
            result = tune_thresholds(Y, S, default=0.7)
        assert result.thresholds[1] == 0.7
        assert np.isnan(result.scores[1])

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"metric": "auc"}, ValueError, "`metric`"),
            ({"default": "half"}, TypeError, "`default`"),
            ({"scores_val": np.zeros((2, 2))}, ValueError, "`scores_val`"),
        ],
    )
    def test_bad_arguments(self, kwargs, error, match):
        """Bad arguments raise, naming the argument."""
        Y, S = _problem(n=80)
        args = {"scores_val": S, **kwargs}
        with pytest.raises(error, match=match):
            tune_thresholds(Y, **args)
        with pytest.raises(ValueError, match="`scores` must have 6 columns"):
            tune_thresholds(Y, S).predict(np.zeros((2, 2)))
