"""ImbalanceMetrics: class-balanced metrics in the epoch logs, on every Keras backend."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import classbalance as cb  # noqa: E402
from classbalance.keras import BalancedPyDataset, ImbalanceMetrics  # noqa: E402

pytestmark = pytest.mark.backend

KEYS = ("val_macro_f1", "val_balanced_accuracy", "val_g_mean", "val_min_recall")


def _problem(n: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=[0.75, 0.2, 0.05])
    x = (np.eye(3)[y] * 1.5 + rng.normal(size=(n, 3))).astype("float32")
    return x, y


def _model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    return model


def _expected(model, x, y):
    return cb.imbalance_report(y, model.predict(x, verbose=0)).summary


class TestArrays:
    def test_history_has_metrics_equal_to_the_report(self):
        """Each epoch logs the four metrics; the last equals a report on fresh predictions."""
        x, y = _problem()
        model = _model()
        callback = ImbalanceMetrics((x, y))
        history = model.fit(x, y, epochs=3, verbose=0, callbacks=[callback]).history
        for key in KEYS:
            assert len(history[key]) == 3
            assert all(0.0 <= v <= 1.0 for v in history[key])
        summary = _expected(model, x, y)
        assert history["val_macro_f1"][-1] == pytest.approx(summary["macro_f1"])
        assert history["val_min_recall"][-1] == pytest.approx(summary["min_recall"])
        assert callback.report.summary == summary

    def test_early_stopping_and_checkpoint_monitor_it(self, tmp_path):
        """EarlyStopping and ModelCheckpoint can monitor val_macro_f1 (mode='max')."""
        x, y = _problem()
        model = _model()
        stop = keras.callbacks.EarlyStopping(monitor="val_macro_f1", mode="max", patience=1)
        path = tmp_path / "best.keras"
        checkpoint = keras.callbacks.ModelCheckpoint(
            path, monitor="val_macro_f1", mode="max", save_best_only=True
        )
        history = model.fit(
            x,
            y,
            epochs=30,
            verbose=0,
            callbacks=[ImbalanceMetrics((x[:150], y[:150])), stop, checkpoint],
        ).history
        assert stop.best == pytest.approx(max(history["val_macro_f1"]))
        assert len(history["val_macro_f1"]) < 30  # stopped on the metric
        assert path.exists()
        assert checkpoint.best == pytest.approx(stop.best)

    def test_one_hot_labels_and_sigmoid_output(self):
        """One-hot validation labels, and a single sigmoid unit (binary), are understood."""
        x, y = _problem()
        model = _model()
        callback = ImbalanceMetrics((x, keras.utils.to_categorical(y, 3)))
        history = model.fit(x, y, epochs=1, verbose=0, callbacks=[callback]).history
        assert history["val_macro_f1"][0] == pytest.approx(_expected(model, x, y)["macro_f1"])

        yb = (y > 0).astype("int64")
        binary = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
        binary.compile("adam", "binary_crossentropy")
        cb_binary = ImbalanceMetrics((x, yb))
        logs = binary.fit(x, yb, epochs=1, verbose=0, callbacks=[cb_binary]).history
        pred = (binary.predict(x, verbose=0)[:, 0] >= 0.5).astype(int)
        expected = cb.imbalance_report(yb, pred).summary["balanced_accuracy"]
        assert logs["val_balanced_accuracy"][0] == pytest.approx(expected)


class TestDatasets:
    def test_balanced_pydataset(self):
        """A BalancedPyDataset as validation data: metrics over all its batches."""
        x, y = _problem()
        val = BalancedPyDataset(x, y, batch_size=32, seed=1)
        model = _model()
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[ImbalanceMetrics(val)]).history
        xs = np.concatenate([val[i][0] for i in range(len(val))])
        ys = np.concatenate([val[i][1] for i in range(len(val))])
        expected = cb.imbalance_report(ys, model.predict(xs, verbose=0)).summary
        assert history["val_balanced_accuracy"][-1] == pytest.approx(expected["balanced_accuracy"])
        assert history["val_g_mean"][-1] == pytest.approx(expected["g_mean"])

    def test_tf_data(self):
        """A tf.data.Dataset of (x, y) batches as validation data."""
        tf = pytest.importorskip("tensorflow")
        x, y = _problem()
        val = tf.data.Dataset.from_tensor_slices((x, y)).batch(40)
        model = _model()
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[ImbalanceMetrics(val)]).history
        expected = _expected(model, x, y)
        for key in KEYS:
            assert history[key][-1] == pytest.approx(expected[key[4:]], abs=1e-6)

    def test_bad_validation_data(self):
        """A tuple of the wrong length, or a non-iterable, is refused with a message."""
        with pytest.raises(ValueError, match=r"\(x, y\) or \(x, y, sample_weight\)"):
            ImbalanceMetrics((np.zeros(3),))
        with pytest.raises(ValueError, match="`validation_data` must be"):
            ImbalanceMetrics(42)
        with pytest.raises(ValueError, match="used up after one epoch"):
            ImbalanceMetrics(iter([(np.zeros((2, 3)), np.zeros(2))]))

    def test_torch_dataloader(self):
        """A PyTorch DataLoader (re-iterable, yields torch tensors) as validation data."""
        torch = pytest.importorskip("torch")
        x, y = _problem()
        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
            batch_size=50,
        )
        model = _model()
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[ImbalanceMetrics(loader)])
        expected = _expected(model, x, y)
        assert history.history["val_macro_f1"][-1] == pytest.approx(expected["macro_f1"])
