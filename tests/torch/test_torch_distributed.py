"""A real 2-process torch.distributed run (gloo, CPU) training a tiny DDP model."""

from __future__ import annotations

import datetime
import json
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
from torch.nn.parallel import DistributedDataParallel  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

import classbalance as cb  # noqa: E402
from classbalance.torch import DistributedBalancedBatchSampler  # noqa: E402
from invariants import assert_batches_exact, assert_ranks_share_plan  # noqa: E402

WORLD = 2
EPOCHS = 3
BATCH = 12
SEED = 17
COUNTS = [600, 150, 60]  # imbalance ratio 10; undersampled: 15 batches an epoch, 7 per rank
LR = 0.1
# A collective that waits longer than this fails (e.g. ranks with unequal batch counts, one
# stuck in allreduce): well below the test's own timeout, so the run fails with a message.
COLLECTIVE_TIMEOUT = datetime.timedelta(seconds=30)


def _labels() -> np.ndarray:
    y = np.repeat(np.arange(len(COUNTS)), COUNTS)
    return np.random.default_rng(0).permutation(y)


def _data_and_model():
    """Features and the initial model, identical in every process."""
    torch.manual_seed(0)
    y = _labels()
    x = torch.randn(len(y), 4) + torch.from_numpy(y).float()[:, None]
    return x, torch.from_numpy(y), torch.nn.Linear(4, len(COUNTS))


def _train(rank: int, out_dir: str) -> None:
    # Rendezvous through a file rather than a TCP port picked in advance, which
    # another process could take before rank 0 listens on it. Gloo then talks
    # over loopback only, on ports the OS assigns.
    os.environ["GLOO_SOCKET_IFNAME"] = "lo"
    store = os.path.join(out_dir, "rendezvous")
    dist.init_process_group(
        "gloo",
        init_method=f"file://{store}",
        rank=rank,
        world_size=WORLD,
        timeout=COLLECTIVE_TIMEOUT,
    )
    try:
        x, y, linear = _data_and_model()
        ds = TensorDataset(x, y, torch.arange(len(y)))
        # num_replicas and rank come from the process group.
        sampler = DistributedBalancedBatchSampler(
            ds, BATCH, strategy="undersample", exact=True, seed=SEED
        )
        loader = DataLoader(ds, batch_sampler=sampler)
        model = DistributedDataParallel(linear)
        opt = torch.optim.SGD(model.parameters(), lr=LR)
        record = []
        for epoch in range(EPOCHS):
            sampler.set_epoch(epoch)
            # Unequal batch counts would leave one rank waiting in allreduce: fail at once.
            n = torch.tensor([len(loader)])
            low, high = n.clone(), n.clone()
            dist.all_reduce(low, op=dist.ReduceOp.MIN)
            dist.all_reduce(high, op=dist.ReduceOp.MAX)
            if low.item() != high.item():
                raise RuntimeError(f"ranks have {low.item()} to {high.item()} batches")
            batches = []
            for xb, yb, idx in loader:
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(xb), yb).backward()
                opt.step()
                batches.append(idx.tolist())
            record.append(batches)
        weights = [p.detach().numpy().tolist() for p in model.module.parameters()]
        with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
            json.dump({"epochs": record, "weights": weights, "len": len(sampler)}, f)
    finally:
        dist.destroy_process_group()


def _plan_batches(epoch: int) -> list[np.ndarray]:
    """The epoch's plan from the core sampler, cut into full batches."""
    plan = cb.BalancedSampler(_labels(), "undersample", seed=SEED).plan(
        epoch, batch_size=BATCH, exact=True
    )
    return [plan[i : i + BATCH] for i in range(0, len(plan) - BATCH + 1, BATCH)]


def _single_process_replay() -> list[np.ndarray]:
    """Train the same model in one process on the plan: step s uses global batches 2s, 2s+1.

    DDP averages the ranks' gradients of their batch means; with equal batch sizes that is
    the gradient of the mean over both batches together.
    """
    x, y, model = _data_and_model()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    for epoch in range(EPOCHS):
        batches = _plan_batches(epoch)
        for s in range(len(batches) // WORLD):
            idx = torch.from_numpy(np.concatenate(batches[WORLD * s : WORLD * (s + 1)]))
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return [p.detach().numpy() for p in model.parameters()]


@pytest.mark.slow
def test_ddp_two_ranks(tmp_path):
    """Per epoch: ranks take interleaved batches of the core plan, disjoint, balanced, equal in
    number, a new plan each epoch; and the DDP-trained weights equal one process trained on
    the plan's batches, so the ranks really trained on what the plan says."""
    mp.spawn(_train, args=(str(tmp_path),), nprocs=WORLD, join=True)
    runs = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(WORLD)]
    y = _labels()
    targets = np.full(len(COUNTS), min(COUNTS))
    plans = []
    for epoch in range(EPOCHS):
        per_rank = [run["epochs"][epoch] for run in runs]
        batches = _plan_batches(epoch)
        assert len(per_rank[0]) == len(per_rank[1]) == runs[0]["len"] == len(batches) // WORLD
        assert len(per_rank[0]) >= 7  # enough steps for the weights to tell plans apart
        for r in range(WORLD):
            for s, got in enumerate(per_rank[r]):
                np.testing.assert_array_equal(got, batches[WORLD * s + r])
        flat = [np.concatenate(b) for b in per_rank]
        # Undersampling uses each index at most once per epoch: ranks must be disjoint.
        assert set(flat[0].tolist()).isdisjoint(flat[1].tolist())
        assert_ranks_share_plan(flat, np.concatenate(batches))
        assert_batches_exact([y[b] for r in per_rank for b in r], targets, BATCH)
        plans.append(np.concatenate(flat))
    assert all(not np.array_equal(plans[0], p) for p in plans[1:])
    replay = _single_process_replay()
    for rank_weights in (run["weights"] for run in runs):
        for got, want in zip(rank_weights, replay):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
