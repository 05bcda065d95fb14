"""`classbalance compare` on multi-label data: fair budgets, thresholds on validation, loading."""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("matplotlib")
pytest.importorskip("iterstrat")
Image = pytest.importorskip("PIL.Image")

from sklearn.metrics import average_precision_score, f1_score  # noqa: E402

import classbalance as cb  # noqa: E402
from classbalance.compare import (  # noqa: E402
    MULTI_LABEL,
    STRATEGIES,
    CompareConfig,
    compare,
    load_data,
)
from classbalance.compare.data import assemble  # noqa: E402
from classbalance.compare.ranking import weighted_average_precision  # noqa: E402
from classbalance.compare.runner import run_one  # noqa: E402
from classbalance.compare.stats import bootstrap_multilabel  # noqa: E402
from classbalance.compare.training import RunContext  # noqa: E402
from compare_support import one_line_error, run, tiny_mlp  # noqa: E402

ML_RECIPES = STRATEGIES["multi-label"]
ML_FILES = ["results.csv", "results.json", "report.md", "label_histogram.png", "strategies.png"]


def generated(n_train=600, n_labels=5, seed=0, **kwargs):
    """Long-tailed multi-label features: train + val as one pool, and a test set."""
    d = cb.make_long_tailed_multilabel(
        n_train, n_val=200, n_test=400, n_labels=n_labels, n_features=12,
        imbalance_ratio=20, seed=seed, **kwargs,
    )  # fmt: skip
    return np.r_[d.x_train, d.x_val], np.r_[d.Y_train, d.Y_val], d.x_test, d.Y_test


def assert_ml_report(out: Path, strategies: list[str], min_map: float) -> dict:
    for name in ML_FILES:
        assert (out / name).stat().st_size > 0, name
    payload = json.loads((out / "results.json").read_text())
    runs = payload["runs"]
    assert sorted({r["strategy"] for r in runs}) == sorted(strategies)
    assert all(r["steps"] == r["budget_steps"] for r in runs)
    assert len({r["steps"] for r in runs}) == 1
    maps = [row["mAP"] for row in payload["summary"]]
    assert maps == sorted(maps, reverse=True)  # best first
    for row in payload["summary"]:
        assert row["ci_low"] <= row["mAP"] <= row["ci_high"]
        assert row["macro_f1_low"] <= row["macro_f1"] <= row["macro_f1_high"]
    # A model that learned nothing scores the label rate (mAP ~0.2-0.3 here).
    assert maps[0] > min_map, maps
    report = (out / "report.md").read_text()
    assert payload["recommendation"] in report
    assert "multi-label" in report
    assert "best validation mAP" in report
    return payload


# --------------------------------------------------------------------------- fairness
@pytest.mark.backend
class TestEqualBudget:
    def test_every_multilabel_recipe_takes_the_same_steps(self, tmp_path):
        """Every multi-label recipe takes epochs * ceil(n_train / batch) steps: counted by Adam."""
        x, Y, x_test, Y_test = generated()
        np.savez(tmp_path / "d.npz", x=x, y=Y)
        np.savez(tmp_path / "t.npz", x=x_test, y=Y_test)
        cfg = CompareConfig(data=str(tmp_path / "d.npz"), test=str(tmp_path / "t.npz"),
                            epochs=2, batch_size=24)  # fmt: skip
        data = load_data(cfg)
        assert data.task is MULTI_LABEL  # detected: y is multi-hot
        assert MULTI_LABEL.strategies(None, data.kind) == list(ML_RECIPES)
        budget = 2 * math.ceil(data.n_train / 24)
        for name in ML_RECIPES:
            built: list = []

            def model_fn(shape, n, built=built):
                built.append(tiny_mlp(shape, n))
                return built[-1]

            ctx = RunContext(data, cfg, seed=0, model_fn=model_fn)
            predict = ML_RECIPES[name].train(ctx)
            iterations = sum(int(m.optimizer.iterations.numpy()) for m in built)
            assert ctx.steps == budget, name
            assert iterations == budget, name
            assert predict(data.x_test[:3]).shape == (3, data.n_classes)


class TestThresholdsOnValidationOnly:
    def test_changing_test_labels_does_not_change_thresholds(self):
        """Thresholds come from validation: flipping every test label leaves them as they were."""
        x, Y, x_test, Y_test = generated()
        cfg = CompareConfig(epochs=2).resolved()
        data = assemble({"all": (x, Y), "test": (x_test, Y_test)}, cfg, "arrays", MULTI_LABEL)
        flipped = dataclasses.replace(data, y_test=1 - data.y_test)
        a = run_one(data, cfg, "none", 0, model=tiny_mlp)
        b = run_one(flipped, cfg, "none", 0, model=tiny_mlp)
        assert a["details"]["thresholds"] == b["details"]["thresholds"]
        np.testing.assert_array_equal(a["_thresholds"], b["_thresholds"])
        assert a["mAP"] != pytest.approx(b["mAP"])  # the test labels do reach the scores
        # The tuned F1 is scikit-learn's macro-F1 at these thresholds on the test set.
        predicted = (a["_pred"] >= a["_thresholds"]).astype(int)
        assert a["macro_f1_tuned"] == pytest.approx(
            f1_score(data.y_test, predicted, average="macro", zero_division=0)
        )
        assert not np.allclose(a["_thresholds"], 0.5)  # tuning happened


# --------------------------------------------------------------------------- statistics
class TestMultilabelBootstrap:
    def test_weighted_ap_is_sklearns_ap_of_the_resampled_rows(self):
        """Draw counts as weights give scikit-learn's AP of the repeated rows (ties included)."""
        rng = np.random.default_rng(0)
        Y = (rng.random((150, 4)) < 0.25).astype(int)
        S = np.round(rng.random((150, 4)), 1)  # many ties
        weights = rng.multinomial(150, np.full(150, 1 / 150), size=3).astype(np.float32)
        ap = weighted_average_precision(Y, S, weights)
        for b in range(3):
            rows = np.repeat(np.arange(150), weights[b].astype(int))
            expected = [average_precision_score(Y[rows, k], S[rows, k]) for k in range(4)]
            np.testing.assert_allclose(ap[b], expected, atol=1e-6)

    def test_estimates_intervals_and_pairing(self):
        """Estimates are sklearn's mAP / macro-F1; a clear gap is separated, a copy is not."""
        rng = np.random.default_rng(1)
        Y = (rng.random((300, 3)) < 0.3).astype(int)
        good = np.clip(Y * 0.6 + rng.random((2, 300, 3)) * 0.5, 0, 1)
        bad = rng.random((2, 300, 3))
        scores = {"good": good, "copy": good.copy(), "bad": bad}
        boots = bootstrap_multilabel(
            Y, scores, {"macro_f1": {n: s >= 0.5 for n, s in scores.items()}}, n_replicates=300
        )
        expected = np.mean(
            [np.mean([average_precision_score(Y[:, k], g[:, k]) for k in range(3)]) for g in good]
        )
        assert boots["mAP"].estimate[0] == pytest.approx(expected)
        f1 = np.mean([f1_score(Y, g >= 0.5, average="macro", zero_division=0) for g in good])
        assert boots["macro_f1"].estimate[0] == pytest.approx(f1)
        assert boots["mAP"].difference("good", "bad")[1] > 0
        assert boots["mAP"].difference("good", "copy")[1:] == (0.0, 0.0)
        assert set(boots["mAP"].indistinguishable_from_best()) == {"good", "copy"}


# --------------------------------------------------------------------------- loading + CLI
def test_npz_detected_and_python_api(tmp_path):
    """An .npz with a multi-hot y runs the multi-label comparison; compare() takes arrays too."""
    x, Y, x_test, Y_test = generated()
    np.savez(tmp_path / "d.npz", x=x, y=Y)
    out = tmp_path / "r"
    result = run(["--data", str(tmp_path / "d.npz"), "--strategies",
                  "none,pos_weight,class_aware,asymmetric_loss", "--epochs", "2", "--seeds", "1",
                  "--cv", "0", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "mAP [95% CI]" in result.output
    payload = assert_ml_report(out, ["none", "pos_weight", "class_aware", "asymmetric_loss"], 0.5)
    assert payload["config"]["label_cols"] is None
    api = compare(x, Y, x_test=x_test, y_test=Y_test, model=tiny_mlp,
                  strategies=["none", "pos_weight"], seeds=1, epochs=2)  # fmt: skip
    assert api.multilabel
    assert sorted(api.summary.index) == ["none", "pos_weight"]
    assert api.recommendation.count("mAP") >= 1


def test_csv_with_label_cols(tmp_path):
    """A CSV with --label-cols names the 0/1 label columns; the rest are features."""
    x, Y, _, _ = generated()
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])
    for k, name in enumerate(["cat", "dog", "bird", "fish", "frog"]):
        frame[name] = Y[:, k]
    frame.to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "r"
    result = run(["--data", str(tmp_path / "d.csv"), "--label-cols", "cat,dog,bird,fish,frog",
                  "--quick", "--strategies", "none,pos_weight", "--cv", "0",
                  "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = assert_ml_report(out, ["none", "pos_weight"], 0.5)
    assert list(payload["train_counts"]) == ["cat", "dog", "bird", "fish", "frog"]  # as given
    assert payload["train_counts"]["cat"] > 5 * payload["train_counts"]["frog"]


def write_label_set_images(root: Path, n: int, sep: str) -> None:
    """Images with a bright block in the corners named by their labels; labels.csv of sets."""
    rng = np.random.default_rng(0)
    corners = {"a": (0, 0), "b": (0, 8), "c": (8, 0)}
    rates = {"a": 0.6, "b": 0.3, "c": 0.15}
    root.mkdir(parents=True)
    rows = []
    for i in range(n):
        labels = [k for k in corners if rng.random() < rates[k]]
        img = rng.integers(0, 60, size=(16, 16)).astype(np.uint8)
        for k in labels:
            r, c = corners[k]
            img[r : r + 8, c : c + 8] = 230
        Image.fromarray(img).save(root / f"{i}.png")
        rows.append({"fname": f"{i}.png", "labels": sep.join(labels)})
    pd.DataFrame(rows).to_csv(root / "labels.csv", index=False)


@pytest.mark.slow
def test_folder_with_labels_csv(tmp_path):
    """A folder of images with labels.csv of label sets joined by --label-sep."""
    write_label_set_images(tmp_path / "imgs", 160, "|")
    out = tmp_path / "r"
    result = run(["--data", str(tmp_path / "imgs"), "--label-sep", "|", "--image-size", "16",
                  "--quick", "--strategies", "none,asymmetric_loss",
                  "--cv", "0", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = assert_ml_report(out, ["none", "asymmetric_loss"], 0.6)
    assert list(payload["train_counts"]) == ["a", "b", "c"]
    assert "multi-label images, 16x16x1" in payload["data"]


# --------------------------------------------------------------------------- bad input
class TestBadInput:
    def one_line_error(self, args: list[str], *matches: str) -> None:
        one_line_error(args, *matches)

    def csv(self, tmp_path, **labels) -> str:
        frame = pd.DataFrame({"f": np.arange(8.0), **labels})
        frame.to_csv(tmp_path / "d.csv", index=False)
        return str(tmp_path / "d.csv")

    def test_unknown_label_column(self, tmp_path):
        """A --label-cols name that is not a column is named, with the columns there are."""
        path = self.csv(tmp_path, a=[0, 1] * 4, b=[1, 1, 0, 0] * 2)
        self.one_line_error(["--data", path, "--label-cols", "a,zebra"], "'zebra'", "columns are")

    def test_label_column_that_is_not_0_1(self, tmp_path):
        """A label column holding other values than 0/1 names the column, row and value."""
        path = self.csv(tmp_path, a=[0, 1] * 4, b=[0, 1, 2, 0, 1, 0, 1, 0])
        self.one_line_error(["--data", path, "--label-cols", "a,b"], "'b'", "found 2 in row 2")

    def test_missing_separator(self, tmp_path):
        """Label sets without --label-sep are refused (never guessed); so is a wrong one."""
        write_label_set_images(tmp_path / "imgs", 12, "|")
        self.one_line_error(
            ["--data", str(tmp_path / "imgs"), "--multilabel"], "--label-sep", "never guessed"
        )
        self.one_line_error(
            ["--data", str(tmp_path / "imgs"), "--label-sep", ";"], "never occurs", "'|'"
        )

    def test_flags_that_do_not_fit_the_data(self, tmp_path):
        """--label-sep on a CSV and --label-cols on an .npz are refused, saying what they fit."""
        path = self.csv(tmp_path, a=[0, 1] * 4, b=[1, 1, 0, 0] * 2)
        self.one_line_error(["--data", path, "--label-sep", "|"], "--label-sep is for a folder")
        x, Y, _, _ = generated(n_train=200)
        np.savez(tmp_path / "d.npz", x=x, y=Y)
        self.one_line_error(["--data", str(tmp_path / "d.npz"), "--label-cols", "a"], "CSV")

    def test_test_set_of_another_shape(self, tmp_path):
        """A --test whose samples have another shape is refused, naming both shapes."""
        x, Y, x_test, Y_test = generated(n_train=200)
        np.savez(tmp_path / "d.npz", x=x, y=Y)
        np.savez(tmp_path / "t.npz", x=x_test[:, :-1], y=Y_test)
        self.one_line_error(
            ["--data", str(tmp_path / "d.npz"), "--test", str(tmp_path / "t.npz")],
            f"The test data has samples of shape ({x.shape[1] - 1},)",
            f"the training data ({x.shape[1]},)",
        )

    def test_single_label_strategy_on_multilabel_data(self, tmp_path):
        """A single-label remedy asked for multi-label data lists the multi-label ones."""
        x, Y, _, _ = generated(n_train=200)
        np.savez(tmp_path / "d.npz", x=x, y=Y)
        self.one_line_error(
            ["--data", str(tmp_path / "d.npz"), "--strategies", "focal", "--quick"],
            "multi-label",
            "asymmetric_loss",
        )


def test_label_without_training_positives_is_reported(tmp_path):
    """A label with no positive in training is reported in the notes, once; every recipe runs.

    The recipes' own warnings about it (pos_weight 1, never drawn, threshold 0.5) are filtered
    by category and message: the only warnings left are the data's notes.
    """
    x, Y, x_test, Y_test = generated(n_train=400)
    Y = Y.copy()
    Y[:, 4] = 0  # never seen in training or validation, present in the test set
    np.savez(tmp_path / "d.npz", x=x, y=Y)
    np.savez(tmp_path / "t.npz", x=x_test, y=Y_test)
    out = tmp_path / "r"
    cfg = CompareConfig(data=str(tmp_path / "d.npz"), test=str(tmp_path / "t.npz"))
    with pytest.warns(UserWarning, match="no positive in the training split"):
        load_data(cfg)
    result = run(["--data", str(tmp_path / "d.npz"), "--test", str(tmp_path / "t.npz"),
                  "--epochs", "2", "--seeds", "1", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = assert_ml_report(out, list(ML_RECIPES), 0.4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        api = compare(x, Y, x_test=x_test, y_test=Y_test, model=tiny_mlp, epochs=1, seeds=1)
    assert list(api.summary.index.sort_values()) == sorted(ML_RECIPES)
    notes = {n.removeprefix("Warning: ") for n in api.notes if n.startswith("Warning: ")}
    assert notes
    assert {str(w.message) for w in caught} == notes
    assert any("['4'] have no positive in the training split" in n for n in payload["notes"])
    assert payload["train_counts"]["4"] == 0
