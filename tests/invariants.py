"""One invariant suite for every sampler and adapter.

Each check takes the *labels* of what a sampler or batch source produced, so
the same functions serve BalancedSampler, BalancedBatches, the seed
generator and (later) the torch and tf.data adapters.
"""

from __future__ import annotations

import numpy as np


def assert_epoch_counts(y_codes: np.ndarray, plan: np.ndarray, targets: np.ndarray) -> None:
    """The epoch holds exactly the target count of each class."""
    got = np.bincount(y_codes[plan], minlength=len(targets))
    np.testing.assert_array_equal(got, targets)


def assert_cycling(y_codes: np.ndarray, plan: np.ndarray) -> None:
    """Within a class, no member repeats before every member was used once.

    ``plan`` is epochs 0..e concatenated: each class's stream of permutations
    runs on across epochs, so over them each member of class c appears
    floor(t/n) or ceil(t/n) times.
    """
    counts = np.bincount(y_codes, minlength=y_codes.max() + 1)
    seen = np.bincount(plan, minlength=len(y_codes))
    for c in np.flatnonzero(counts):
        members = np.flatnonzero(y_codes == c)
        times = seen[members]
        assert times.max() - times.min() <= 1, (c, times.min(), times.max())


def assert_time_order_cycling(y_codes: np.ndarray, plan: np.ndarray) -> None:
    """In the order of the plan (epoch 0), each class's members come in fresh rounds.

    The first n_c occurrences of class c are n_c distinct members, the next
    n_c again, and so on: no repeat before every member was used.
    """
    classes_in_order = y_codes[plan]
    for c in np.unique(y_codes):
        n_c = int(np.sum(y_codes == c))
        members = plan[classes_in_order == c]
        for start in range(0, len(members), n_c):
            window = members[start : start + n_c]
            assert len(np.unique(window)) == len(window), (c, start)


def assert_batches_balanced_on_average(
    batch_codes: list[np.ndarray], targets: np.ndarray, z: float = 5.0
) -> None:
    """Per-batch class counts stay within z standard deviations of the expectation.

    With a uniform shuffle, a batch of size b drawn from an epoch with class
    share p holds Binomial(b, p) of the class (hypergeometric, slightly
    tighter); 5 sigma over a few hundred batches almost never fails by chance.
    """
    share = targets / targets.sum()
    for codes in batch_codes:
        b = len(codes)
        got = np.bincount(codes, minlength=len(targets))
        sd = np.sqrt(b * share * (1 - share))
        assert np.all(np.abs(got - b * share) <= z * sd + 1), (got, b * share)


def assert_batches_exact(
    batch_codes: list[np.ndarray], targets: np.ndarray, batch_size: int
) -> None:
    """Every full batch holds each class at its exact share.

    Equal targets: each class floor(b/K) or ceil(b/K) times. Unequal targets
    (alpha, dicts): within two samples of b * share.
    """
    share = targets / targets.sum()
    present = targets > 0
    equal = np.all(targets[present] == targets[present][0])
    for codes in batch_codes:
        if len(codes) != batch_size:
            continue
        got = np.bincount(codes, minlength=len(targets))
        want = batch_size * share
        if equal:
            assert np.all(got[present] >= np.floor(want[present])), (got, want)
            assert np.all(got[present] <= np.ceil(want[present])), (got, want)
        else:
            assert np.all(np.abs(got - want) < 2), (got, want)


def assert_ranks_share_plan(rank_indices: list[np.ndarray], plan: np.ndarray) -> None:
    """Ranks split one epoch's plan: no rank takes an entry of the plan another rank took.

    As multisets, all ranks' indices together fit inside the plan, so an index
    the plan holds once (every index under undersampling) is on one rank only.
    """
    union = np.concatenate(rank_indices)
    n = int(max(union.max(initial=0), plan.max(initial=0))) + 1
    excess = np.bincount(union, minlength=n) - np.bincount(plan, minlength=n)
    assert np.all(excess <= 0), np.flatnonzero(excess > 0)[:10]
