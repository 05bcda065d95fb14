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
