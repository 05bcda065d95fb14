"""PyTorch samplers: the shared invariants, DataLoader integration, labels_of."""

from __future__ import annotations

import doctest
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch.utils.data import (  # noqa: E402
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_convert,
)

import classbalance as cb  # noqa: E402
from classbalance.torch import (  # noqa: E402
    BalancedBatchSampler,
    BalancedSampler,
    DistributedBalancedBatchSampler,
    labels_of,
)
from invariants import (  # noqa: E402
    assert_batches_balanced_on_average,
    assert_batches_exact,
    assert_cycling,
    assert_epoch_counts,
    assert_ranks_share_plan,
    assert_time_order_cycling,
)
from strategies import batch_sizes, class_vectors, seeds  # noqa: E402

STRATEGIES = [
    {"strategy": "oversample"},
    {"strategy": "undersample"},
    {"num_samples": 64},
    {"alpha": 0.5},
]
strategy_kwargs = st.sampled_from(STRATEGIES)


def codes_of(y):
    return cb.encode_labels(y).codes.astype(np.int64)


class ArrayDataset(Dataset):
    """In-memory rows with a batched ``__getitems__`` (one gather per batch)."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]

    def __getitems__(self, indices):
        idx = np.asarray(indices)
        return np.take(self.x, idx, axis=0), np.take(self.y, idx, axis=0)


class TestBalancedSampler:
    @given(y=class_vectors(), seed=seeds, kwargs=strategy_kwargs)
    def test_invariants_over_epochs(self, y, seed, kwargs):
        """Each iter() is one epoch of target counts, cycling within classes; len is exact."""
        sampler = BalancedSampler(y, seed=seed, **kwargs)
        codes = codes_of(y)
        epochs = []
        for e in range(3):
            targets = sampler.target_counts(e)
            plan = np.array(list(sampler), dtype=np.int64)
            assert len(plan) == len(sampler) == sampler.num_samples
            assert_epoch_counts(codes, plan, targets)
            epochs.append(plan)
        assert_time_order_cycling(codes, epochs[0])
        assert_cycling(codes, np.concatenate(epochs))

    def test_serves_the_core_plan(self, y_long_tail):
        """Epoch e yields exactly the core plan(e): nothing is re-implemented."""
        ours = BalancedSampler(y_long_tail, "undersample", seed=3)
        core = cb.BalancedSampler(y_long_tail, "undersample", seed=3)
        ours.set_epoch(4)
        np.testing.assert_array_equal(list(ours), core.plan(4))
        np.testing.assert_array_equal(list(ours), core.plan(5))
        assert ours.epoch == 6

    def test_reproducible_and_epochs_differ(self, y_long_tail):
        """Same seed: same sequence of epochs; consecutive epochs: different plans."""
        a, b = BalancedSampler(y_long_tail, seed=9), BalancedSampler(y_long_tail, seed=9)
        first = [list(a) for _ in range(3)]
        assert first == [list(b) for _ in range(3)]
        assert first[0] != first[1]

    def test_accepts_tensor_and_dataset(self, y_long_tail):
        """Labels as a tensor or as a dataset give the plan of the numpy labels."""
        ds = TensorDataset(torch.zeros(len(y_long_tail), 1), torch.from_numpy(y_long_tail))
        expected = list(BalancedSampler(y_long_tail, seed=1))
        assert list(BalancedSampler(torch.from_numpy(y_long_tail), seed=1)) == expected
        assert list(BalancedSampler(ds, seed=1)) == expected

    def test_num_samples(self, y_long_tail):
        """num_samples alone means 'balanced' at that size; with a fixed-size strategy it fails."""
        sampler = BalancedSampler(y_long_tail, num_samples=50, seed=0)
        counts = np.bincount(codes_of(y_long_tail)[list(sampler)])
        assert len(sampler) == 50
        assert counts.max() - counts.min() <= 1
        with pytest.raises(ValueError, match="num_samples"):
            BalancedSampler(y_long_tail, "oversample", num_samples=50)

    def test_pickles_mid_run(self, y_long_tail):
        """A pickled copy (spawned workers, checkpoints) continues with the same epochs."""
        sampler = BalancedSampler(y_long_tail, seed=2)
        list(sampler)
        clone = pickle.loads(pickle.dumps(sampler))
        assert list(clone) == list(sampler)


class TestBalancedBatchSampler:
    @given(
        y=class_vectors(),
        seed=seeds,
        batch_size=batch_sizes,
        exact=st.booleans(),
        drop_last=st.booleans(),
        kwargs=strategy_kwargs,
    )
    @settings(max_examples=80)
    def test_batches_cut_the_epoch_plan(self, y, seed, batch_size, exact, drop_last, kwargs):
        """len == batches yielded; batches are the epoch plan in order; exact balances each."""
        sampler = BalancedBatchSampler(
            y, batch_size, exact=exact, drop_last=drop_last, seed=seed, **kwargs
        )
        core = cb.BalancedSampler(y, seed=seed, **_core_kwargs(kwargs))
        batches = list(sampler)
        assert len(batches) == len(sampler)
        sizes = [len(b) for b in batches]
        assert all(s == batch_size for s in sizes[:-1])
        assert all(0 < s <= batch_size for s in sizes[-1:])
        if drop_last:
            assert all(s == batch_size for s in sizes)
        plan = core.plan(0, batch_size=batch_size, exact=exact)
        flat = np.concatenate([np.zeros(0, dtype=np.int64), *batches])
        np.testing.assert_array_equal(flat, plan[: len(flat)])
        assert len(plan) - len(flat) < (batch_size if drop_last else 1)
        codes = codes_of(y)
        if exact:
            assert_batches_exact([codes[b] for b in batches], core.target_counts(0), batch_size)

    def test_balanced_on_average(self, y_long_tail):
        """exact=False: per-batch class counts stay near the epoch's shares."""
        sampler = BalancedBatchSampler(y_long_tail, 32, seed=0)
        codes = codes_of(y_long_tail)
        batches = [codes[b] for _ in range(3) for b in sampler]
        assert_batches_balanced_on_average(batches, sampler.target_counts(0))

    @pytest.mark.parametrize("batch_size", [1, 6])
    @pytest.mark.parametrize("drop_last", [False, True])
    def test_dataloader_lengths(self, y_long_tail, batch_size, drop_last):
        """A DataLoader yields len(loader) batches, covering one epoch of target counts."""
        n = len(y_long_tail)
        ds = TensorDataset(torch.arange(n), torch.from_numpy(y_long_tail))
        sampler = BalancedBatchSampler(ds, batch_size, drop_last=drop_last, exact=True, seed=4)
        loader = DataLoader(ds, batch_sampler=sampler)
        targets = sampler.target_counts(0)
        batches = list(loader)
        assert len(batches) == len(loader) == len(sampler)
        idx = torch.cat([i for i, _ in batches]).numpy()
        got = np.bincount(codes_of(y_long_tail)[idx], minlength=len(targets))
        if not drop_last or targets.sum() % batch_size == 0:
            np.testing.assert_array_equal(got, targets)
        for idx, yb in batches:
            np.testing.assert_array_equal(y_long_tail[idx.numpy()], yb.numpy())

    @pytest.mark.parametrize("batch_size", [1, 6])
    def test_dataloader_per_sample_sampler(self, y_long_tail, batch_size):
        """BalancedSampler in DataLoader(sampler=...): len matches, one epoch of targets."""
        ds = TensorDataset(torch.from_numpy(y_long_tail))
        sampler = BalancedSampler(y_long_tail, seed=0)
        loader = DataLoader(ds, batch_size=batch_size, sampler=sampler)
        batches = list(loader)
        assert len(batches) == len(loader)
        labels = torch.cat([b[0] for b in batches]).numpy()
        np.testing.assert_array_equal(np.bincount(labels), sampler.target_counts(0))

    def test_getitems_fast_path(self):
        """A batched __getitems__ dataset with default_convert yields x[idx], y[idx] tensors."""
        rng = np.random.default_rng(0)
        y = np.repeat(np.arange(3), [50, 10, 3])
        x = rng.random((len(y), 4), dtype=np.float32)
        sampler = BalancedBatchSampler(y, 16, seed=0)
        loader = DataLoader(ArrayDataset(x, y), batch_sampler=sampler, collate_fn=default_convert)
        plan = cb.BalancedSampler(y, seed=0).plan(0)
        batches = list(loader)
        assert len(batches) == len(loader)
        xs = torch.cat([xb for xb, _ in batches]).numpy()
        np.testing.assert_array_equal(xs, x[plan])
        assert isinstance(batches[0][1], torch.Tensor)

    def test_deterministic_with_workers(self, y_long_tail):
        """num_workers=2 yields the same batches as num_workers=0, epoch after epoch."""
        ds = TensorDataset(torch.arange(len(y_long_tail)))

        def run(workers):
            sampler = BalancedBatchSampler(y_long_tail, 16, seed=11)
            loader = DataLoader(ds, batch_sampler=sampler, num_workers=workers)
            return [torch.cat([b[0] for b in loader]).tolist() for _ in range(2)]

        with_workers = run(2)
        assert with_workers == run(0)
        assert with_workers[0] != with_workers[1]

    def test_beyond_2_pow_24_samples(self):
        """2**24 + 10 labels plan quickly; the rare class above index 2**24 is sampled."""
        n = 2**24 + 10
        y = np.zeros(n, dtype=np.uint8)
        y[-10:] = 1
        sampler = BalancedBatchSampler(y, 100, num_samples=1000, seed=0)
        idx = np.concatenate(list(sampler))
        assert len(idx) == 1000
        assert idx.max() < n
        np.testing.assert_array_equal(np.bincount(y[idx]), [500, 500])
        assert np.all(idx[y[idx] == 1] >= 2**24)

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"batch_size": 0}, ValueError, r"`batch_size` must be a positive integer.*=0"),
            ({"batch_size": True}, ValueError, "not a bool"),
            ({"batch_size": 4, "exact": "yes"}, TypeError, "`exact` must be a bool"),
            ({"batch_size": 4, "drop_last": 1}, TypeError, "`drop_last` must be a bool"),
            ({"batch_size": 4, "strategy": "smote"}, ValueError, "`strategy` must be one of"),
        ],
    )
    def test_validation(self, y_long_tail, kwargs, error, match):
        """Bad arguments fail at construction with a Keras-style message."""
        with pytest.raises(error, match=match):
            BalancedBatchSampler(y_long_tail, **kwargs)


class TestDistributedBalancedBatchSampler:
    @given(
        y=class_vectors(min_classes=2, max_classes=4, max_count=40),
        seed=st.integers(0, 2**31),
        batch_size=st.integers(1, 12),
        world=st.integers(1, 4),
        exact=st.booleans(),
        drop_last=st.booleans(),
        strategy=st.sampled_from(["oversample", "undersample"]),
    )
    def test_ranks_split_one_plan(self, y, seed, batch_size, world, exact, drop_last, strategy):
        """Equal batch counts; whole batches; ranks share nothing beyond the plan."""
        kwargs = {"exact": exact, "strategy": strategy, "seed": seed}
        core = cb.BalancedSampler(y, strategy, seed=seed)
        n_full = len(core) // batch_size
        if drop_last and n_full < world:
            with pytest.raises(ValueError, match="fewer than num_replicas"):
                DistributedBalancedBatchSampler(
                    y, batch_size, num_replicas=world, rank=0, drop_last=True, **kwargs
                )
            return
        ranks = [
            DistributedBalancedBatchSampler(
                y, batch_size, num_replicas=world, rank=r, drop_last=drop_last, **kwargs
            )
            for r in range(world)
        ]
        per_rank = [list(s) for s in ranks]
        assert {len(b) for b in per_rank} == {len(ranks[0])}
        plan = core.plan(0, batch_size=batch_size, exact=exact)
        # Step by step, the ranks together hold consecutive batches of the global plan.
        stepped = [b for step in zip(*per_rank) for b in step]
        n_plan_batches = -(-len(plan) // batch_size)
        for j, batch in enumerate(stepped):
            g = j % n_plan_batches if not drop_last else j
            np.testing.assert_array_equal(batch, plan[g * batch_size : (g + 1) * batch_size])
        if drop_last:
            assert all(len(b) == batch_size for b in stepped)
            assert_ranks_share_plan([np.concatenate(b) for b in per_rank], plan)
            assert len(plan) - sum(map(len, stepped)) < batch_size * world
        else:
            assert sum(map(len, stepped)) >= len(plan)
        if exact:
            assert_batches_exact(
                [codes_of(y)[b] for b in stepped], core.target_counts(0), batch_size
            )

    def test_epochs_advance_together(self, y_long_tail):
        """set_epoch and the automatic advance give every rank the same epoch's plan."""
        ranks = [
            DistributedBalancedBatchSampler(y_long_tail, 8, num_replicas=2, rank=r, seed=5)
            for r in (0, 1)
        ]
        for s in ranks:
            s.set_epoch(3)
        first = [list(s) for s in ranks]
        second = [list(s) for s in ranks]
        assert first != second
        assert all(s.epoch == 5 for s in ranks)
        core = cb.BalancedSampler(y_long_tail, seed=5).plan(4)
        np.testing.assert_array_equal(second[0][0], core[:8])
        np.testing.assert_array_equal(second[1][0], core[8:16])

    def test_needs_world_or_process_group(self, y_long_tail):
        """Without an initialized process group, num_replicas and rank are required."""
        with pytest.raises(RuntimeError, match="init_process_group"):
            DistributedBalancedBatchSampler(y_long_tail, 8)

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"num_replicas": 2, "rank": 2}, ValueError, r"`rank` must be in .* = \[0, 1\]"),
            ({"num_replicas": 0, "rank": 0}, ValueError, "`num_replicas` must be a positive"),
            ({"num_replicas": 2, "rank": -1}, ValueError, "`rank` must be a non-negative"),
            ({"num_replicas": 2, "rank": 0, "seed": None}, TypeError, "same on every rank"),
        ],
    )
    def test_validation(self, y_long_tail, kwargs, error, match):
        """Bad rank, world size or seed fail with a message naming the argument."""
        with pytest.raises(error, match=match):
            DistributedBalancedBatchSampler(y_long_tail, 8, **kwargs)


class _WithTargets(Dataset):
    """Stands in for torchvision's ImageFolder: labels in ``targets``, samples never read."""

    def __init__(self, targets):
        self.targets = targets

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        raise AssertionError("labels_of must not load samples")


class _Opaque(Dataset):
    def __init__(self, n):
        self.n = n
        self.frame = {"label": np.arange(n) % 3}

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        raise AssertionError("labels_of must not load samples")


class TestLabelsOf:
    def test_sources(self):
        """targets, TensorDataset, nested Subset, ConcatDataset and label_fn all agree."""
        y = np.array([2, 0, 1, 1, 0, 2, 2])
        by_targets = _WithTargets(list(y))
        by_tensor = TensorDataset(torch.zeros(7, 2), torch.from_numpy(y))
        np.testing.assert_array_equal(labels_of(by_targets), y)
        np.testing.assert_array_equal(labels_of(by_tensor), y)
        nested = Subset(Subset(by_targets, [6, 5, 4, 3]), [3, 0])
        np.testing.assert_array_equal(labels_of(nested), y[[3, 6]])
        both = ConcatDataset([by_tensor, Subset(by_targets, np.array([1, 2]))])
        np.testing.assert_array_equal(labels_of(both), np.r_[y, y[[1, 2]]])
        opaque = Subset(_Opaque(9), [8, 1])
        np.testing.assert_array_equal(labels_of(opaque, lambda d: d.frame["label"]), [2, 1])

    def test_errors(self):
        """No labels to find, wrong length or a non-callable label_fn: clear errors."""
        with pytest.raises(TypeError, match="label_fn="):
            labels_of(_Opaque(3))
        with pytest.raises(TypeError, match="single tensor"):
            labels_of(TensorDataset(torch.zeros(3)))
        with pytest.raises(ValueError, match="one label per sample"):
            labels_of(_Opaque(3), lambda d: [0, 1])
        with pytest.raises(TypeError, match="must be a callable"):
            labels_of(_Opaque(3), "label")


def test_import_is_lazy():
    """`import classbalance.torch` does not import PyTorch until a name is used."""
    import subprocess
    import sys

    code = "import sys, classbalance.torch; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_docstring_examples():
    """The examples in the torch adapters' docstrings run as written."""
    from classbalance.torch import _labels, _samplers

    for module in (_labels, _samplers):
        result = doctest.testmod(module)
        assert result.attempted > 0, f"{module.__name__} has no docstring example"
        assert result.failed == 0


def _core_kwargs(kwargs):
    if "num_samples" in kwargs:
        return {"strategy": "balanced", "epoch_size": kwargs["num_samples"]}
    return kwargs


@pytest.mark.parametrize(
    ("cls", "world"),
    [(BalancedBatchSampler, {}), (DistributedBalancedBatchSampler, {"num_replicas": 2, "rank": 0})],
)
def test_a_sampler_in_place_of_the_labels_is_a_clear_error(cls, world):
    """What PyTorch Lightning (use_distributed_sampler=True) does to a batch sampler:
    cls(DistributedSampler(...), batch_size=..., drop_last=...)."""
    from torch.utils.data import DistributedSampler

    injected = DistributedSampler(range(10), num_replicas=2, rank=0)
    with pytest.raises(TypeError, match="use_distributed_sampler=False"):
        cls(injected, batch_size=4, drop_last=True, **world)
