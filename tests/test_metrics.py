"""The imbalance reports (single- and multi-label): agree with scikit-learn, accept every format."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics
from sklearn.metrics import (
    balanced_accuracy_score,
    classification_report,
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
)

import classbalance as cb
import classbalance.metrics._recalls as recalls_module
from classbalance.distribution import label_distribution
from classbalance.metrics import (
    balanced_accuracy,
    class_recalls,
    frequency_groups,
    multilabel_report,
)


def _predictions(seed: int, n: int = 300):
    k = 4
    rng = np.random.default_rng(seed)
    y = rng.choice(k, size=n, p=[0.7, 0.2, 0.08, 0.02])
    logits = rng.normal(size=(n, k)) + 2.0 * np.eye(k)[y]
    return y, logits


class TestAgreesWithScikitLearn:
    @settings(max_examples=25)
    @given(st.integers(0, 2**32 - 1))
    def test_every_number(self, seed):
        """Per-class and summary numbers equal scikit-learn's (and the definitions)."""
        y, logits = _predictions(seed)
        pred = logits.argmax(1)
        report = cb.imbalance_report(y, logits)
        sk = classification_report(y, pred, output_dict=True, zero_division=0)
        for c in np.unique(y):
            row = report.per_class.loc[c]
            assert row["precision"] == pytest.approx(sk[str(c)]["precision"])
            assert row["recall"] == pytest.approx(sk[str(c)]["recall"])
            assert row["f1"] == pytest.approx(sk[str(c)]["f1-score"])
            assert row["support"] == sk[str(c)]["support"]
            negatives = y != c
            assert row["specificity"] == pytest.approx(np.mean(pred[negatives] != c))
        s = report.summary
        assert s["accuracy"] == pytest.approx(np.mean(pred == y))
        assert s["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, pred))
        assert s["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
        assert s["weighted_f1"] == pytest.approx(f1_score(y, pred, average="weighted"))
        assert s["mcc"] == pytest.approx(matthews_corrcoef(y, pred))
        recalls = report.per_class["recall"][report.per_class["support"] > 0]
        assert s["g_mean"] == pytest.approx(np.prod(recalls) ** (1 / len(recalls)))
        assert s["min_recall"] == pytest.approx(recalls.min())
        assert s["g_mean"] <= s["balanced_accuracy"] + 1e-12  # GM <= AM
        assert s["min_recall"] <= s["g_mean"] + 1e-12
        np.testing.assert_array_equal(report.confusion, confusion_matrix(y, pred))


class TestInputFormats:
    def test_labels_onehot_probabilities_agree(self):
        """Class vector, one-hot truth, probabilities and predicted labels give one report."""
        y, logits = _predictions(1)
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        onehot_true = np.eye(4)[y]
        reports = [
            cb.imbalance_report(y, logits),
            cb.imbalance_report(y, probs),
            cb.imbalance_report(onehot_true, probs),
            cb.imbalance_report(y, probs.argmax(1)),
            cb.imbalance_report(onehot_true, probs.argmax(1)),
            cb.imbalance_report(pd.Series(y), np.eye(4)[probs.argmax(1)]),
        ]
        for r in reports[1:]:
            assert r.summary == reports[0].summary
            np.testing.assert_array_equal(r.confusion, reports[0].confusion)

    def test_string_labels_and_union_of_classes(self):
        """String labels; a class only ever predicted still gets a row (support 0)."""
        report = cb.imbalance_report(["cat", "dog", "dog"], ["cat", "dog", "eel"])
        assert report.classes.tolist() == ["cat", "dog", "eel"]
        assert report.per_class.loc["eel", "support"] == 0
        assert report.per_class.loc["dog", "recall"] == 0.5
        assert report.summary["min_recall"] == 0.5  # eel has no samples: not the worst class
        assert report.worst_class == "dog"

    def test_declared_classes_name_probability_columns(self):
        """`classes` names the columns of probabilities, including an absent class."""
        probs = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1]])
        report = cb.imbalance_report(["lo", "mid"], probs, classes=["lo", "mid", "hi"])
        assert report.per_class.index.tolist() == ["lo", "mid", "hi"]
        assert report.summary["accuracy"] == 1.0

    def test_integer_labels_missing_from_test_set(self):
        """Integer labels 0..K-1 with a class absent from y_true still match the K columns."""
        probs = np.eye(3)[[0, 2, 2]]
        report = cb.imbalance_report([0, 2, 1], probs)
        assert report.classes.tolist() == [0, 1, 2]
        assert report.confusion.tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 1]]

    def test_one_hot_truth_with_named_columns_and_label_predictions(self):
        """With `classes` naming one-hot columns, predicted labels are those names."""
        report = cb.imbalance_report(
            np.eye(2)[[0, 1, 1]], ["neg", "pos", "neg"], classes=["neg", "pos"]
        )
        assert report.confusion.tolist() == [[1, 0], [1, 1]]

    def test_binary_scores_are_thresholded(self):
        """For two classes, a probability vector is thresholded (default 0.5)."""
        y = np.array([0, 0, 1, 1])
        scores = np.array([0.1, 0.6, 0.4, 0.9])
        assert cb.imbalance_report(y, scores).summary["accuracy"] == 0.5
        assert cb.imbalance_report(y, scores, threshold=0.35).summary["accuracy"] == 0.75

    @pytest.mark.parametrize(
        ("y_true", "y_pred", "match"),
        [
            ([0, 1, 2], [0, 1], "3 samples but `y_pred` has 2"),
            ([0, 1, 2], np.zeros((3, 2)), "2 columns but there are 3 classes"),
            ([0, 1, 2], [0.2, 0.5, 0.7], "looks like scores of a positive class"),
            ([0, 1], [0, 5], r"not among the classes: \[5\]"),
        ],
    )
    def test_errors(self, y_true, y_pred, match):
        """Mismatched predictions are reported with the numbers."""
        kwargs = {"classes": [0, 1]} if match.startswith("not") else {}
        with pytest.raises(ValueError, match=match):
            cb.imbalance_report(y_true, y_pred, **kwargs)


class TestOutputs:
    def test_to_dict_is_json(self):
        """to_dict() survives json.dumps and carries the same numbers."""
        y, logits = _predictions(2)
        report = cb.imbalance_report(y, logits)
        data = json.loads(json.dumps(report.to_dict()))
        assert data["summary"] == pytest.approx(report.summary)
        assert data["confusion"] == report.confusion.tolist()
        assert [r["class"] for r in data["per_class"]] == [0, 1, 2, 3]
        assert data["per_class"][3]["support"] == int(report.per_class.loc[3, "support"])

    def test_to_markdown(self):
        """Markdown has the three tables, every class and consistent column counts."""
        report = cb.imbalance_report(["a", "b", "b", "c|d"], ["a", "b", "a", "c|d"])
        text = report.to_markdown(digits=2)
        tables = text.strip().split("\n\n")
        assert len(tables) == 3
        for table in tables:
            lines = table.splitlines()
            widths = {line.replace("\\|", "").count("|") for line in lines}
            assert len(widths) == 1, table
        assert "| balanced_accuracy | 0.83 |" in text
        assert "c\\|d" in text

    def test_plot_confusion(self, tmp_path):
        """plot_confusion draws through classbalance.plots and saves to `path`."""
        pytest.importorskip("matplotlib")
        pytest.importorskip("classbalance.plots")
        report = cb.imbalance_report([0, 1, 1, 2], [0, 1, 2, 2])
        path = tmp_path / "cm.png"
        figure = report.plot_confusion(path)
        assert figure is not None
        assert path.exists()
        assert path.stat().st_size > 0


def _multilabel_problem(
    n: int = 400, n_labels: int = 6, seed: int = 0, decimals: int | None = None
):
    """Labels with falling frequency and noisy scores that rank positives higher."""
    rng = np.random.default_rng(seed)
    prob = 0.5 * 0.6 ** np.arange(n_labels)
    Y = (rng.random((n, n_labels)) < prob).astype(np.uint8)
    S = 1 / (1 + np.exp(-(2.0 * Y - 1.0 + rng.normal(scale=1.2, size=Y.shape))))
    if decimals is not None:
        S = np.round(S, decimals)  # many tied scores
    return Y, S


class TestMultiLabelReport:
    def test_against_sklearn(self):
        """mAP, per-label P/R/F1 and macro/micro F1 equal scikit-learn's."""
        Y, S = _multilabel_problem()
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
        Y, S = _multilabel_problem(n_labels=5)
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
        Y, S = _multilabel_problem()
        Y_train, _ = _multilabel_problem(seed=1)
        a = multilabel_report(Y, S, train_counts=label_distribution(Y_train))
        b = multilabel_report(Y, S, train_counts=Y_train.sum(axis=0))
        assert a.per_label.equals(b.per_label)

    def test_label_without_test_positives(self):
        """No test positive: AP NaN, left out of mAP and listed; nothing crashes."""
        Y, S = _multilabel_problem()
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


class TestBalancedAccuracyKernel:
    """balanced_accuracy / class_recalls: the package's one balanced accuracy."""

    @settings(max_examples=40)
    @given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 80), k=st.integers(1, 6))
    def test_equals_scikit_learn(self, seed, n, k):
        """Equal to balanced_accuracy_score, classes missing from y_true or y_pred included."""
        rng = np.random.default_rng(seed)
        y = rng.integers(0, k, n)
        pred = rng.integers(0, k + 1, n)  # k: a class y_true never has
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="y_pred contains classes", category=UserWarning
            )
            warnings.filterwarnings(
                "ignore", message="A single label was found", category=UserWarning
            )
            expected = balanced_accuracy_score(y, pred)
        assert balanced_accuracy(y, pred) == pytest.approx(expected, abs=1e-12)

    def test_batch_equals_loop_and_weights_equal_repeats(self):
        """A batch of predictions gives the per-row values; integer weights equal repeated rows."""
        rng = np.random.default_rng(0)
        y = rng.integers(0, 5, 200)
        preds = np.where(rng.random((4, 200)) < 0.6, y, rng.integers(0, 5, (4, 200)))
        batch = balanced_accuracy(y, preds)
        assert batch.shape == (4,)
        np.testing.assert_allclose(batch, [balanced_accuracy_score(y, p) for p in preds])
        draws = rng.integers(0, 4, (3, 200))
        weighted = balanced_accuracy(y, preds[0], sample_weight=draws)
        for row, counts in zip(weighted, draws):
            repeated = balanced_accuracy_score(np.repeat(y, counts), np.repeat(preds[0], counts))
            assert row == pytest.approx(repeated)

    def test_class_recalls_nan_for_absent_classes(self):
        """One recall per class; a class without true samples is NaN, not 0."""
        recalls = class_recalls([2, 2, 0], [2, 1, 0], 4)
        np.testing.assert_array_equal(recalls, [1.0, np.nan, 0.5, np.nan])
        unsorted = class_recalls([2, 0, 2], [1, 0, 2], 4)
        np.testing.assert_array_equal(unsorted, recalls)

    @pytest.mark.parametrize(
        ("args", "kwargs", "error", "match"),
        [
            (([0.0, 1.0], [0, 1]), {}, TypeError, "`y_true` must hold integer class codes"),
            (([0, 1], [0, 1, 1]), {}, ValueError, "same number of samples"),
            (([0, 1], [0, 1]), {"sample_weight": [1.0]}, ValueError, "`sample_weight`"),
        ],
    )
    def test_errors(self, args, kwargs, error, match):
        """Non-integer codes and mismatched lengths are refused, naming the argument."""
        with pytest.raises(error, match=match):
            balanced_accuracy(*args, **kwargs)

    def test_every_balanced_accuracy_goes_through_the_kernel(self, monkeypatch):
        """The report, compare's bootstrap and its validation score, and the fastai metric all
        compute balanced accuracy with class_recalls."""
        calls = []
        real = recalls_module.class_recalls

        def counting(*args, **kwargs):
            calls.append(1)
            return real(*args, **kwargs)

        monkeypatch.setattr(recalls_module, "class_recalls", counting)
        cb.imbalance_report([0, 0, 1], [0, 1, 1])
        assert len(calls) == 1
        from classbalance.compare.stats import bootstrap_balanced_accuracy

        bootstrap_balanced_accuracy(
            np.array([0, 0, 1]), {"a": np.array([[0, 1, 1]])}, n_replicates=5
        )
        assert len(calls) > 1
        pytest.importorskip("fastai")
        from classbalance.fastai import _balanced_accuracy

        before = len(calls)
        assert _balanced_accuracy(np.array([0, 0, 1]), np.array([0, 1, 1])) == 0.75
        assert len(calls) == before + 1


class TestFrequencyGroups:
    def test_bounds_and_names(self):
        """head > high, low <= medium <= high, tail < low; every group present."""
        groups = frequency_groups([300, 101, 100, 20, 19, 0])
        assert {k: v.tolist() for k, v in groups.items()} == {
            "head": [0, 1],
            "medium": [2, 3],
            "tail": [4, 5],
        }
        assert frequency_groups([5, 6], bounds=(10, 20))["head"].tolist() == []

    @pytest.mark.parametrize(
        ("bounds", "error"), [((50, 10), ValueError), (5, TypeError), ((1, "x"), TypeError)]
    )
    def test_bad_bounds(self, bounds, error):
        """Bounds must be a pair 0 <= low <= high."""
        with pytest.raises(error, match="`bounds`"):
            frequency_groups([1, 2], bounds=bounds)
