"""BalancedSampler: the shared invariant suite over every strategy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import classbalance as cb
from classbalance.sampling import progressive_alpha
from invariants import (
    assert_batches_balanced_on_average,
    assert_batches_exact,
    assert_cycling,
    assert_epoch_counts,
    assert_time_order_cycling,
)
from strategies import batch_sizes, class_vectors, seeds

STRATEGY_CASES = [
    {"strategy": "oversample"},
    {"strategy": "undersample"},
    {"strategy": "balanced"},
    {"strategy": "balanced", "epoch_size": 101},
    {"alpha": 0.5},
    {"alpha": 0.0, "epoch_size": 77},
    {"alpha": progressive_alpha(3)},
]


def codes_of(y):
    return cb.encode_labels(y).codes.astype(np.int64)


@pytest.mark.parametrize("kwargs", STRATEGY_CASES, ids=lambda k: str(k))
class TestInvariantsEveryStrategy:
    @given(y=class_vectors(), seed=seeds)
    def test_epoch_holds_target_counts(self, kwargs, y, seed):
        """The epoch's class counts equal target_counts, and len matches."""
        sampler = cb.BalancedSampler(y, seed=seed, **kwargs)
        for epoch in (0, 2):
            plan = sampler.plan(epoch)
            targets = sampler.target_counts(epoch)
            assert len(plan) == targets.sum()
            assert_epoch_counts(codes_of(y), plan, targets)
        assert len(sampler) == len(list(sampler))

    @given(y=class_vectors(), seed=seeds)
    def test_cycling_within_class(self, kwargs, y, seed):
        """No member of a class repeats before all were used, across epochs too."""
        sampler = cb.BalancedSampler(y, seed=seed, **kwargs)
        assert_cycling(codes_of(y), sampler.plan(0))
        assert_time_order_cycling(codes_of(y), sampler.plan(0))
        assert_cycling(codes_of(y), np.concatenate([sampler.plan(e) for e in range(3)]))

    @given(y=class_vectors(), seed=seeds, batch_size=batch_sizes)
    def test_exact_batches(self, kwargs, y, seed, batch_size):
        """exact=True: every full batch holds each class at its share, plan unchanged as a set."""
        sampler = cb.BalancedSampler(y, seed=seed, **kwargs)
        plan = sampler.plan(0, batch_size=batch_size, exact=True)
        codes = codes_of(y)
        np.testing.assert_array_equal(np.sort(plan), np.sort(sampler.plan(0)))
        batches = [codes[plan[i : i + batch_size]] for i in range(0, len(plan), batch_size)]
        assert_batches_exact(batches, sampler.target_counts(0), batch_size)

    def test_reproducible_and_epochs_differ(self, kwargs, y_long_tail):
        """Same seed, same plan in two instances; another epoch, another plan."""
        a = cb.BalancedSampler(y_long_tail, seed=7, **kwargs)
        b = cb.BalancedSampler(y_long_tail, seed=7, **kwargs)
        np.testing.assert_array_equal(a.plan(3), b.plan(3))
        assert not np.array_equal(a.plan(0), a.plan(1))
        assert not np.array_equal(
            a.plan(0), cb.BalancedSampler(y_long_tail, seed=8, **kwargs).plan(0)
        )

    def test_string_and_int_labels_same_plan(self, kwargs, y_long_tail):
        """Plans depend on the class order, not on the label type."""
        names = np.array(["c0", "c1", "c2", "c3", "c4"])
        a = cb.BalancedSampler(y_long_tail, seed=3, **kwargs)
        b = cb.BalancedSampler(names[y_long_tail], seed=3, **kwargs)
        np.testing.assert_array_equal(a.plan(2), b.plan(2))

    def test_batches_balanced_on_average(self, kwargs, y_long_tail):
        """A uniform shuffle: per-batch counts stay within binomial tolerance."""
        sampler = cb.BalancedSampler(y_long_tail, seed=11, **kwargs)
        codes = codes_of(y_long_tail)
        plan = sampler.plan(0)
        batches = [codes[plan[i : i + 32]] for i in range(0, len(plan) - 31, 32)]
        assert_batches_balanced_on_average(batches, sampler.target_counts(0))


class TestStrategies:
    def test_oversample_targets(self):
        """Every class is raised to the largest."""
        y = np.array([0] * 10 + [1] * 3 + [2])
        assert cb.BalancedSampler(y).target_counts().tolist() == [10, 10, 10]

    def test_undersample_walks_through_majority(self):
        """Undersampling takes a fresh subset each epoch and covers the class in n/m epochs."""
        y = np.array([0] * 30 + [1] * 5)
        sampler = cb.BalancedSampler(y, "undersample", seed=0)
        seen = [set(p[y[p] == 0].tolist()) for p in (sampler.plan(e) for e in range(6))]
        assert all(len(s) == 5 for s in seen)
        assert set().union(*seen) == set(range(30))  # 6 epochs x 5 = all 30, no repeats

    def test_balanced_epoch_size(self):
        """'balanced' spreads epoch_size equally, remainder to random classes."""
        y = np.array([0] * 10 + [1] * 3 + [2])
        t = cb.BalancedSampler(y, "balanced", epoch_size=10, seed=0).target_counts()
        assert t.sum() == 10
        assert sorted(t.tolist()) == [3, 3, 4]

    def test_alpha_profiles(self):
        """alpha=1 keeps natural proportions, 0 balances, 0.5 is square-root."""
        y = np.array([0] * 100 + [1] * 25)
        assert cb.BalancedSampler(y, alpha=1.0).target_counts().tolist() == [100, 25]
        assert sorted(cb.BalancedSampler(y, alpha=0.0).target_counts().tolist()) == [62, 63]
        sqrt = cb.BalancedSampler(y, alpha=0.5, epoch_size=150).target_counts()
        assert sqrt.tolist() == [100, 50]

    def test_alpha_schedule(self):
        """A callable alpha changes the proportions epoch by epoch."""
        y = np.array([0] * 90 + [1] * 10)
        sampler = cb.BalancedSampler(y, alpha=progressive_alpha(3), seed=0)
        assert sampler.target_counts(0).tolist() == [90, 10]
        assert sampler.target_counts(2).tolist() == [50, 50]

    def test_dict_counts_and_fractions(self):
        """Ints are counts, floats shares of the epoch, unlisted classes unchanged."""
        y = np.array(["a"] * 50 + ["b"] * 10 + ["c"] * 5)
        sampler = cb.BalancedSampler(y, {"b": 30, "c": 0.2})
        assert sampler.target_counts().tolist() == [50, 30, 13]

    def test_callable_strategy(self):
        """A callable maps counts to targets."""
        y = np.array([0] * 8 + [1] * 2)
        sampler = cb.BalancedSampler(y, lambda counts: counts * 2)
        assert sampler.target_counts().tolist() == [16, 4]

    def test_seed_none_is_recorded(self):
        """seed=None draws a seed and exposes it so the run can be replayed."""
        y = np.array([0] * 8 + [1] * 2)
        a = cb.BalancedSampler(y)
        b = cb.BalancedSampler(y, seed=a.seed)
        np.testing.assert_array_equal(a.plan(4), b.plan(4))

    def test_generator_seed(self):
        """A numpy Generator is accepted and reproducible from its state."""
        y = np.array([0] * 8 + [1] * 2)
        a = cb.BalancedSampler(y, seed=np.random.default_rng(5))
        b = cb.BalancedSampler(y, seed=np.random.default_rng(5))
        assert a.seed == b.seed

    def test_set_epoch(self):
        """set_epoch selects the plan iteration follows."""
        y = np.array([0] * 8 + [1] * 2)
        sampler = cb.BalancedSampler(y, seed=1)
        sampler.set_epoch(5)
        assert list(sampler) == sampler.plan(5).tolist()

    def test_seed_epoch_do_not_collide(self):
        """(seed, epoch) = (0, 1) and (1, 0) give different plans (no seed + epoch)."""
        y = np.array([0] * 50 + [1] * 20)
        assert not np.array_equal(
            cb.BalancedSampler(y, seed=0).plan(1), cb.BalancedSampler(y, seed=1).plan(0)
        )

    def test_large_class_count(self):
        """Works for labels whose codes need uint16."""
        y = np.repeat(np.arange(300), 2)
        y = np.concatenate([y, np.zeros(10, int)])
        plan = cb.BalancedSampler(y, seed=0).plan()
        assert np.all(np.bincount(y[plan]) == 12)


class TestErrors:
    def test_single_class(self):
        """Balancing one class is refused."""
        with pytest.raises(ValueError, match="only one class"):
            cb.BalancedSampler([1, 1, 1])

    def test_unknown_strategy(self):
        """Unknown names list the valid ones."""
        with pytest.raises(ValueError, match="'oversample', 'undersample', 'balanced'"):
            cb.BalancedSampler([0, 1], "smote")

    @pytest.mark.parametrize("seed", [1.5, "1", True, -1])
    def test_bad_seed(self, seed):
        """Seeds must be ints >= 0, Generators or None."""
        with pytest.raises((TypeError, ValueError), match="seed"):
            cb.BalancedSampler([0, 1], seed=seed)

    def test_alpha_and_strategy(self):
        """alpha excludes strategy."""
        with pytest.raises(ValueError, match="either `strategy` or `alpha`"):
            cb.BalancedSampler([0, 1], "undersample", alpha=0.5)

    @pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan")])
    def test_alpha_range(self, alpha):
        """alpha must be within [0, 1]."""
        with pytest.raises(ValueError, match="alpha"):
            cb.BalancedSampler([0, 1], alpha=alpha)

    def test_dict_unknown_class(self):
        """A dict naming a class not in y is refused."""
        with pytest.raises(ValueError, match="class 'z'"):
            cb.BalancedSampler(["a", "b"], {"z": 3})

    def test_bad_epoch(self):
        """Epochs are non-negative ints."""
        with pytest.raises(ValueError, match="epoch"):
            cb.BalancedSampler([0, 1]).set_epoch(-1)


@given(y=class_vectors(max_classes=3), seed=seeds, epoch=st.integers(0, 20))
def test_plan_is_a_pure_function_of_seed_and_epoch(y, seed, epoch):
    """Asking epochs in any order gives the same plans (cached stream offsets are consistent)."""
    a = cb.BalancedSampler(y, alpha=progressive_alpha(5), seed=seed)
    b = cb.BalancedSampler(y, alpha=progressive_alpha(5), seed=seed)
    b.plan(epoch // 2)
    np.testing.assert_array_equal(a.plan(epoch), b.plan(epoch))


def test_same_plan_in_another_process(y_long_tail):
    """A fresh interpreter computes the identical plan from (seed, epoch)."""
    here = cb.BalancedSampler(y_long_tail, "undersample", seed=42).plan(3)
    code = (
        "import sys, numpy as np, classbalance as cb\n"
        "sys.path.insert(0, 'tests')\n"
        "from conftest import long_tailed_labels\n"
        "p = cb.BalancedSampler(long_tailed_labels(), 'undersample', seed=42).plan(3)\n"
        "print(','.join(map(str, p.tolist())))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ",".join(map(str, here.tolist()))


def test_iteration_moves_to_the_next_epoch():
    """Each pass over the sampler is a new epoch, as with the PyTorch samplers."""
    y = np.array([0] * 40 + [1] * 5)
    sampler = cb.BalancedSampler(y, "undersample", seed=0)
    first, second = list(sampler), list(sampler)
    assert first == sampler.plan(0).tolist()
    assert second == sampler.plan(1).tolist()
    assert sampler.epoch == 2
