"""tf.data adapters with real TensorFlow: the shared invariants, fit end-to-end, resample."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import classbalance as cb  # noqa: E402
from classbalance.tf import balanced_dataset, resample  # noqa: E402
from invariants import (  # noqa: E402
    assert_batches_balanced_on_average,
    assert_batches_exact,
    assert_cycling,
    assert_epoch_counts,
)

CONFIGS = [
    {"exact": False, "drop_last": False},
    {"exact": True, "drop_last": False},
    {"exact": True, "drop_last": True, "strategy": "undersample"},
    {"exact": False, "drop_last": False, "alpha": 0.5},
]


def index_rows(n):
    """x whose row i is [i, -i]: a batch of x tells which samples it holds."""
    return np.stack([np.arange(n), -np.arange(n)], axis=1).astype(np.float32)


def epoch_indices(ds):
    return [xb.numpy()[:, 0].astype(np.int64) for xb, *_ in ds]


class TestBalancedDataset:
    @pytest.mark.parametrize("kwargs", CONFIGS, ids=str)
    def test_each_iteration_is_the_next_epoch(self, y_long_tail, kwargs):
        """Iteration e yields plan(e) of the core, cut in batches; len = cardinality."""
        x = index_rows(len(y_long_tail))
        ds = balanced_dataset(x, y_long_tail, 16, seed=3, **kwargs)
        reference = cb.BalancedBatches(x, y_long_tail, 16, seed=3, **kwargs)
        sampler = cb.BalancedSampler(
            y_long_tail, seed=3, **{k: v for k, v in kwargs.items() if k in ("strategy", "alpha")}
        )
        for epoch in range(2):
            pairs = [(xb.numpy()[:, 0].astype(np.int64), yb.numpy()) for xb, yb in ds]
            batches = [idx for idx, _ in pairs]
            assert len(batches) == int(ds.cardinality()) == len(reference)
            plan = np.concatenate(batches)
            np.testing.assert_array_equal(plan, reference.plan(epoch))
            np.testing.assert_array_equal(
                np.concatenate([yb for _, yb in pairs]), y_long_tail[plan]
            )
            if not kwargs["drop_last"]:
                assert_epoch_counts(y_long_tail, plan, sampler.target_counts(epoch))
            if kwargs["exact"]:
                assert_batches_exact(
                    [y_long_tail[b] for b in batches], sampler.target_counts(epoch), 16
                )

    def test_balanced_on_average_and_epochs_differ(self, y_long_tail):
        """exact=False batches stay near the shares; consecutive epochs differ."""
        ds = balanced_dataset(index_rows(len(y_long_tail)), y_long_tail, 32, seed=0)
        first, second = np.concatenate(epoch_indices(ds)), np.concatenate(epoch_indices(ds))
        assert not np.array_equal(first, second)
        batches = [y_long_tail[first[i : i + 32]] for i in range(0, len(first), 32)]
        assert_batches_balanced_on_average(batches, np.full(5, 200))

    def test_seed_and_initial_epoch(self, y_long_tail):
        """Same seed, same epochs; initial_epoch=2 starts at the third epoch's plan."""
        x = index_rows(len(y_long_tail))
        a = balanced_dataset(x, y_long_tail, 50, seed=5)
        b = balanced_dataset(x, y_long_tail, 50, seed=5, initial_epoch=2)
        runs = [np.concatenate(epoch_indices(a)) for _ in range(3)]
        np.testing.assert_array_equal(np.concatenate(epoch_indices(b)), runs[2])

    def test_weights_and_y_formats(self, y_long_tail):
        """class_weight gives (x, y, w) with w of each sample's class; y_format converts y."""
        x = index_rows(len(y_long_tail))
        weights = cb.class_weights(y_long_tail)
        ds = balanced_dataset(
            x, y_long_tail, 64, class_weight=weights, y_format="categorical", seed=1
        )
        for xb, yb, wb in ds:
            idx = xb.numpy()[:, 0].astype(int)
            np.testing.assert_array_equal(yb.numpy(), np.eye(5, dtype=np.float32)[y_long_tail[idx]])
            expected = np.array([weights[c] for c in y_long_tail[idx]], dtype=np.float32)
            np.testing.assert_allclose(wb.numpy(), expected, rtol=1e-6)
        sparse = balanced_dataset(x, y_long_tail.astype(str), 64, y_format="sparse", seed=1)
        assert next(iter(sparse))[1].dtype == tf.int64

    def test_disk_backed_x_same_batches(self, y_long_tail, tmp_path):
        """A memmap x (generator path) yields the very batches of the in-memory path."""
        x = index_rows(len(y_long_tail))
        mm = np.lib.format.open_memmap(tmp_path / "x.npy", "w+", np.float32, x.shape)
        mm[:] = x
        in_memory = balanced_dataset(x, y_long_tail, 40, seed=2)
        on_disk = balanced_dataset(mm, y_long_tail, 40, seed=2)
        assert int(on_disk.cardinality()) == int(in_memory.cardinality())
        for (xa, ya), (xb, yb) in zip(in_memory, on_disk):
            np.testing.assert_array_equal(xa.numpy(), xb.numpy())
            np.testing.assert_array_equal(ya.numpy(), yb.numpy())

    def test_validation(self, y_long_tail):
        """Bad arguments fail before any TensorFlow work, Keras-style."""
        x = index_rows(len(y_long_tail))
        with pytest.raises(ValueError, match=r"`batch_size` must be a positive integer.*=0"):
            balanced_dataset(x, y_long_tail, 0)
        with pytest.raises(ValueError, match="`initial_epoch` must be a non-negative"):
            balanced_dataset(x, y_long_tail, 8, initial_epoch=-1)
        with pytest.raises(ValueError, match="same length"):
            balanced_dataset(x[:-1], y_long_tail, 8)


class StepCounter:
    def __init__(self):
        import keras

        class Callback(keras.callbacks.Callback):
            def __init__(self, outer):
                super().__init__()
                self.outer = outer

            def on_train_batch_end(self, batch, logs=None):
                self.outer.steps += 1

        self.steps = 0
        self.callback = Callback(self)


@pytest.mark.slow
def test_fit_multi_input_unknown_and_given_steps(y_long_tail):
    """model.fit on dict inputs runs every batch, with steps_per_epoch unknown or given."""
    import keras

    rng = np.random.default_rng(0)
    n = len(y_long_tail)
    x = {
        "a": (rng.normal(size=(n, 3)) + y_long_tail[:, None]).astype("float32"),
        "b": rng.normal(size=(n, 2)).astype("float32"),
    }
    ds = balanced_dataset(x, y_long_tail, 32, exact=True, seed=0)
    inputs = {"a": keras.Input((3,), name="a"), "b": keras.Input((2,), name="b")}
    hidden = keras.layers.Concatenate()([inputs["a"], inputs["b"]])
    model = keras.Model(inputs, keras.layers.Dense(5, activation="softmax")(hidden))
    model.compile("adam", "sparse_categorical_crossentropy")
    counter = StepCounter()
    history = model.fit(ds, epochs=2, verbose=0, shuffle=False, callbacks=[counter.callback])
    assert counter.steps == 2 * int(ds.cardinality())
    # fit used epochs 0 and 1, one plan each; the next pass is epoch 2.
    reference = cb.BalancedBatches(x, y_long_tail, 32, exact=True, seed=0)
    served = np.concatenate([yb.numpy() for _, yb in ds])
    np.testing.assert_array_equal(served, y_long_tail[reference.plan(2)])
    counter.steps = 0
    model.fit(
        ds.repeat(),
        steps_per_epoch=7,
        epochs=3,
        verbose=0,
        shuffle=False,
        callbacks=[counter.callback],
    )
    assert counter.steps == 21
    assert np.all(np.isfinite(history.history["loss"]))


def indexed(y):
    """A dataset of (index, label) elements: each output element tells who it is."""
    return tf.data.Dataset.from_tensor_slices((np.arange(len(y)), y.astype(np.int64)))


def run_epoch(ds):
    return np.array([int(i) for i, _ in ds], dtype=np.int64)


class TestResample:
    @pytest.mark.parametrize(
        "target", ["oversample", "undersample", {0: 30, 3: 0.25}], ids=["over", "under", "dict"]
    )
    def test_epochs_hold_core_target_counts(self, y_long_tail, target):
        """Each epoch holds the core's target counts; members cycle across epochs."""
        ds = resample(indexed(y_long_tail), lambda i, y: y, n_classes=5, strategy=target, seed=4)
        sampler = cb.BalancedSampler(y_long_tail, target, seed=4)
        epochs = [run_epoch(ds) for _ in range(3)]
        for plan in epochs:
            assert_epoch_counts(y_long_tail, plan, sampler.target_counts(0))
        assert_cycling(y_long_tail, np.concatenate(epochs))
        assert not np.array_equal(epochs[0], epochs[1])

    def test_upstream_shuffle_keeps_counts(self, y_long_tail):
        """An input reshuffled on every pass still gives each epoch its exact class counts."""
        source = indexed(y_long_tail).shuffle(1000, seed=1, reshuffle_each_iteration=True)
        ds = resample(source, lambda i, y: y, n_classes=6, seed=8, shuffle_buffer=500)
        targets = np.r_[np.full(5, 200), 0]
        for _ in range(2):
            assert_epoch_counts(y_long_tail, run_epoch(ds), targets)

    def test_reproducible(self, y_long_tail):
        """The same seed gives the same sequence of epochs, shuffle included."""
        a, b = (
            resample(indexed(y_long_tail), lambda i, y: y, n_classes=5, seed=8) for _ in range(2)
        )
        for _ in range(2):
            np.testing.assert_array_equal(run_epoch(a), run_epoch(b))

    def test_copies_spread_by_shuffle_buffer(self, y_long_tail):
        """Without a buffer the copies of an element are adjacent; with one they spread."""
        kept = run_epoch(
            resample(indexed(y_long_tail), lambda i, y: y, n_classes=5, seed=0, shuffle_buffer=None)
        )
        mixed = run_epoch(resample(indexed(y_long_tail), lambda i, y: y, n_classes=5, seed=0))
        assert np.array_equal(np.sort(kept), np.sort(mixed))
        assert np.mean(kept[1:] == kept[:-1]) > 0.5
        assert np.mean(mixed[1:] == mixed[:-1]) < 0.05

    def test_errors(self, y_long_tail):
        """Out-of-range or non-scalar labels, bad arguments and a changed dataset fail clearly."""
        ds = indexed(y_long_tail)
        with pytest.raises(ValueError, match=r"class ids in \[0, n_classes - 1\] = \[0, 3\]"):
            resample(ds, lambda i, y: y, n_classes=4)
        with pytest.raises(ValueError, match="scalar int"):
            resample(ds, lambda i, y: tf.stack([y, y]), n_classes=5)
        with pytest.raises(ValueError, match="`n_classes` must be a positive"):
            resample(ds, lambda i, y: y, n_classes=0)
        with pytest.raises(TypeError, match=r"tf\.data\.Dataset"):
            resample(list(y_long_tail), lambda y: y, n_classes=5)
        passes = []

        def grows():
            passes.append(1)
            yield from range(10 + len(passes))

        growing = tf.data.Dataset.from_generator(
            grows, output_signature=tf.TensorSpec((), tf.int64)
        )
        out = resample(growing, lambda v: v % 2, n_classes=2, seed=0)
        with pytest.raises(tf.errors.InvalidArgumentError, match="more elements of a class"):
            run_epoch(out.map(lambda v: (v, v)))


def test_docstring_examples():
    """The examples in classbalance.tf's docstrings run as written."""
    import doctest

    from classbalance.tf import _dataset, _resample

    for module in (_dataset, _resample):
        result = doctest.testmod(module)
        assert result.attempted > 0, f"{module.__name__} has no docstring example"
        assert result.failed == 0


def test_resample_with_a_global_seed(y_long_tail):
    """resample works after keras.utils.set_random_seed (a global TF seed), reproducibly."""
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(1)
    first = run_epoch(resample(indexed(y_long_tail), lambda i, y: y, n_classes=5, seed=3))
    again = run_epoch(resample(indexed(y_long_tail), lambda i, y: y, n_classes=5, seed=3))
    assert np.array_equal(first, again)
