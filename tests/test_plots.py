"""Plots: class and label histograms, confusion matrix, drawn for real with matplotlib (Agg)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from sklearn.metrics import confusion_matrix

import classbalance as cb
from classbalance.plots import plot_class_histogram, plot_confusion_matrix, plot_label_histogram

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def bar_heights(fig):
    return [p.get_height() for p in fig.axes[0].patches]


class TestHistogram:
    def test_sorted_bars_with_counts_and_percentages(self):
        """Bars are sorted largest first; each is labelled with its count and percentage."""
        y = np.repeat(["bee", "wasp", "other"], [300, 490, 90])
        fig = plot_class_histogram(y)
        assert bar_heights(fig) == [490, 300, 90]
        ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
        assert ticks == ["wasp", "bee", "other"]
        texts = [t.get_text() for t in fig.axes[0].texts]
        assert texts == ["490\n55.7%", "300\n34.1%", "90\n10.2%"]

    def test_distribution_plot_and_log_scale(self, tmp_path):
        """ClassDistribution.plot draws the same bars; log=True sets a log axis; PNG saved."""
        dist = cb.class_distribution(np.repeat(np.arange(6), [1000, 300, 90, 27, 8, 1]))
        path = tmp_path / "hist.png"
        fig = dist.plot(log=True, path=path)
        assert fig.axes[0].get_yscale() == "log"
        assert bar_heights(fig) == [1000, 300, 90, 27, 8, 1]
        assert path.read_bytes()[:8] == PNG_MAGIC
        assert "imbalance ratio 1,000" in fig.axes[0].get_title()

    def test_empty_class_and_given_axes(self):
        """An empty declared class has a 0 bar; drawing into given axes returns their figure."""
        from matplotlib.figure import Figure

        target = Figure()
        ax = target.add_subplot()
        fig = plot_class_histogram(cb.class_distribution([0, 0, 1], classes=[0, 1, 2]), ax=ax)
        assert fig is target
        assert bar_heights(fig) == [2, 1, 0]
        assert "inf" in ax.get_title()

    def test_save_is_atomic_and_replaces(self, tmp_path):
        """Saving over an existing file replaces it and leaves no temporary file behind."""
        path = tmp_path / "h.png"
        path.write_bytes(b"old")
        plot_class_histogram([0, 1, 1], path=path)
        assert path.read_bytes()[:8] == PNG_MAGIC
        assert [p.name for p in tmp_path.iterdir()] == ["h.png"]

    def test_no_pyplot_and_no_display_needed(self):
        """Plotting never imports pyplot (no GUI backend, no global figures)."""
        code = (
            "import sys; from classbalance.plots import plot_class_histogram, "
            "plot_confusion_matrix; plot_class_histogram([0, 1, 1]); "
            "plot_confusion_matrix([0, 1], [1, 1]); "
            "assert 'matplotlib.pyplot' not in sys.modules"
        )
        src = str(Path(cb.__file__).resolve().parents[1])
        subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": src})

    def test_bad_log(self):
        """`log` must be a bool."""
        with pytest.raises(TypeError, match="Received: log='yes'"):
            plot_class_histogram([0, 1], log="yes")


class TestLabelHistogram:
    def test_one_bar_per_label_and_png(self, tmp_path):
        """LabelDistribution.plot draws one bar per label, most frequent first, and saves a PNG."""
        rng = np.random.default_rng(0)
        Y = (rng.random((300, 8)) < 0.6 * 0.55 ** np.arange(8)).astype(np.uint8)
        dist = cb.label_distribution(Y)
        path = tmp_path / "labels.png"
        fig = dist.plot(log=True, path=path)
        assert len(fig.axes[0].patches) == 8
        assert path.read_bytes()[:4] == b"\x89PNG"
        with pytest.raises(TypeError, match="`log`"):
            dist.plot(log="yes")

    def test_given_axes_and_title(self):
        """Draws into the caller's axes; the default title states MeanIR and SCUMBLE."""
        from matplotlib.figure import Figure

        fig = Figure()
        ax = fig.add_subplot()
        out = cb.label_distribution(["a|b", "a", "a|c"], sep="|").plot(ax=ax)
        assert out is fig
        assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
        assert "MeanIR" in ax.get_title()
        assert "SCUMBLE" in ax.get_title()
        with pytest.raises(TypeError, match="LabelDistribution"):
            plot_label_histogram(cb.class_distribution([0, 1, 1]))


class TestConfusion:
    @pytest.fixture
    def labels(self):
        rng = np.random.default_rng(0)
        y_true = rng.choice(4, size=400, p=[0.6, 0.25, 0.1, 0.05])
        y_pred = np.where(rng.random(400) < 0.7, y_true, rng.integers(0, 4, 400))
        return y_true, y_pred

    def test_counts_and_row_normalized(self, labels, tmp_path):
        """The counts panel is sklearn's matrix; the other has rows summing to 1 (recall)."""
        y_true, y_pred = labels
        fig = plot_confusion_matrix(y_true, y_pred, path=tmp_path / "cm.png")
        counts, normalized = (ax.images[0].get_array() for ax in fig.axes if ax.images)
        expected = confusion_matrix(y_true, y_pred)
        np.testing.assert_array_equal(np.asarray(counts), expected)
        np.testing.assert_allclose(np.asarray(normalized).sum(axis=1), 1.0)
        np.testing.assert_allclose(np.diag(normalized), np.diag(expected) / expected.sum(axis=1))
        assert (tmp_path / "cm.png").read_bytes()[:8] == PNG_MAGIC

    def test_precomputed_matrix_matches(self, labels):
        """confusion= draws the same matrix as y_true/y_pred; class names label the axes."""
        y_true, y_pred = labels
        cm = confusion_matrix(y_true, y_pred)
        names = ["head", "mid", "tail", "rare"]
        fig = plot_confusion_matrix(confusion=cm, classes=names, normalize="true")
        (ax,) = [a for a in fig.axes if a.images]
        assert [t.get_text() for t in ax.get_yticklabels()] == names
        np.testing.assert_allclose(ax.images[0].get_array(), cm / cm.sum(axis=1, keepdims=True))

    def test_one_hot_and_probabilities(self, labels):
        """One-hot truths and probability predictions are turned into classes with argmax."""
        y_true, y_pred = labels
        proba = np.eye(4)[y_pred] * 0.7 + 0.075
        fig = plot_confusion_matrix(np.eye(4)[y_true], proba, normalize=None)
        (ax,) = [a for a in fig.axes if a.images]
        np.testing.assert_array_equal(ax.images[0].get_array(), confusion_matrix(y_true, y_pred))

    def test_empty_row_is_zero_not_nan(self):
        """A class that never occurs as truth gets a 0 row, not NaN, when normalized."""
        fig = plot_confusion_matrix([0, 0, 1], [0, 2, 1], classes=[0, 1, 2], normalize="true")
        values = np.asarray(fig.axes[0].images[0].get_array())
        assert np.isfinite(values).all()
        assert values[2].tolist() == [0, 0, 0]

    def test_classes_as_values_or_names_of_codes(self, labels):
        """`classes` may list label values (any order) or name integer codes 0..K-1."""
        y_true, y_pred = labels
        words = np.array(["a", "b", "c", "d"])
        fig = plot_confusion_matrix(words[y_true], words[y_pred], classes=["d", "c", "b", "a"])
        flipped = np.asarray(fig.axes[0].images[0].get_array())
        np.testing.assert_array_equal(flipped, confusion_matrix(y_true, y_pred)[::-1, ::-1])
        fig = plot_confusion_matrix(y_true, y_pred, classes=list(words), normalize=None)
        assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(words)
        with pytest.raises(ValueError, match=r"Labels \['e'\] are not in"):
            plot_confusion_matrix(["a", "e"], ["a", "a"], classes=["a", "b"])

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"confusion": np.ones((2, 3))}, "square"),
            ({"confusion": np.ones((2, 2)), "y_true": [0]}, "not both"),
            ({"confusion": np.ones((2, 2)), "classes": ["a"]}, "1 names"),
            ({"y_true": [0, 1]}, "Pass `y_true` and `y_pred`"),
            ({"y_true": [0, 1], "y_pred": [0]}, "same length"),
            ({"y_true": [0, 1], "y_pred": [0, 1], "normalize": "all"}, "`normalize` must be"),
        ],
    )
    def test_bad_arguments(self, kwargs, match):
        """Inconsistent inputs are refused with a message."""
        with pytest.raises(ValueError, match=match):
            plot_confusion_matrix(**kwargs)


class TestStrategyComparison:
    def test_bars_sorted_best_on_top(self, tmp_path):
        """Strategies are drawn best at the top, saved as PNG; missing columns are named."""
        import pandas as pd

        from classbalance.plots import plot_strategy_comparison

        table = pd.DataFrame(
            {"balanced_accuracy_mean": [0.6, 0.9, 0.7], "balanced_accuracy_std": [0.1, 0.0, 0.05]},
            index=["none", "oversample", "class_weight"],
        )
        fig = plot_strategy_comparison(table, path=tmp_path / "s.png")
        labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        assert labels == ["none", "class_weight", "oversample"]  # barh: last is at the top
        assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with pytest.raises(ValueError, match="macro_f1_mean"):
            plot_strategy_comparison(table, metric="macro_f1")
