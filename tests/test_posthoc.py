"""Post-hoc logit adjustment (threshold tuning: test_thresholds.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

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
