"""The fast path: batch samplers yielding arrays or tensors, and ArrayDataset's __getitems__."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader, TensorDataset, default_convert  # noqa: E402

from classbalance.torch import (  # noqa: E402
    ArrayDataset,
    BalancedBatchSampler,
    DistributedBalancedBatchSampler,
)

Y = np.repeat(np.arange(3), [60, 25, 5])
X = np.random.default_rng(0).random((len(Y), 4), dtype=np.float32)


class TestIndexTypes:
    @pytest.mark.parametrize("indices", ["numpy", "tensor"])
    def test_same_batches_as_lists(self, indices):
        """Arrays and tensors hold exactly the batches the list form holds."""
        lists = list(BalancedBatchSampler(Y, 16, exact=True, seed=3))
        other = list(BalancedBatchSampler(Y, 16, exact=True, seed=3, indices=indices))
        assert [np.asarray(b).tolist() for b in other] == lists
        kind = np.ndarray if indices == "numpy" else torch.Tensor
        assert all(isinstance(b, kind) for b in other)

    def test_distributed_takes_indices(self):
        """The distributed sampler yields tensors too, the same batches as lists."""
        kw = {"num_replicas": 2, "rank": 1, "seed": 0}
        a = list(DistributedBalancedBatchSampler(Y, 8, **kw))
        b = list(DistributedBalancedBatchSampler(Y, 8, indices="tensor", **kw))
        assert [t.tolist() for t in b] == a

    @pytest.mark.parametrize(
        ("value", "exc"), [("arrays", ValueError), (None, TypeError), (1, TypeError)]
    )
    def test_bad_indices(self, value, exc):
        """A wrong value is a ValueError naming the choices, a wrong type a TypeError."""
        with pytest.raises(exc, match="indices"):
            BalancedBatchSampler(Y, 8, indices=value)


class TestArrayDataset:
    @pytest.mark.parametrize("form", [list, np.asarray, torch.as_tensor])
    def test_getitems_equals_per_sample(self, form):
        """__getitems__ of any index form equals stacking __getitem__ (TensorDataset)."""
        ds = ArrayDataset(X, Y)
        ref = TensorDataset(torch.from_numpy(X), torch.from_numpy(Y))
        idx = [5, 0, 5, 89, 60]
        xb, yb = ds.__getitems__(form(idx))
        torch.testing.assert_close(xb, torch.stack([ref[i][0] for i in idx]))
        assert yb.tolist() == [int(ref[i][1]) for i in idx]
        assert len(ds) == len(Y)
        assert ds[3][1] == Y[3]

    def test_shares_numpy_memory(self):
        """NumPy arrays are wrapped, not copied."""
        ds = ArrayDataset(X, Y)
        assert ds.tensors[0].data_ptr() == X.ctypes.data

    @pytest.mark.parametrize("workers", [0, 2])
    @pytest.mark.parametrize("indices", ["list", "numpy", "tensor"])
    def test_dataloader_epoch(self, workers, indices):
        """A DataLoader epoch (with and without workers) serves the sampler's plan in order."""
        sampler = BalancedBatchSampler(Y, 16, seed=1, indices=indices)
        loader = DataLoader(
            ArrayDataset(X, Y),
            batch_sampler=sampler,
            collate_fn=default_convert,
            num_workers=workers,
        )
        got = torch.cat([yb for _, yb in loader]).numpy()
        sampler.set_epoch(0)
        plan = np.concatenate([np.asarray(b) for b in sampler])
        np.testing.assert_array_equal(got, Y[plan])
        assert np.bincount(got).tolist() == [60, 60, 60]

    def test_errors(self):
        """Unequal lengths, no arrays and other types are refused with a message."""
        with pytest.raises(ValueError, match="same first dimension"):
            ArrayDataset(X, Y[:-1])
        with pytest.raises(ValueError, match="at least one"):
            ArrayDataset()
        with pytest.raises(TypeError, match="NumPy arrays or torch tensors"):
            ArrayDataset(X, list(Y))


class TestEpochSizeName:
    def test_epoch_size_is_num_samples(self):
        """epoch_size (the package's name) and num_samples (PyTorch's) give the same plan."""
        from classbalance.torch import BalancedSampler

        a = list(BalancedSampler(Y, epoch_size=50, seed=0))
        b = list(BalancedSampler(Y, num_samples=50, seed=0))
        assert a == b
        assert len(a) == 50
        c = BalancedBatchSampler(Y, 10, epoch_size=50, seed=0)
        assert len(c) == 5
        with pytest.raises(TypeError, match="not both"):
            BalancedSampler(Y, epoch_size=50, num_samples=50)
