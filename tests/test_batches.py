"""BalancedBatches: data forms, weights, epochs, and the shared invariants."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given

import classbalance as cb
from invariants import assert_batches_balanced_on_average, assert_batches_exact, assert_epoch_counts
from strategies import batch_sizes, class_vectors, seeds


def make_xy(y):
    x = np.arange(len(y), dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    return x, y


class TestLengthAndContent:
    @given(y=class_vectors(), batch_size=batch_sizes, seed=seeds)
    def test_len_matches_iteration(self, y, batch_size, seed):
        """len() is the exact number of batches; all rows are the planned rows."""
        x, _ = make_xy(y)
        for drop_last in (False, True):
            batches = cb.BalancedBatches(x, y, batch_size, drop_last=drop_last, seed=seed)
            got = list(batches)
            assert len(got) == len(
                batches.__class__(x, y, batch_size, drop_last=drop_last, seed=seed)
            )
            sizes = [len(b[1]) for b in got]
            assert all(s == batch_size for s in sizes[:-1])
            if drop_last:
                assert all(s == batch_size for s in sizes)

    @given(y=class_vectors(), batch_size=batch_sizes, seed=seeds)
    def test_rows_follow_the_plan(self, y, batch_size, seed):
        """Batch rows are x[plan], y[plan]; the epoch holds the target counts."""
        x, _ = make_xy(y)
        batches = cb.BalancedBatches(x, y, batch_size, seed=seed)
        plan = batches.plan()
        xs = np.concatenate([batches[i][0] for i in range(len(batches))])
        ys = np.concatenate([batches[i][1] for i in range(len(batches))])
        np.testing.assert_array_equal(xs[:, 0].astype(int), plan)
        np.testing.assert_array_equal(ys, y[plan])
        assert_epoch_counts(
            batches.encoded.codes.astype(int), plan, batches.sampler.target_counts()
        )

    @given(y=class_vectors(), batch_size=batch_sizes, seed=seeds)
    def test_exact(self, y, batch_size, seed):
        """exact=True: every full batch holds equal counts of each class."""
        x, _ = make_xy(y)
        batches = cb.BalancedBatches(x, y, batch_size, exact=True, y_format="sparse", seed=seed)
        assert_batches_exact([b[1] for b in batches], batches.sampler.target_counts(0), batch_size)

    def test_balanced_on_average(self, y_long_tail):
        """Default batches are balanced within binomial tolerance."""
        x, y = make_xy(y_long_tail)
        batches = cb.BalancedBatches(x, y, 32, y_format="sparse", seed=0)
        assert_batches_balanced_on_average(
            [b[1] for b in batches][:-1], batches.sampler.target_counts()
        )

    def test_batch_depends_only_on_seed_epoch_index(self, y_long_tail):
        """Fetching batches in another order, or in a fresh object, gives the same batch."""
        x, y = make_xy(y_long_tail)
        forward = cb.BalancedBatches(x, y, 16, seed=9)
        shuffled = cb.BalancedBatches(x, y, 16, seed=9)
        for epoch in (0, 2):
            forward.set_epoch(epoch)
            shuffled.set_epoch(epoch)
            order = np.random.default_rng(epoch).permutation(len(forward))
            assert order[0] != 0
            got = {int(i): shuffled[int(i)][0] for i in order}  # a random order, repeats below
            again = {int(i): shuffled[int(i)][0] for i in order[::-1]}
            for i in range(len(forward)):
                np.testing.assert_array_equal(got[i], forward[i][0])
                np.testing.assert_array_equal(again[i], forward[i][0])

    def test_iteration_advances_epoch(self, y_long_tail):
        """Each pass is a new epoch, even one stopped early; two passes differ."""
        x, y = make_xy(y_long_tail)
        batches = cb.BalancedBatches(x, y, 64, strategy="undersample", seed=0)
        first = np.concatenate([b[0][:, 0] for b in batches])
        assert batches.epoch == 1
        second = np.concatenate([b[0][:, 0] for b in batches])
        assert not np.array_equal(first, second)
        next(iter(batches))  # a pass stopped after one batch still moves on
        assert batches.epoch == 3

    def test_index_errors(self):
        """Out-of-range and non-int batch indices are refused."""
        x, y = make_xy(np.array([0, 0, 1]))
        batches = cb.BalancedBatches(x, y, 2)
        with pytest.raises(IndexError, match="out of range"):
            batches[len(batches)]
        assert len(batches[-1][0]) == 2
        with pytest.raises(TypeError):
            batches["0"]

    def test_pickles(self, y_long_tail):
        """Keras multiprocessing workers get a pickled copy that yields the same batches."""
        x, y = make_xy(y_long_tail)
        batches = cb.BalancedBatches(x, y, 16, seed=1)
        clone = pickle.loads(pickle.dumps(batches))
        np.testing.assert_array_equal(clone[4][0], batches[4][0])


class TestDataForms:
    def test_multi_input_dict_and_multi_output(self):
        """Dict x and tuple y keep their structure; labels= picks the output."""
        y_cls = np.array([0] * 20 + [1] * 4)
        x = {"a": np.arange(24.0)[:, None], "b": np.arange(24) * 10}
        y = (y_cls, np.arange(24.0) * 0.5)
        batches = cb.BalancedBatches(x, y, 8, labels=0, seed=0)
        xb, yb = batches[0]
        assert set(xb) == {"a", "b"}
        assert isinstance(yb, tuple)
        np.testing.assert_array_equal(xb["b"], xb["a"][:, 0] * 10)
        np.testing.assert_array_equal(yb[1], xb["a"][:, 0] * 0.5)

    def test_multi_output_needs_labels(self):
        """A multi-output y without labels= names the fix."""
        with pytest.raises(ValueError, match="pass `labels=`"):
            cb.BalancedBatches(np.zeros((4, 1)), {"c": np.array([0, 1, 0, 1]), "r": np.zeros(4)}, 2)

    def test_labels_array(self):
        """labels= may be an array: balance on it while yielding regression targets."""
        y_reg = np.linspace(0, 1, 12)
        groups = np.array([0] * 10 + [1] * 2)
        batches = cb.BalancedBatches(np.zeros((12, 2)), y_reg, 4, labels=groups, seed=0)
        assert batches.sampler.target_counts().tolist() == [10, 10]

    def test_memmap(self, tmp_path, y_long_tail):
        """A memmap is read with sorted indices and gives the same rows as the array."""
        x, y = make_xy(y_long_tail)
        mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=x.dtype, shape=x.shape)
        mm[:] = x
        mm.flush()
        mm = np.load(tmp_path / "x.npy", mmap_mode="r")
        a = cb.BalancedBatches(mm, y, 32, seed=3)
        b = cb.BalancedBatches(x, y, 32, seed=3)
        np.testing.assert_array_equal(a[2][0], b[2][0])

    def test_h5py(self, tmp_path, y_long_tail):
        """An h5py dataset is read with increasing unique indices, duplicates restored."""
        h5py = pytest.importorskip("h5py")
        x, y = make_xy(y_long_tail)
        with h5py.File(tmp_path / "d.h5", "w") as f:
            f["x"] = x
        with h5py.File(tmp_path / "d.h5", "r") as f:
            a = cb.BalancedBatches(f["x"], y, 64, seed=3)
            b = cb.BalancedBatches(x, y, 64, seed=3)
            for i in (0, len(a) - 1):
                np.testing.assert_array_equal(a[i][0], b[i][0])

    def test_paths_with_loader(self, tmp_path):
        """Paths are loaded with loader=; forgetting it names the fix."""
        paths = []
        for i in range(6):
            p = tmp_path / f"{i}.npy"
            np.save(p, np.full((2, 2), i))
            paths.append(str(p))
        y = np.array([0, 0, 0, 0, 1, 1])
        batches = cb.BalancedBatches(paths, y, 4, loader=np.load, seed=0)
        xb, yb = batches[0]
        assert xb.shape == (4, 2, 2)
        np.testing.assert_array_equal(xb[:, 0, 0] >= 4, yb == 1)
        with pytest.raises(TypeError, match="pass `loader=`"):
            cb.BalancedBatches(paths, y, 4)

    def test_length_mismatch(self):
        """x and y of different lengths: both lengths in the message."""
        with pytest.raises(ValueError, match="x has 100 samples but y has 98"):
            cb.BalancedBatches(np.zeros((100, 2)), np.array([0, 1] * 49), 4)

    def test_inputs_of_different_lengths(self):
        """Multi-input arrays must agree in length."""
        with pytest.raises(ValueError, match="differ in length"):
            cb.BalancedBatches({"a": np.zeros(4), "b": np.zeros(5)}, np.array([0, 1, 0, 1]), 2)

    @pytest.mark.parametrize("bs", [0, -3, True, 2.5, "8"])
    def test_bad_batch_size(self, bs):
        """batch_size must be a positive int, bools refused."""
        with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
            cb.BalancedBatches(np.zeros(4), np.array([0, 1, 0, 1]), bs)


class TestWeightsAndFormats:
    def test_class_weight_yields_sample_weights(self):
        """class_weight turns into a third element, weight per class."""
        y = np.array(["a"] * 6 + ["b"] * 2)
        batches = cb.BalancedBatches(np.zeros((8, 1)), y, 4, class_weight={"a": 1.0, "b": 5.0})
        _, yb, wb = batches[0]
        np.testing.assert_array_equal(wb, np.where(yb == "b", 5.0, 1.0))

    def test_class_weight_strategy_and_sample_weight_multiply(self):
        """A strategy name and per-sample weights combine by product."""
        y = np.array([0] * 6 + [1] * 2)
        sw = np.arange(1, 9, dtype=float)
        batches = cb.BalancedBatches(
            np.arange(8.0), y, 8, sample_weight=sw, class_weight="balanced", seed=0
        )
        xb, yb, wb = batches[0]
        cw = cb.class_weights(y)
        expected = sw[xb.astype(int)] * np.array([cw[int(c)] for c in yb])
        np.testing.assert_allclose(wb, expected, rtol=1e-6)

    def test_class_weight_missing_class(self):
        """A class_weight dict missing a class is an error, not 1.0."""
        with pytest.raises(ValueError, match="no weight for classes"):
            cb.BalancedBatches(np.zeros(4), np.array([0, 1, 2, 2]), 2, class_weight={0: 1, 1: 2})

    def test_y_formats(self):
        """'sparse' yields codes, 'categorical' one-hot float32."""
        y = np.array(["x"] * 5 + ["y"] * 3)
        sparse = cb.BalancedBatches(np.zeros(8), y, 4, y_format="sparse", seed=0)[0][1]
        onehot = cb.BalancedBatches(np.zeros(8), y, 4, y_format="categorical", seed=0)[0][1]
        assert sparse.dtype == np.int64
        assert onehot.dtype == np.float32
        np.testing.assert_array_equal(onehot.argmax(1), sparse)
