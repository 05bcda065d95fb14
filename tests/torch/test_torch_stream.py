"""classbalance.torch.BalancedStream (IterableDataset) with real DataLoaders and ranks, and
exact resume of the samplers and the stream with torchdata's StatefulDataLoader."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.utils.data as data_module  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from classbalance.torch import (  # noqa: E402
    BalancedBatchSampler,
    BalancedSampler,
    BalancedStream,
    DistributedBalancedBatchSampler,
)

K = 5
COUNTS = np.array([1200, 400, 150, 60, 20])


def data():
    y = np.repeat(np.arange(K), COUNTS)
    np.random.default_rng(0).shuffle(y)
    return [(i, c) for i, c in enumerate(y.tolist())]


def stream(samples=None, **kwargs):
    kw = {"label": 1, "strategy": "balanced", "class_counts": COUNTS, "buffer_size": 256, "seed": 7}
    kw.update(kwargs)
    return BalancedStream(data() if samples is None else samples, **kw)


def served(loader):
    ids, ys = [], []
    for i, y in loader:
        ids.append(i)
        ys.append(y)
    return torch.cat(ids).numpy(), torch.cat(ys).numpy()


class TestIterableDataset:
    def test_two_workers_split_the_input_and_serve_the_length(self):
        ds = stream(length=1500)
        ids, ys = served(DataLoader(ds, batch_size=50, num_workers=2))
        assert len(ids) == 1500
        shares = np.bincount(ys, minlength=K) / len(ys)
        np.testing.assert_allclose(shares, 1 / K, atol=0.03)
        # Same seed and epoch: the same samples; another epoch: others.
        ids2, _ = served(DataLoader(ds, batch_size=50, num_workers=2))
        np.testing.assert_array_equal(np.sort(ids), np.sort(ids2))
        ds.set_epoch(1)
        ids3, _ = served(DataLoader(ds, batch_size=50, num_workers=2))
        assert not np.array_equal(np.sort(ids), np.sort(ids3))

    def test_two_ranks_stay_in_step_on_disjoint_items(self):
        ranks = [stream(rank=r, world_size=2) for r in (0, 1)]
        assert len(ranks[0]) == len(ranks[1]) == int(len(data()) // 2)
        out = [served(DataLoader(ds, batch_size=32)) for ds in ranks]
        assert len(out[0][0]) == len(out[1][0]) == len(ranks[0])
        assert set(out[0][0].tolist()).isdisjoint(out[1][0].tolist())
        ys = np.concatenate([out[0][1], out[1][1]])
        np.testing.assert_allclose(np.bincount(ys, minlength=K) / len(ys), 1 / K, atol=0.03)

    def test_ranks_under_gloo(self, tmp_path):
        import torch.multiprocessing as mp

        mp.start_processes(
            _gloo_rank, args=(str(tmp_path),), nprocs=2, join=True, start_method="fork"
        )
        lengths = [int((tmp_path / f"rank{r}.txt").read_text()) for r in (0, 1)]
        assert lengths[0] == lengths[1] > 0


def _gloo_rank(rank, folder):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{folder}/store", rank=rank, world_size=2)
    try:
        ds = stream()  # rank and world size from the process group
        n = sum(len(i) for i, _ in DataLoader(ds, batch_size=64))
        count = torch.tensor([n])
        dist.all_reduce(count)
        with open(f"{folder}/rank{rank}.txt", "w") as f:
            f.write(str(n if int(count) == 2 * n else -1))
    finally:
        dist.destroy_process_group()


# ----------------------------------------------------------------------------- resume
stateful = pytest.importorskip("torchdata.stateful_dataloader")


def _batches(loader, n=None):
    """The first ``n`` batches (all if None) of a new pass, without fetching batch n + 1."""
    return [batch[0].clone() for batch in itertools.islice(loader, n)]


def _resumes_exactly(make_loader, stop, epochs=2):
    """Batches before the stop + after resume in a fresh loader == the uninterrupted run."""
    ref = make_loader()
    full = [b for _ in range(epochs) for b in _batches(ref)]
    run = make_loader()
    head = _batches(run, stop)
    state = run.state_dict()
    fresh = make_loader()
    fresh.load_state_dict(state)
    rest = _batches(fresh) + [b for _ in range(epochs - 1) for b in _batches(fresh)]
    got = head + rest
    assert len(got) == len(full)
    for a, b in zip(got, full, strict=True):
        torch.testing.assert_close(a, b)


TENSORS = TensorDataset(torch.arange(len(data())), torch.tensor([c for _, c in data()]))
Y = TENSORS.tensors[1]


@pytest.mark.parametrize(
    ("kind", "workers"),
    [
        (kind, workers)
        for kind in (
            "sampler",
            "batch_sampler",
            "distributed",
            "repeat_factor",
            "stream",
            "stream_rank1",
        )
        for workers in (0, 2)
        # Worker processes are slow to start: two workers for one sampler of each kind.
        if workers == 0 or kind in ("sampler", "batch_sampler", "stream")
    ],
)
def test_stateful_dataloader_resumes_at_the_next_batch(kind, workers):
    SDL = stateful.StatefulDataLoader
    extra = {"num_workers": workers}
    if workers:
        extra["snapshot_every_n_steps"] = 1

    def make_loader():
        if kind == "sampler":
            return SDL(
                TENSORS, sampler=BalancedSampler(Y, epoch_size=800, seed=3), batch_size=40, **extra
            )
        if kind in ("batch_sampler", "repeat_factor"):
            if kind == "repeat_factor":
                s = BalancedBatchSampler(Y, 40, strategy="repeat_factor", seed=3)
            else:
                s = BalancedBatchSampler(Y, 40, epoch_size=800, seed=3)
            return SDL(TENSORS, batch_sampler=s, **extra)
        if kind == "distributed":
            s = DistributedBalancedBatchSampler(
                Y, 40, num_replicas=2, rank=1, epoch_size=800, seed=3
            )
            return SDL(TENSORS, batch_sampler=s, **extra)
        if kind == "stream_rank1":  # rank 1 of 2 under DDP (rank passed explicitly)
            ds = stream(length=600, buffer_size=128, rank=1, world_size=2)
        else:
            ds = stream(length=1000, buffer_size=128)
        return SDL(ds, batch_size=40, **extra)

    _resumes_exactly(make_loader, stop=7)


def test_iterable_dataset_with_len_resumes_as_an_iterator():
    """A torch IterableDataset with __len__ (and Dataset's __getitem__) is not random access:
    its state stores the buffer as samples and the resumed pass skips to the position."""

    class Items(data_module.IterableDataset):
        def __iter__(self):
            return iter(data())

        def __len__(self):
            return len(data())

    def make():
        return stream(length=900, buffer_size=128, samples=Items())

    full = list(make())
    run = make()
    head = list(itertools.islice(iter(run), 333))
    state = run.state_dict()
    assert state["pass"]["input"] == "iterable"
    resumed = make()
    resumed.load_state_dict(state)
    assert head + list(resumed) == full
