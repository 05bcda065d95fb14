"""The statistics behind compare's recommendation: bootstrap intervals, pairing, the best group."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score

from classbalance.compare.stats import (
    bootstrap_balanced_accuracy,
    group_recalls,
)
from classbalance.compare.summary import recommendation
from classbalance.metrics import frequency_groups


def noisy_predictions(y, accuracy, n_seeds, seed):
    """Each prediction is right with probability ``accuracy``, else a random other class."""
    rng = np.random.default_rng(seed)
    k = y.max() + 1
    wrong = (y + rng.integers(1, k, size=(n_seeds, len(y)))) % k
    return np.where(rng.random((n_seeds, len(y))) < accuracy, y, wrong)


class TestBootstrap:
    def test_estimate_is_the_seed_mean_of_sklearns_balanced_accuracy(self):
        """The point estimate equals scikit-learn's balanced accuracy averaged over seeds."""
        y = np.random.default_rng(0).integers(0, 4, size=300)
        preds = noisy_predictions(y, 0.7, 3, seed=1)
        boot = bootstrap_balanced_accuracy(y, {"a": preds}, n_replicates=200)
        expected = np.mean([balanced_accuracy_score(y, p) for p in preds])
        assert boot.estimate[0] == pytest.approx(expected)

    def test_interval_covers_the_truth(self):
        """Over repeated test sets the 95% interval covers the true accuracy (about 95%)."""
        covered = 0
        trials = 60
        for t in range(trials):
            y = np.repeat(np.arange(3), 40)
            preds = noisy_predictions(y, 0.8, 1, seed=100 + t)
            low, high = bootstrap_balanced_accuracy(
                y, {"a": preds}, n_replicates=400, seed=t
            ).interval("a")
            covered += low <= 0.8 <= high
        assert covered / trials >= 0.85  # 95% nominal; a fixed zero-width interval gets ~0

    def test_width_shrinks_with_more_test_samples(self):
        """Four times the test samples roughly halves the interval."""
        widths = []
        for n in (100, 400):
            y = np.repeat([0, 1], n // 2)
            low, high = bootstrap_balanced_accuracy(
                y, {"a": noisy_predictions(y, 0.75, 1, seed=3)}, n_replicates=1000
            ).interval("a")
            widths.append(high - low)
        assert 0.35 < widths[1] / widths[0] < 0.7

    def test_seed_variation_widens_the_interval(self):
        """Seeds that disagree widen the interval compared with one repeated seed."""
        y = np.repeat([0, 1, 2], 100)
        good, bad = noisy_predictions(y, 0.95, 1, 4), noisy_predictions(y, 0.55, 1, 5)
        same = np.concatenate([good, good])
        mixed = np.concatenate([good, bad])
        width = {}
        for name, preds in (("same", same), ("mixed", mixed)):
            low, high = bootstrap_balanced_accuracy(y, {"a": preds}, n_replicates=500).interval("a")
            width[name] = high - low
        assert width["mixed"] > 3 * width["same"]

    def test_paired_difference_of_identical_predictions_is_zero(self):
        """Pairing: a strategy and an exact copy differ by exactly 0 in every replicate."""
        y = np.repeat([0, 1], 50)
        preds = noisy_predictions(y, 0.7, 2, seed=6)
        boot = bootstrap_balanced_accuracy(y, {"a": preds, "b": preds.copy()}, n_replicates=300)
        assert boot.difference("a", "b") == (0.0, 0.0, 0.0)
        assert boot.indistinguishable_from_best() == ["a", "b"]

    def test_small_true_difference_is_not_separated_and_large_one_is(self):
        """A difference far inside the noise is a tie; a large one is not."""
        y = np.repeat(np.arange(5), 20)
        base = noisy_predictions(y, 0.70, 3, seed=7)
        close = noisy_predictions(y, 0.71, 3, seed=8)
        far = noisy_predictions(y, 0.95, 3, seed=9)
        boot = bootstrap_balanced_accuracy(y, {"none": base, "close": close, "far": far})
        assert boot.best() == "far"
        assert boot.indistinguishable_from_best() == ["far"]
        _, low, high = boot.difference("close", "none")
        assert low < 0 < high


class TestRecommendation:
    def test_never_claims_what_the_interval_does_not_support(self):
        """With an interval that includes 0 the sentence says no remedy is clearly better."""
        y = np.repeat(np.arange(4), 15)
        boot = bootstrap_balanced_accuracy(
            y, {"none": noisy_predictions(y, 0.6, 2, 1), "x": noisy_predictions(y, 0.62, 2, 2)}
        )
        assert boot.best() == "x"
        diff, low, high = boot.difference("x", "none")
        assert low <= 0 < diff  # a better estimate that the interval cannot separate from 0
        text = recommendation(boot, True, len(y), 2)
        assert text.startswith("No remedy is clearly better than none")
        assert f"[{low:+.3f}, {high:+.3f}] includes 0" in text

    def test_recommends_a_clear_winner_with_its_interval(self):
        """A clear winner is recommended with its paired interval over no remedy."""
        y = np.repeat(np.arange(4), 100)
        boot = bootstrap_balanced_accuracy(
            y, {"none": noisy_predictions(y, 0.5, 3, 1), "x": noisy_predictions(y, 0.9, 3, 2)}
        )
        text = recommendation(boot, True, len(y), 3)
        diff, low, high = boot.difference("x", "none")
        assert text.startswith(f"Use `x`: {diff:+.3f} balanced accuracy over no remedy")
        assert f"[95% CI {low:+.3f}, {high:+.3f}]" in text


def test_shot_groups_and_group_recalls():
    """Head / medium / tail classes by training count; recall averaged per group."""
    groups = frequency_groups(np.array([300, 101, 100, 20, 19, 0]))
    assert {k: v.tolist() for k, v in groups.items()} == {
        "head": [0, 1], "medium": [2, 3], "tail": [4, 5]
    }  # fmt: skip
    y = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([[0, 0, 1, 0, 0, 0]])
    recalls = group_recalls(y, pred, {"a": np.array([0]), "b": np.array([1, 2]),
                                      "c": np.array([5])}, 6)  # fmt: skip
    assert recalls == {"a": 1.0, "b": 0.25, "c": None}
