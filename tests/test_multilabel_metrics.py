"""Multi-label report and per-label thresholds, checked against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

import classbalance as cb
from classbalance.multilabel import label_distribution
from classbalance.multilabel_metrics import (
    LabelThresholds,
    multilabel_report,
    tune_thresholds,
)


def _problem(n: int = 400, n_labels: int = 6, seed: int = 0, decimals: int | None = None):
    """Labels with falling frequency and noisy scores that rank positives higher."""
    rng = np.random.default_rng(seed)
    prob = 0.5 * 0.6 ** np.arange(n_labels)
    Y = (rng.random((n, n_labels)) < prob).astype(np.uint8)
    S = 1 / (1 + np.exp(-(2.0 * Y - 1.0 + rng.normal(scale=1.2, size=Y.shape))))
    if decimals is not None:
        S = np.round(S, decimals)  # many tied scores
    return Y, S


class TestReport:
    def test_against_sklearn(self):
        """mAP, per-label P/R/F1 and macro/micro F1 equal scikit-learn's."""
        Y, S = _problem()
        t = np.linspace(0.3, 0.6, Y.shape[1])
        report = multilabel_report(Y, S, thresholds=t)
        P = np.greater_equal(S, t).astype(int)
        assert report.mAP == pytest.approx(metrics.average_precision_score(Y, S, average="macro"))
        np.testing.assert_allclose(
            report.per_label["ap"], metrics.average_precision_score(Y, S, average=None)
        )
        p, r, f, s = metrics.precision_recall_fscore_support(Y, P, average=None, zero_division=0)
        np.testing.assert_allclose(report.per_label["precision"], p)
        np.testing.assert_allclose(report.per_label["recall"], r)
        np.testing.assert_allclose(report.per_label["f1"], f)
        np.testing.assert_array_equal(report.per_label["support"], s)
        assert report.macro_f1 == pytest.approx(metrics.f1_score(Y, P, average="macro"))
        assert report.micro_f1 == pytest.approx(metrics.f1_score(Y, P, average="micro"))
        assert report.groups is None

    def test_groups_rule(self):
        """tail < 20 <= medium <= 100 < head training positives; group means per group."""
        Y, S = _problem(n_labels=5)
        counts = [1000, 101, 100, 20, 19]
        report = multilabel_report(Y, S, train_counts=counts)
        assert report.per_label["group"].tolist() == ["head", "head", "medium", "medium", "tail"]
        assert report.groups.index.tolist() == ["head", "medium", "tail"]
        ap = report.per_label["ap"].to_numpy()
        assert report.groups.loc["head", "mAP"] == pytest.approx(ap[:2].mean())
        assert report.groups.loc["tail", "n_labels"] == 1
        assert report.to_dict()["tail_mAP"] == pytest.approx(ap[4])
        custom = multilabel_report(Y, S, train_counts=counts, group_bounds=(200, 500))
        assert custom.per_label["group"].tolist() == ["head", "tail", "tail", "tail", "tail"]

    def test_train_counts_from_label_distribution(self):
        """A LabelDistribution of the training labels gives the counts."""
        Y, S = _problem()
        Y_train, _ = _problem(seed=1)
        a = multilabel_report(Y, S, train_counts=label_distribution(Y_train))
        b = multilabel_report(Y, S, train_counts=Y_train.sum(axis=0))
        assert a.per_label.equals(b.per_label)

    def test_label_without_test_positives(self):
        """No test positive: AP NaN, left out of mAP and listed; nothing crashes."""
        Y, S = _problem()
        Y[:, 2] = 0
        report = multilabel_report(Y, S, train_counts=np.full(Y.shape[1], 50))
        assert np.isnan(report.per_label["ap"].iloc[2])
        assert report.labels_without_positives == [2]
        keep = [0, 1, 3, 4, 5]
        expected = metrics.average_precision_score(Y[:, keep], S[:, keep], average="macro")
        assert report.mAP == pytest.approx(expected)
        assert np.isfinite(report.groups.loc["medium", "mAP"])
        assert "mAP" in str(report)

    def test_label_sets_and_names(self):
        """Label sets work as Y_true; rows are named by label."""
        report = multilabel_report(
            [{"cat"}, {"dog", "cat"}, set()], np.array([[0.9, 0.1], [0.8, 0.7], [0.1, 0.2]])
        )
        assert report.per_label.index.tolist() == ["cat", "dog"]
        assert report.mAP == pytest.approx(1.0)

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"scores": np.zeros((3, 2))}, ValueError, r"shape \(4, 3\)"),
            ({"scores": np.full((4, 3), np.nan)}, ValueError, "must be finite"),
            ({"thresholds": [0.5, 0.5]}, ValueError, "`thresholds`"),
            ({"thresholds": True}, TypeError, "`thresholds`"),
            ({"train_counts": [1, 2]}, ValueError, "`train_counts`"),
            ({"group_bounds": (50, 10)}, ValueError, "`group_bounds`"),
            ({"group_bounds": 5}, TypeError, "`group_bounds`"),
        ],
    )
    def test_bad_arguments(self, kwargs, error, match):
        """Bad arguments raise, naming the argument."""
        args = {"scores": np.full((4, 3), 0.5), **kwargs}
        with pytest.raises(error, match=match):
            multilabel_report(np.eye(4, 3, dtype=int), **args)


def _brute_force(y, s, score_fn):
    """Best threshold over every distinct score, smallest on ties (loop: test oracle only)."""
    best_t, best = None, -np.inf
    for t in np.unique(s):  # ascending: strict > keeps the smallest best
        value = score_fn(y, (s >= t).astype(int))
        if value > best + 1e-12:
            best_t, best = t, value
    return best_t, best


class TestTuneThresholds:
    @pytest.mark.parametrize(
        ("metric", "score_fn"),
        [
            ("f1", lambda y, p: metrics.f1_score(y, p, zero_division=0)),
            ("balanced_accuracy", metrics.balanced_accuracy_score),
            ("mcc", metrics.matthews_corrcoef),
        ],
    )
    @pytest.mark.parametrize("decimals", [None, 1])
    def test_optimal_per_label(self, metric, score_fn, decimals):
        """Each label's threshold maximizes the sklearn metric over all candidates (ties too)."""
        Y, S = _problem(n=120, decimals=decimals)
        result = tune_thresholds(Y, S, metric=metric)
        for col in range(Y.shape[1]):
            t, best = _brute_force(Y[:, col], S[:, col], score_fn)
            assert result.scores[col] == pytest.approx(best, abs=1e-12)
            assert result.thresholds[col] == pytest.approx(t)

    def test_agrees_with_binary_tune_threshold(self):
        """Per label, the same threshold as cb.tune_threshold on that column."""
        Y, S = _problem()
        result = tune_thresholds(Y, S)
        for col in range(Y.shape[1]):
            assert result.thresholds[col] == cb.tune_threshold(Y[:, col], S[:, col]).threshold

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

    def test_large_input_is_vectorized(self):
        """100k x 40 scores tune in one pass (well under a few seconds)."""
        import time

        rng = np.random.default_rng(3)
        Y = (rng.random((100_000, 40)) < 0.1).astype(np.uint8)
        S = Y + rng.normal(size=Y.shape)
        start = time.perf_counter()
        tune_thresholds(Y, S)
        assert time.perf_counter() - start < 10.0

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
