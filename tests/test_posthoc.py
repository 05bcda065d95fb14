"""Post-hoc logit adjustment and threshold tuning."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    matthews_corrcoef,
    recall_score,
)

import classbalance as cb

COUNTS = np.array([800, 150, 40, 10])


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class TestAdjustLogits:
    def test_subtracts_tau_log_prior(self):
        """Logits are shifted by exactly -tau * log(counts / total)."""
        z = np.random.default_rng(0).normal(size=(20, 4))
        out = cb.adjust_logits(z, COUNTS, tau=0.8)
        np.testing.assert_allclose(out, z - 0.8 * np.log(COUNTS / COUNTS.sum()))

    @given(st.integers(0, 2**32 - 1), st.floats(0, 3))
    def test_probs_and_logits_agree(self, seed, tau):
        """Adjusting probabilities equals softmax of the adjusted logits (rows sum to 1)."""
        z = np.random.default_rng(seed).normal(size=(10, 4)) * 3
        from_probs = cb.adjust_logits(_softmax(z), COUNTS, tau=tau)
        np.testing.assert_allclose(from_probs, _softmax(cb.adjust_logits(z, COUNTS, tau=tau)))
        np.testing.assert_allclose(from_probs.sum(axis=1), 1.0)

    def test_tau_zero_and_uniform_counts_change_nothing(self):
        """tau=0 or a uniform prior leave the predictions as they were."""
        p = _softmax(np.random.default_rng(1).normal(size=(30, 4)))
        np.testing.assert_allclose(cb.adjust_logits(p, COUNTS, tau=0.0), p)
        np.testing.assert_allclose(cb.adjust_logits(p, [5, 5, 5, 5]), p)

    def test_moves_predictions_towards_rare_classes(self):
        """On ambiguous inputs, adjustment predicts rare classes more often, never less."""
        p = _softmax(np.random.default_rng(2).normal(size=(500, 4)) * 0.5)
        before = np.bincount(p.argmax(1), minlength=4)
        after = np.bincount(cb.adjust_logits(p, COUNTS).argmax(1), minlength=4)
        assert after[3] > before[3]
        assert after[0] < before[0]

    def test_kind_forces_interpretation(self):
        """kind='logits' treats a probability-looking array as logits."""
        p = np.array([[0.5, 0.5]])
        np.testing.assert_allclose(
            cb.adjust_logits(p, [3, 1], kind="logits"), p - np.log([0.75, 0.25])
        )

    @pytest.mark.parametrize(
        ("args", "match"),
        [
            ((np.zeros(4), COUNTS), "must be a finite 2-D array"),
            ((np.zeros((2, 3)), COUNTS), "`class_counts` has 4 classes but .* has 3 columns"),
            ((np.zeros((2, 4)), [1, 2, 0, 4]), r"classes \[2\] have none"),
        ],
    )
    def test_errors(self, args, match):
        """Shape and count problems are reported with the numbers."""
        with pytest.raises(ValueError, match=match):
            cb.adjust_logits(*args)


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
    @pytest.mark.parametrize("metric", ["f1", "balanced_accuracy", "g_mean", "youden", "mcc"])
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
