"""Our samplers under Lightning's Trainer(strategy="ddp", devices=2, accelerator="cpu"), with
use_distributed_sampler off and on: shares, lengths, set_epoch, resume (real lightning)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lightning")

from classbalance.torch import BalancedSampler, DistributedBalancedBatchSampler

COUNTS = (120, 40, 12, 4)
Y = np.repeat(np.arange(len(COUNTS)), COUNTS)
PLAN = {"strategy": "balanced", "epoch_size": 160, "seed": 3}


@pytest.mark.slow
def test_lightning_ddp_with_and_without_distributed_sampler(tmp_path):
    """One torchrun of 2 processes runs every Lightning fit (pl_worker.py; one test, so that
    pytest-xdist does not start it twice); each setting is checked by its function below."""
    ranks = _run(tmp_path)
    _check_batch_sampler_without_distributed_sampler(ranks)
    _check_per_index_sampler_with_distributed_sampler(ranks)
    _check_batch_sampler_with_distributed_sampler_is_a_clear_error(ranks)


def _run(out):
    torchrun = Path(sys.executable).parent / "torchrun"
    worker = Path(__file__).parent / "pl_worker.py"
    done = subprocess.run(
        [str(torchrun), "--nproc_per_node", "2", str(worker), str(out)],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return [json.loads((out / f"{r}.json").read_text()) for r in (0, 1)]


def _check_batch_sampler_without_distributed_sampler(ranks):
    """use_distributed_sampler=False: each rank serves its DistributedBalancedBatchSampler
    share of the plan of Lightning's epoch (exact classes per batch, equal steps, no position
    twice, a new plan each epoch), and fit(ckpt_path=epoch 0) replays epoch 1 exactly."""
    for epoch in ("0", "1"):
        seen = [r["batches"][epoch] for r in ranks]
        assert len(seen[0]) == len(seen[1]) == 160 // 8 // 2
        for rank, batches in enumerate(seen):
            expected = DistributedBalancedBatchSampler(
                Y, 8, num_replicas=2, rank=rank, exact=True, **PLAN
            )
            expected.set_epoch(int(epoch))
            assert batches == list(expected)
            assert all(np.bincount(Y[b], minlength=4).tolist() == [2] * 4 for b in batches)
    assert ranks[0]["batches"]["0"] != ranks[0]["batches"]["1"]
    for r in ranks:
        assert list(r["resumed"]) == ["1"]
        assert r["resumed"]["1"] == r["batches"]["1"]


def _check_per_index_sampler_with_distributed_sampler(ranks):
    """use_distributed_sampler=True: Lightning's DistributedSamplerWrapper shards (and
    reshuffles) BalancedSampler's plan: equal constant lengths, together the whole plan with
    no position twice, and set_epoch forwarded (epoch 1 serves epoch 1's plan)."""
    plans = []
    for epoch in ("0", "1"):
        seen = [np.concatenate(r["per_index"][epoch]) for r in ranks]
        assert len(seen[0]) == len(seen[1]) == 80
        plan = BalancedSampler(Y, **PLAN)
        plan.set_epoch(int(epoch))
        plans.append(sorted(plan))
        assert sorted(np.concatenate(seen).tolist()) == plans[-1]
    assert plans[0] != plans[1]


def _check_batch_sampler_with_distributed_sampler_is_a_clear_error(ranks):
    """Lightning re-creates a batch sampler around a DistributedSampler: our samplers refuse
    it with an error that names the two working set-ups."""
    message = ranks[0]["error"]
    assert "use_distributed_sampler=False" in message
    assert "DistributedBalancedBatchSampler" in message
