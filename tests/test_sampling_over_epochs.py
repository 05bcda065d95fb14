"""The sampling engine stays random *across* epochs and cycles, not only within one plan.

Each test here was written against a deliberate bug that the rest of the suite let
through (benchmarks/mutation_check.py): a shuffle that ignores the epoch (every epoch's
batches hold the same classes in the same places), one permutation repeated for every
cycle through a class, and rounding ties broken the same way every epoch (one class
always gets the extra sample).
"""

from __future__ import annotations

import numpy as np

import classbalance as cb


def test_class_sequence_differs_between_epochs():
    """Oversampling: the order of classes in the plan is new in each of 5 epochs."""
    y = np.repeat([0, 1, 2], [200, 30, 5])
    sampler = cb.BalancedSampler(y, strategy="oversample", seed=0)
    sequences = {y[sampler.plan(e)].tobytes() for e in range(5)}
    assert len(sequences) == 5


def test_every_cycle_through_a_class_is_a_fresh_permutation():
    """400 cycles through a 50-member class (10 epochs of 40) are 400 different orders.

    Repeats among 400 random permutations of 50 items have probability about 1e-60.
    """
    y = np.repeat([0, 1], [2000, 50])
    sampler = cb.BalancedSampler(y, strategy="oversample", seed=0)
    stream = np.concatenate([sampler.class_plans(e)[1] for e in range(10)])
    cycles = stream.reshape(400, 50)
    assert (np.sort(cycles, axis=1) == np.flatnonzero(y == 1)).all()  # each a permutation
    assert len(np.unique(cycles, axis=0)) == 400


def test_rounding_ties_rotate_over_epochs():
    """10 samples per epoch over 3 classes: the extra sample goes to a random class each
    epoch, so over 300 epochs every class gets about 1,000 (900 + Binomial(300, 1/3),
    standard deviation 8; the bound is 6 of them)."""
    y = np.repeat([0, 1, 2], [50, 20, 5])
    sampler = cb.BalancedSampler(y, strategy="balanced", epoch_size=10, seed=0)
    totals = np.sum([sampler.target_counts(e) for e in range(300)], axis=0)
    assert totals.sum() == 3000
    assert np.abs(totals - 1000).max() <= 50
