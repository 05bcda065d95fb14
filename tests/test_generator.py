"""The seed API: balanced_batch_generator(x, y, batch_size, categorical=True, seed=None)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import classbalance as cb


def seed_data(num_classes=3, n=100, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 2))
    y = np.eye(num_classes)[rng.integers(0, num_classes, n)]
    return x, y


class TestSeedBehaviour:
    def test_infinite_full_batches(self):
        """Endless, every batch full, shapes as in the seed README."""
        x, y = seed_data()
        gen = cb.balanced_batch_generator(x, y, 16)
        for xb, yb in itertools.islice(gen, 50):
            assert xb.shape == (16, 2)
            assert yb.shape == (16, 3)
            assert yb.dtype == y.dtype

    def test_balanced_on_average(self):
        """Over many batches each class has about a third of the samples."""
        y_cls = np.array([0] * 90 + [1] * 9 + [2])
        x = np.arange(100.0)[:, None]
        gen = cb.balanced_batch_generator(x, np.eye(3)[y_cls], 32, seed=1)
        totals = sum(yb.sum(axis=0) for _, yb in itertools.islice(gen, 200))
        np.testing.assert_allclose(totals / totals.sum(), [1 / 3] * 3, atol=0.02)

    def test_x_rows_match_labels(self):
        """Each yielded row belongs to the yielded class."""
        y_cls = np.array([0] * 90 + [1] * 9 + [2])
        x = y_cls[:, None].astype(float)
        for xb, yb in itertools.islice(cb.balanced_batch_generator(x, np.eye(3)[y_cls], 8), 30):
            np.testing.assert_array_equal(xb[:, 0], yb.argmax(1))

    def test_categorical_false_gives_class_vector(self):
        """categorical=False yields class vectors."""
        x, y = seed_data(num_classes=2)
        _, yb = next(cb.balanced_batch_generator(x, y, 16, categorical=False))
        assert yb.shape == (16,)
        assert set(np.unique(yb)) <= {0.0, 1.0}

    def test_class_vector_input_accepted(self):
        """A class vector y is accepted and one-hot encoded."""
        y = np.array([0] * 8 + [1] * 2)
        _, yb = next(cb.balanced_batch_generator(np.zeros((10, 1)), y, 4, seed=0))
        assert yb.shape == (4, 2)

    def test_seed_reproducible(self):
        """The same seed gives the same batches."""
        x, y = seed_data()
        a = list(itertools.islice(cb.balanced_batch_generator(x, y, 7, seed=5), 40))
        b = list(itertools.islice(cb.balanced_batch_generator(x, y, 7, seed=5), 40))
        for (xa, ya), (xb, yb) in zip(a, b):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)

    def test_cycles_rare_class(self):
        """A rare sample is not repeated before all of its class were seen."""
        y_cls = np.array([0] * 50 + [1] * 5)
        x = np.arange(55.0)[:, None]
        rows = np.concatenate(
            [
                xb[yb.argmax(1) == 1, 0]
                for xb, yb in itertools.islice(
                    cb.balanced_batch_generator(x, np.eye(2)[y_cls], 10, seed=2), 40
                )
            ]
        )
        for start in range(0, len(rows) - 5, 5):
            assert len(set(rows[start : start + 5])) == 5

    def test_empty_class_warns(self):
        """An all-zero one-hot column warns instead of failing."""
        y = np.eye(3)[[0, 0, 1, 1]]
        with pytest.warns(UserWarning, match=r"Classes \[2\] have no samples"):
            next(cb.balanced_batch_generator(np.zeros((4, 1)), y, 2))


class TestSeedErrors:
    def test_errors_are_eager_and_clear(self):
        """Bad arguments fail at call time, not at the first next()."""
        x, y = seed_data()
        with pytest.raises(TypeError, match=r"`x` must be a numpy\.ndarray"):
            cb.balanced_batch_generator(x.tolist(), y, 4)
        with pytest.raises(ValueError, match="x has 99 samples but y has 100"):
            cb.balanced_batch_generator(x[:99], y, 4)
        with pytest.raises(ValueError, match="batch_size"):
            cb.balanced_batch_generator(x, y, 0)
        with pytest.raises(ValueError, match="multi-label"):
            cb.balanced_batch_generator(x[:2], np.array([[1, 1, 0], [0, 1, 0]]), 2)
