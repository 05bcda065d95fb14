"""A real 2-process torch.distributed run (gloo, CPU) training a tiny DDP model."""

from __future__ import annotations

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
COUNTS = [300, 60, 12]  # imbalance ratio 25


def _labels() -> np.ndarray:
    y = np.repeat(np.arange(len(COUNTS)), COUNTS)
    return np.random.default_rng(0).permutation(y)


def _train(rank: int, out_dir: str) -> None:
    # Rendezvous through a file rather than a TCP port picked in advance, which
    # another process could take before rank 0 listens on it. Gloo then talks
    # over loopback only, on ports the OS assigns.
    os.environ["GLOO_SOCKET_IFNAME"] = "lo"
    store = os.path.join(out_dir, "rendezvous")
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=WORLD)
    try:
        torch.manual_seed(0)
        y = _labels()
        x = torch.randn(len(y), 4) + torch.from_numpy(y).float()[:, None]
        ds = TensorDataset(x, torch.from_numpy(y), torch.arange(len(y)))
        # num_replicas and rank come from the process group.
        sampler = DistributedBalancedBatchSampler(
            ds, BATCH, strategy="undersample", exact=True, seed=17
        )
        loader = DataLoader(ds, batch_sampler=sampler)
        model = DistributedDataParallel(torch.nn.Linear(4, len(COUNTS)))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        record = []
        for epoch in range(EPOCHS):
            sampler.set_epoch(epoch)
            batches = []
            for xb, yb, idx in loader:
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(xb), yb).backward()
                opt.step()
                batches.append(idx.tolist())
            record.append(batches)
        weights = model.module.weight.detach().numpy().tolist()
        with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
            json.dump({"epochs": record, "weights": weights, "len": len(sampler)}, f)
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_ddp_two_ranks(tmp_path):
    """Per epoch: ranks disjoint, equal batch counts, balanced batches, a new plan."""
    mp.spawn(_train, args=(str(tmp_path),), nprocs=WORLD, join=True)
    runs = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(WORLD)]
    y = _labels()
    targets = np.full(len(COUNTS), min(COUNTS))
    plans = []
    for epoch in range(EPOCHS):
        per_rank = [run["epochs"][epoch] for run in runs]
        assert len(per_rank[0]) == len(per_rank[1]) == runs[0]["len"] > 0
        flat = [np.concatenate(batches) for batches in per_rank]
        # Undersampling uses each index at most once per epoch: ranks must be disjoint.
        assert set(flat[0].tolist()).isdisjoint(flat[1].tolist())
        core = cb.BalancedSampler(y, "undersample", seed=17)
        assert_ranks_share_plan(flat, core.plan(epoch, batch_size=BATCH, exact=True))
        assert_batches_exact([y[b] for r in per_rank for b in r], targets, BATCH)
        plans.append(np.concatenate(flat))
    assert all(not np.array_equal(plans[0], p) for p in plans[1:])
    # DDP kept the replicas identical: the ranks ran the same number of steps.
    np.testing.assert_allclose(runs[0]["weights"], runs[1]["weights"])
