"""The shared invariant suite, run over every plan-producing object of the package.

Core sampler, BalancedBatches, the seed generator, BalancedEnsemble's members,
folder oversampling, BalancedPyDataset, the three PyTorch samplers and both
tf.data adapters (see ``plan_sources.py``), each driven the way its framework
drives it, all checked against the same invariants and the same epoch rule:
each pass is the next epoch of the one engine, ``BalancedSampler``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import classbalance as cb
from invariants import (
    assert_batches_balanced_on_average,
    assert_batches_exact,
    assert_cycling,
    assert_epoch_counts,
    assert_time_order_cycling,
)
from plan_sources import SOURCES, digests, labels

CASES = [
    pytest.param(src, strategy, id=f"{src.name}-{strategy}")
    for src in SOURCES
    for strategy in src.strategies
]
N_PASSES = 3
SEED = 11


def run(src, strategy, seed=SEED, k=N_PASSES):
    if not src.available():
        pytest.skip(f"needs {', '.join(src.needs)}")
    y = labels()
    obj = src.make(y, strategy, seed)
    promised = src.length(obj)
    passes = src.passes(obj, k if src.epochs else 1)
    return y, promised, passes


@pytest.mark.parametrize(("src", "strategy"), CASES)
class TestEveryPlanSource:
    def test_invariants(self, src, strategy):
        """Exact class counts per epoch, len equals iteration, exact or balanced batches,
        within-class cycling in time and across epochs, epochs differ."""
        y, promised, passes = run(src, strategy)
        engine = cb.BalancedSampler(y, strategy, seed=0)
        for e, batches in enumerate(passes):
            targets = engine.target_counts(e)
            plan = np.concatenate(batches)
            assert_epoch_counts(y, plan, targets)
            if promised >= 0 and e == 0:
                assert promised == (len(batches) if src.units == "batches" else len(plan))
            codes = [y[b] for b in batches]
            if src.exact:
                assert_batches_exact(codes, targets, src.batch)
            else:
                assert_batches_balanced_on_average(codes, targets)
            if src.time_order and not src.exact and e == 0:
                # Epoch 0 starts every class's stream (exact plans shuffle within batches).
                assert_time_order_cycling(y, plan)
        assert_cycling(y, np.concatenate([np.concatenate(b) for b in passes]))
        if src.epochs:
            first, second = (np.concatenate(b) for b in passes[:2])
            assert not np.array_equal(first, second), "two passes served the same plan"

    def test_reproducible_and_seeded(self, src, strategy):
        """The same seed gives the same passes; another seed other passes."""
        _, _, a = run(src, strategy, k=2)
        _, _, b = run(src, strategy, k=2)
        _, _, c = run(src, strategy, seed=SEED + 1, k=2)
        for pa, pb in zip(a, b, strict=True):
            np.testing.assert_array_equal(np.concatenate(pa), np.concatenate(pb))
        assert not np.array_equal(np.concatenate(a[0]), np.concatenate(c[0]))


def test_reproducible_across_processes():
    """A fresh interpreter computes the same passes of every source from the same seed."""
    here = Path(__file__).parent
    out = subprocess.run(
        [sys.executable, str(here / "plan_sources.py"), "5"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    fresh = json.loads(out.stdout.strip().splitlines()[-1])
    assert fresh == digests(5)
    assert len(fresh) == sum(len(s.strategies) for s in SOURCES if s.available())


class TestEpochRule:
    def test_iter_alone_does_not_use_an_epoch(self):
        """iter() without taking an item leaves the epoch; the first item moves it on."""
        sampler = cb.BalancedSampler(labels(), seed=0)
        unused = iter(sampler)
        assert sampler.epoch == 0
        first = next(iter(sampler))
        assert sampler.epoch == 1
        assert first == int(sampler.plan(0)[0])
        del unused

    def test_stopped_pass_is_not_served_again(self):
        """A pass stopped early still used up its epoch; the next pass serves the next one."""
        sampler = cb.BalancedSampler(labels(), seed=0)
        for _ in zip(range(3), sampler, strict=False):
            pass
        assert list(sampler) == sampler.plan(1).tolist()
        sampler.set_epoch(0)
        assert list(sampler) == sampler.plan(0).tolist()

    def test_iteration_in_chunks_equals_the_plan(self):
        """A plan longer than one chunk of Python ints is served whole, as ints."""
        y = np.repeat([0, 1], [60_000, 20_000])
        sampler = cb.BalancedSampler(y, seed=1)
        served = list(sampler)
        assert len(served) == len(sampler.plan(0)) == 120_000
        assert type(served[0]) is int
        np.testing.assert_array_equal(served, sampler.plan(0))


class TestPermutationCache:
    def test_cache_changes_no_plan(self):
        """Epochs planned in any order, by a warm or a fresh or an unpickled sampler, agree."""
        import pickle

        y = np.repeat([0, 1, 2], [20_000, 6_000, 300])  # two classes large enough to be cached
        warm = cb.BalancedSampler(y, "balanced", seed=4)
        in_order = [warm.plan(e) for e in range(5)]
        for e in (3, 0, 4, 1):
            fresh = cb.BalancedSampler(y, "balanced", seed=4)
            np.testing.assert_array_equal(fresh.plan(e), in_order[e])
            np.testing.assert_array_equal(warm.plan(e), in_order[e])
        clone = pickle.loads(pickle.dumps(warm))
        assert clone._block_cache == {}
        np.testing.assert_array_equal(clone.plan(2), in_order[2])


def _first_pass_with_epoch_size(name: str, y: np.ndarray, seed: int, **size: int) -> np.ndarray:
    """The indices the adapter ``name`` serves in its first pass, built with ``epoch_size``."""
    x = np.arange(len(y))
    if name == "BalancedBatches":
        return np.concatenate([xb for xb, _ in cb.BalancedBatches(x, y, 4, seed=seed, **size)])
    if name == "BalancedPyDataset":
        from classbalance.keras import BalancedPyDataset

        ds = BalancedPyDataset(x, y, 4, seed=seed, **size)
        return np.concatenate([np.asarray(ds[i][0]) for i in range(len(ds))])
    if name == "tf.balanced_dataset":
        from classbalance.tf import balanced_dataset

        return np.concatenate(
            [xb.numpy() for xb, _ in balanced_dataset(x, y, 4, seed=seed, **size)]
        )
    if name == "torch.BalancedSampler":
        from classbalance.torch import BalancedSampler

        return np.array(list(BalancedSampler(y, seed=seed, **size)))
    if name == "torch.BalancedBatchSampler":
        from classbalance.torch import BalancedBatchSampler

        return np.concatenate(
            [np.asarray(b) for b in BalancedBatchSampler(y, 4, seed=seed, **size)]
        )
    if name == "torch.DistributedBalancedBatchSampler":
        from classbalance.torch import DistributedBalancedBatchSampler

        ranks = [
            DistributedBalancedBatchSampler(
                y, 4, num_replicas=2, rank=r, drop_last=False, seed=seed, **size
            )
            for r in (0, 1)
        ]
        steps = zip(*(list(r) for r in ranks), strict=True)
        return np.concatenate([np.asarray(b) for step in steps for b in step])
    assert name == "fastai.BalancedDL"
    from classbalance.fastai import BalancedDL

    dl = BalancedDL(list(x), bs=4, labels=y, seed=seed, num_workers=0, **size)
    return np.asarray(dl.get_idxs())


EPOCH_SIZE_ADAPTERS = {
    "BalancedBatches": (),
    "BalancedPyDataset": ("keras",),
    "tf.balanced_dataset": ("tensorflow",),
    "torch.BalancedSampler": ("torch",),
    "torch.BalancedBatchSampler": ("torch",),
    "torch.DistributedBalancedBatchSampler": ("torch",),
    "fastai.BalancedDL": ("fastai",),
}


class TestEpochSizeRule:
    """One epoch_size rule, in the engine: every adapter plans the same epoch from it."""

    def test_core_and_torch_plan_the_same_30_samples(self):
        """cb.BalancedSampler(y, epoch_size=30) and the torch sampler serve one 30-sample plan
        (balanced at 30, not the default oversample's 200), for epoch_size and num_samples."""
        pytest.importorskip("torch")
        from classbalance.torch import BalancedSampler

        y = labels()
        for seed in (0, 1, 7):
            core = cb.BalancedSampler(y, epoch_size=30, seed=seed)
            plan = core.plan(0)
            assert len(plan) == len(core) == 30
            assert core.strategy == "balanced"
            np.testing.assert_array_equal(list(BalancedSampler(y, epoch_size=30, seed=seed)), plan)
            np.testing.assert_array_equal(list(BalancedSampler(y, num_samples=30, seed=seed)), plan)
            np.testing.assert_array_equal(
                plan, cb.BalancedSampler(y, "balanced", epoch_size=30, seed=seed).plan(0)
            )

    @pytest.mark.parametrize("name", list(EPOCH_SIZE_ADAPTERS))
    def test_every_adapter_serves_the_core_plan(self, name):
        """The same (y, epoch_size, seed) gives every adapter the core sampler's plan."""
        for module in EPOCH_SIZE_ADAPTERS[name]:
            pytest.importorskip(module)
        y = labels()
        served = _first_pass_with_epoch_size(name, y, 3, epoch_size=32)
        np.testing.assert_array_equal(served, cb.BalancedSampler(y, epoch_size=32, seed=3).plan(0))

    @pytest.mark.parametrize("name", list(EPOCH_SIZE_ADAPTERS))
    @pytest.mark.parametrize("strategy", ["oversample", "undersample"])
    def test_every_adapter_refuses_a_size_the_strategy_ignores(self, name, strategy):
        """epoch_size with a strategy that fixes its own size is an error that says so, in the
        core and in every adapter (none silently plans another size)."""
        for module in EPOCH_SIZE_ADAPTERS[name]:
            pytest.importorskip(module)
        with pytest.raises(ValueError, match=rf"strategy='{strategy}' fixes its own size"):
            _first_pass_with_epoch_size(name, labels(), 0, epoch_size=32, strategy=strategy)

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"strategy": "oversample"},
            {"strategy": "undersample"},
            {"strategy": {0: 10, 1: 5}},
            {"strategy": lambda counts: counts},
        ],
        ids=["oversample", "undersample", "dict-of-counts", "callable-counts"],
    )
    def test_core_refuses_an_ignored_epoch_size(self, kwargs):
        """Every strategy that would ignore epoch_size refuses it, naming what to use."""
        with pytest.raises(ValueError, match=r"fixes its own size.*Use strategy='balanced'"):
            cb.BalancedSampler(labels(), epoch_size=30, **kwargs)

    def test_sized_strategies_use_epoch_size(self):
        """balanced, alpha, fractions (in a dict or from a callable) and multi-label plans
        take epoch_size."""
        y = labels()
        assert len(cb.BalancedSampler(y, "balanced", epoch_size=30)) == 30
        assert len(cb.BalancedSampler(y, alpha=0.5, epoch_size=30)) == 30
        fractions = cb.BalancedSampler(y, {3: 0.5}, epoch_size=30).target_counts()
        assert fractions[3] == 15
        called = cb.BalancedSampler(y, lambda c: {3: 0.5}, epoch_size=30).target_counts()
        assert called[3] == 15
        Y = np.eye(4, dtype=int)[y]
        Y[:5, 0] = 1
        assert len(cb.BalancedSampler(Y, multilabel=True, epoch_size=30)) == 30

    def test_torch_refuses_both_names(self):
        """epoch_size and num_samples (PyTorch's name) together are a TypeError."""
        pytest.importorskip("torch")
        from classbalance.torch import BalancedSampler

        with pytest.raises(TypeError, match="not both"):
            BalancedSampler(labels(), epoch_size=30, num_samples=30)
