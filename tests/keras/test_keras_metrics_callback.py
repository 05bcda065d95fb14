"""ImbalanceMetrics: class-balanced metrics in the epoch logs, on every Keras backend."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import classbalance as cb  # noqa: E402
from classbalance.distribution import label_distribution  # noqa: E402
from classbalance.keras import BalancedPyDataset, ImbalanceMetrics  # noqa: E402
from classbalance.metrics import MultiLabelReport, multilabel_report  # noqa: E402

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


def _multilabel_problem():
    from classbalance.datasets import make_long_tailed_multilabel

    return make_long_tailed_multilabel(
        800, n_val=400, n_test=10, n_labels=6, n_features=8, imbalance_ratio=60, seed=0
    )


def _multilabel_model(n_labels: int, activation: str | None = "sigmoid"):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(n_labels, activation=activation)]
    )
    loss = keras.losses.BinaryCrossentropy(from_logits=activation is None)
    model.compile(keras.optimizers.Adam(0.05), loss)
    return model


class _Batches:
    """A re-iterable of (x, y) batches (as a DataLoader is), not a list (which is (x, y))."""

    def __init__(self, x, y, size):
        self.x, self.y, self.size = x, y, size

    def __iter__(self):
        starts = range(0, len(self.x), self.size)
        return ((self.x[i : i + self.size], self.y[i : i + self.size]) for i in starts)


class TestMultiLabel:
    def test_logged_values_equal_the_report(self):
        """Multi-hot validation y: each epoch logs mAP, macro/micro-F1 and per-group mAP equal to
        multilabel_report on the model's own predictions."""
        data = _multilabel_problem()
        counts = data.Y_train.sum(axis=0)
        model = _multilabel_model(data.Y_train.shape[1])
        callback = ImbalanceMetrics((data.x_val, data.Y_val), train_counts=counts)
        history = model.fit(
            data.x_train, data.Y_train, epochs=2, verbose=0, callbacks=[callback]
        ).history
        expected = multilabel_report(
            data.Y_val, model.predict(data.x_val, verbose=0), train_counts=counts
        ).to_dict()
        assert set(expected) >= {"mAP", "macro_f1", "micro_f1", "tail_mAP", "head_mAP"}
        for key, value in expected.items():
            assert len(history["val_" + key]) == 2
            assert history["val_" + key][-1] == pytest.approx(value, nan_ok=True), key
        assert "val_balanced_accuracy" not in history  # no single-label metrics
        assert callback.report.to_dict() == pytest.approx(expected, nan_ok=True)

    def test_logits(self):
        """from_logits=True: F1 at sigmoid(logit) >= 0.5, mAP on the logits; equal to the report
        on probabilities computed here."""
        data = _multilabel_problem()
        model = _multilabel_model(data.Y_train.shape[1], activation=None)
        callback = ImbalanceMetrics((data.x_val, data.Y_val), from_logits=True)
        history = model.fit(
            data.x_train, data.Y_train, epochs=2, verbose=0, callbacks=[callback]
        ).history
        logits = model.predict(data.x_val, verbose=0).astype(np.float64)
        expected = multilabel_report(data.Y_val, 1.0 / (1.0 + np.exp(-logits))).to_dict()
        assert logits.min() < 0 or logits.max() > 1  # really logits
        for key in ("mAP", "macro_f1", "micro_f1"):
            assert history["val_" + key][-1] == pytest.approx(expected[key]), key

    def test_early_stopping_and_checkpoint_monitor_it(self, tmp_path):
        """EarlyStopping and ModelCheckpoint can monitor val_mAP and val_tail_mAP."""
        data = _multilabel_problem()
        model = _multilabel_model(data.Y_train.shape[1])
        stop = keras.callbacks.EarlyStopping(monitor="val_tail_mAP", mode="max", patience=1)
        checkpoint = keras.callbacks.ModelCheckpoint(
            tmp_path / "best.keras", monitor="val_mAP", mode="max", save_best_only=True
        )
        metrics = ImbalanceMetrics(
            (data.x_val, data.Y_val), train_counts=label_distribution(data.Y_train)
        )
        history = model.fit(
            data.x_train,
            data.Y_train,
            epochs=30,
            verbose=0,
            callbacks=[metrics, stop, checkpoint],
        ).history
        assert stop.best == pytest.approx(max(history["val_tail_mAP"]))
        assert len(history["val_tail_mAP"]) < 30
        assert checkpoint.best == pytest.approx(max(history["val_mAP"]))
        assert (tmp_path / "best.keras").exists()

    def test_batches_and_the_multilabel_flag(self):
        """Multi-hot y is recognized in batches too; rows that each hold one label look one-hot,
        so multilabel=True is needed to score them per label."""
        data = _multilabel_problem()
        model = _multilabel_model(data.Y_train.shape[1])
        batches = _Batches(data.x_val, data.Y_val, 100)
        one_each = np.eye(6, dtype=np.uint8)[np.arange(60) % 6]
        x_one = data.x_val[:60]
        auto = ImbalanceMetrics(batches)
        single = ImbalanceMetrics((x_one, one_each))
        forced = ImbalanceMetrics((x_one, one_each), multilabel=True)
        history = model.fit(
            data.x_train,
            data.Y_train,
            epochs=1,
            verbose=0,
            callbacks=[auto, single, forced],
        ).history
        assert isinstance(auto.report, MultiLabelReport)
        assert isinstance(single.report, cb.ImbalanceReport)
        assert isinstance(forced.report, MultiLabelReport)
        assert history["val_mAP"][0] == pytest.approx(forced.report.mAP)  # the last writer
        assert auto.report.per_label["support"].tolist() == data.Y_val.sum(axis=0).tolist()

    def test_single_sigmoid_unit_with_logits(self):
        """Single-label, one output unit without sigmoid: from_logits=True predicts class 1 at
        logit >= 0 (probability 0.5)."""
        x, y = _problem()
        yb = (y > 0).astype("int64")
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
        callback = ImbalanceMetrics((x, yb), from_logits=True)
        history = model.fit(x, yb, epochs=1, verbose=0, callbacks=[callback]).history
        pred = (model.predict(x, verbose=0)[:, 0] >= 0).astype(int)
        expected = cb.imbalance_report(yb, pred).summary
        assert history["val_balanced_accuracy"][0] == pytest.approx(expected["balanced_accuracy"])
        assert history["val_macro_f1"][0] == pytest.approx(expected["macro_f1"])

    def test_bad_arguments(self):
        """Wrong types and values, and train_counts with single-label labels, are refused."""
        x, y = np.zeros((4, 8), "float32"), np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
        with pytest.raises(TypeError, match="Received: from_logits='yes'"):
            ImbalanceMetrics((x, y), from_logits="yes")
        with pytest.raises(TypeError, match="Received: multilabel=1"):
            ImbalanceMetrics((x, y), multilabel=1)
        with pytest.raises(ValueError, match=r"must be in \(0, 1\).*threshold=1.0"):
            ImbalanceMetrics((x, y), from_logits=True, threshold=1.0)
        with pytest.raises(ValueError, match="cannot be used with multilabel=False"):
            ImbalanceMetrics((x, y), multilabel=False, train_counts=[2, 2])
        xs, ys = _problem(60)
        model = _model()
        callback = ImbalanceMetrics((xs, ys), train_counts=[10, 5, 1])
        with pytest.raises(ValueError, match="validation labels are single-label"):
            model.fit(xs, ys, epochs=1, verbose=0, callbacks=[callback])
