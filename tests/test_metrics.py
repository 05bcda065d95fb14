"""The imbalance report: agrees with scikit-learn, accepts every prediction format."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    balanced_accuracy_score,
    classification_report,
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
)

import classbalance as cb


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
