"""stratified_split: the invariants of scikit-learn's stratified splitters, and more."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import classbalance as cb
from strategies import class_vectors, multihot_matrices, seeds

fractions = st.floats(0.05, 0.45)


def _quiet_split(y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return cb.stratified_split(y, **kwargs)


def _assert_partition(parts, n):
    joined = np.concatenate(parts)
    assert joined.shape[0] == n, "splits must cover every sample exactly once"
    assert np.array_equal(np.sort(joined), np.arange(n))
    for p in parts:
        assert p.dtype.kind == "i"
        assert np.all(np.diff(p) > 0), "each split is sorted ascending"


def _assert_labels_kept(y, parts):
    """Labels with >= 2 positives are in training and validation; with >= 3 also in test."""
    positives = y.sum(axis=0)
    for s, part in enumerate(parts):
        needed = positives >= (3 if s == 2 else 2)
        missing = np.flatnonzero(needed & (y[part].sum(axis=0) == 0))
        assert missing.size == 0, f"split {s} lacks labels {missing.tolist()}"


class TestPartition:
    @given(class_vectors(), fractions, st.none() | fractions.map(lambda f: f / 2), seeds)
    def test_disjoint_and_covering(self, y, val, test, seed):
        """Train, val (and test) are disjoint and cover range(n)."""
        assume(len(y) >= 8)
        parts = _quiet_split(y, val_size=val, test_size=test, seed=seed)
        assert len(parts) == (2 if test is None else 3)
        _assert_partition(parts, len(y))

    @given(class_vectors(), fractions, seeds)
    def test_every_class_in_train_and_val(self, y, val, seed):
        """A class with >= 2 members is in both train and val; a singleton is in train."""
        assume(len(y) >= 4)
        train, val_idx = _quiet_split(y, val_size=val, seed=seed)
        classes, counts = np.unique(y, return_counts=True)
        in_train = np.isin(classes, y[train])
        in_val = np.isin(classes, y[val_idx])
        assert in_train.all()
        assert in_val[counts >= 2].all()
        assert not in_val[counts == 1].any()

    @given(class_vectors(max_count=80), fractions, fractions.map(lambda f: f / 2), seeds)
    def test_test_split_keeps_classes(self, y, val, test, seed):
        """With a test split, classes with >= 3 members are in all three splits."""
        assume(len(y) >= 12)
        parts = _quiet_split(y, val_size=val, test_size=test, seed=seed)
        classes, counts = np.unique(y, return_counts=True)
        for p in parts:
            assert np.isin(classes[counts >= 3], y[p]).all()

    @given(class_vectors(max_count=200), fractions, seeds)
    def test_sizes_and_class_ratios(self, y, val, seed):
        """The requested size is met exactly when the per-class minimums allow it, and each
        class's val count is near its exact share (within 1 when no minimum is binding)."""
        n = len(y)
        assume(n >= 10)
        _train, val_idx = _quiet_split(y, val_size=val, seed=seed)
        n_val = int(np.ceil(val * n - 1e-9))
        classes, counts = np.unique(y, return_counts=True)
        got = np.array([np.sum(y[val_idx] == c) for c in classes])
        low = (counts >= 2).astype(int)
        high = np.maximum(counts - 1, 0)
        if low.sum() <= n_val <= high.sum():
            assert got.sum() == n_val
        raw = counts * n_val / n
        exact = np.clip(raw, low, high)
        assert np.all((got >= low) & (got <= high))
        # Samples forced by the minimums come from the other classes, spread over them.
        forced = np.abs(exact - raw).sum()
        spread = np.ceil(forced / max(1, int(np.sum((exact > low) & (exact < high)))))
        assert np.all(np.abs(got - exact) < 1 + spread + 1e-9)
        if np.all((counts * n_val / n >= 1) & (counts * n_val / n <= counts - 1)):
            assert np.all(np.abs(got - counts * n_val / n) < 1)

    def test_counts_as_sizes(self):
        """Integer sizes are sample counts, met exactly."""
        y = np.repeat([0, 1, 2], [500, 300, 200])
        train, val, test = cb.stratified_split(y, val_size=100, test_size=50, seed=0)
        assert (len(train), len(val), len(test)) == (850, 100, 50)
        assert np.bincount(y[val]).tolist() == [50, 30, 20]

    def test_tie_breaks_are_fair(self):
        """Which class gets a tied remainder is decided by the seed, not by class order."""
        y = np.repeat([0, 1, 2], 5)  # exact share 1.666 each for val_size=5 ... ties
        winners = np.zeros(3)
        for seed in range(300):
            _, val = cb.stratified_split(y, val_size=4, seed=seed)
            winners += np.bincount(y[val], minlength=3) == 2
        assert winners.sum() == 300
        assert winners.min() > 60  # each class wins about 100 times

    def test_every_index_equally_likely(self):
        """Within a class each sample lands in validation equally often."""
        y = np.array([0] * 10 + [1] * 5)
        hits = np.zeros(15)
        runs = 1000
        for seed in range(runs):
            _, val = cb.stratified_split(y, val_size=0.2, seed=seed)
            hits[val] += 1
        expected = np.array([0.2] * 10 + [0.2] * 5) * runs
        sd = np.sqrt(runs * 0.2 * 0.8)
        assert np.all(np.abs(hits - expected) < 5 * sd)


class TestReproducibility:
    @given(class_vectors(), seeds)
    def test_seed_reproducible(self, y, seed):
        """The same seed gives the same split; a Generator is accepted."""
        assume(len(y) >= 6)
        a = _quiet_split(y, val_size=0.3, seed=seed)
        b = _quiet_split(y, val_size=0.3, seed=seed)
        for p, q in zip(a, b):
            assert np.array_equal(p, q)

    def test_different_seeds_differ(self):
        """Different seeds give different validation sets on a non-trivial problem."""
        y = np.repeat([0, 1], [300, 100])
        vals = {tuple(cb.stratified_split(y, seed=s)[1]) for s in range(5)}
        assert len(vals) == 5

    @given(class_vectors(), seeds)
    def test_int_and_string_labels_identical(self, y, seed):
        """Relabelling that keeps the sort order (ints -> zero-padded strings) changes nothing."""
        assume(len(y) >= 6)
        as_str = np.char.add("c", np.char.zfill((y + 10).astype(str), 6))
        a = _quiet_split(y, val_size=0.25, seed=seed)
        b = _quiet_split(as_str, val_size=0.25, seed=seed)
        c = _quiet_split(pd.Series(as_str), val_size=0.25, seed=seed)
        for p, q, r in zip(a, b, c):
            assert np.array_equal(p, q)
            assert np.array_equal(p, r)

    def test_one_hot_equals_class_vector(self):
        """A one-hot y splits like its class vector."""
        y = np.repeat([0, 1, 2], [40, 15, 5])
        a = cb.stratified_split(y, seed=3)
        b = cb.stratified_split(np.eye(3)[y], seed=3)
        for p, q in zip(a, b):
            assert np.array_equal(p, q)


class TestSmallClasses:
    def test_singleton_goes_to_train_with_warning(self):
        """A one-member class goes to training and the warning names it."""
        y = np.array(["a"] * 10 + ["b"] * 4 + ["rare"])
        with pytest.warns(UserWarning, match=r"\['rare'\] have a single sample"):
            train, val = cb.stratified_split(y, val_size=0.2, seed=0)
        assert 14 in train
        assert 14 not in val

    def test_two_member_class_split_across(self):
        """A two-member class has one sample in train and one in val, however small val is."""
        y = np.array([0] * 98 + [1] * 2)
        train, val = cb.stratified_split(y, val_size=0.01, seed=1)
        assert np.sum(y[val] == 1) == 1
        assert np.sum(y[train] == 1) == 1


class TestGroups:
    @given(class_vectors(max_count=50), st.integers(1, 6), seeds)
    def test_no_group_spans_two_splits(self, y, group_size, seed):
        """Every group is entirely in one split; the splits still partition the samples."""
        assume(len(y) >= 10)
        groups = np.arange(len(y)) // group_size
        parts = _quiet_split(y, val_size=0.3, test_size=0.2, groups=groups, seed=seed)
        _assert_partition(parts, len(y))
        owner = [set(groups[p].tolist()) for p in parts]
        assert not (owner[0] & owner[1])
        assert not (owner[0] & owner[2])
        assert not (owner[1] & owner[2])

    @pytest.mark.parametrize("seed", range(5))
    def test_proportions_close_with_many_groups(self, seed):
        """With many small groups each class is split close to the requested fractions: far
        closer than whole groups drawn at random (GroupShuffleSplit is off by 0.009 to 0.025
        here, a 5-sigma miss for the rarest class)."""
        rng = np.random.default_rng(seed)
        y = rng.choice(4, size=4000, p=[0.55, 0.25, 0.15, 0.05])
        groups = rng.integers(0, 800, size=4000)
        _train, val = cb.stratified_split(y, val_size=0.2, groups=groups, seed=seed)
        share = np.bincount(y[val], minlength=4) / np.bincount(y, minlength=4)
        assert np.all(np.abs(share - 0.2) < 0.006), share
        assert abs(len(val) / len(y) - 0.2) < 0.006

    def test_string_groups_and_missing(self):
        """Groups may be strings; a missing group is an error naming its position."""
        y = np.repeat([0, 1], 10)
        groups = np.array([f"patient {i % 7}" for i in range(20)], dtype=object)
        train, val = cb.stratified_split(y, groups=groups, seed=0)
        assert not set(groups[train]) & set(groups[val])
        groups[3] = None
        with pytest.raises(ValueError, match=r"missing value.*position 3"):
            cb.stratified_split(y, groups=groups, seed=0)


class TestMultiLabel:
    @given(multihot_matrices(), seeds, st.booleans())
    def test_partition_and_labels_kept(self, y, seed, with_test):
        """Multi-hot y: splits partition the rows, reproducibly; every label with >= 2
        positives has positives in training and in validation, and with >= 3 in test (the
        single-label minimums)."""
        test_size = 0.15 if with_test else None
        parts = _quiet_split(y, val_size=0.25, test_size=test_size, seed=seed)
        _assert_partition(parts, len(y))
        again = _quiet_split(y, val_size=0.25, test_size=test_size, seed=seed)
        for p, q in zip(parts, again):
            assert np.array_equal(p, q)
        _assert_labels_kept(y, parts)

    def test_label_with_five_positives_in_validation(self):
        """A label with 5 positives in 20 rows has one in a 5-row validation split (found by
        Hypothesis: before the repair pass, iterative stratification put none of the 5 there)."""
        y = np.zeros((20, 4), dtype=np.int64)
        for row, labels in {
            0: [0, 1, 2, 3],
            1: [1, 2, 3],
            3: [0, 1],
            5: [0],
            7: [1, 2, 3],
            8: [3],
            9: [2],
            10: [0, 1, 3],
            11: [3],
            15: [2, 3],
            16: [0, 2],
            18: [3],
            19: [0],
        }.items():
            y[row, labels] = 1
        parts = _quiet_split(y, val_size=0.25, test_size=0.15, seed=28)
        assert y[:, 1].sum() == 5
        assert y[parts[1], 1].sum() > 0
        assert [len(p) for p in parts] == [12, 5, 3]  # the sizes asked for, exactly
        _assert_labels_kept(y, parts)

    @pytest.mark.parametrize(
        ("problem", "test_size"),
        [(389, None), (374, None), (413, None), (53, 0.15), (151, 0.15)],
    )
    def test_regression_seeds_that_missed_a_label(self, problem, test_size):
        """Problems where iterative stratification alone left a label out of validation
        (label with 2 positives) or test (3 positives): now every split holds it, at the
        requested sizes."""
        rng = np.random.default_rng(problem)
        k, n = rng.integers(2, 6), rng.integers(20, 121)
        y = (rng.random((n, k)) < rng.uniform(0.1, 0.6, size=k)).astype(np.int64)
        y[0] = 1
        parts = _quiet_split(y, val_size=0.25, test_size=test_size, seed=problem)
        _assert_partition(parts, n)
        expected_sizes = [int(np.ceil(0.25 * n - 1e-9))]
        if test_size is not None:
            expected_sizes.append(int(np.ceil(test_size * n - 1e-9)))
        assert [len(p) for p in parts[1:]] == expected_sizes
        _assert_labels_kept(y, parts)

    @pytest.mark.parametrize("split", [0, 1, 2], ids=["train", "val", "test"])
    def test_label_ratios_beat_a_random_split(self, split):
        """Each label's count in each split is far closer to its exact share than a random
        split gets: in units of the random split's standard deviation, the mean absolute
        deviation over 30 problems is below 0.4 (a random split: about 0.8, and below 0.66
        in none of 300 simulated runs)."""
        scores = []
        for seed in range(30):
            rng = np.random.default_rng(seed)
            y = (rng.random((150, 4)) < rng.uniform(0.1, 0.6, size=4)).astype(np.int64)
            part = _quiet_split(y, val_size=0.25, test_size=0.15, seed=seed)[split]
            n, m = y.shape[0], part.shape[0]
            positives = y.sum(axis=0)
            expected = positives * m / n
            # Hypergeometric standard deviation of a label's count in m random rows.
            sd = np.sqrt(expected * (1 - m / n) * (n - positives) / (n - 1))
            scores.append(np.mean(np.abs(y[part].sum(axis=0) - expected) / sd))
        assert np.mean(scores) < 0.4, np.mean(scores)

    def test_missing_package_names_the_extra(self, monkeypatch):
        """Without iterative-stratification the error says which extra to install."""
        monkeypatch.setitem(sys.modules, "iterstrat", None)
        monkeypatch.setitem(sys.modules, "iterstrat.ml_stratifiers", None)
        y = np.array([[1, 1], [0, 1], [1, 0], [1, 1]] * 5)
        with pytest.raises(ImportError, match=r"classbalance\[multilabel\]"):
            cb.stratified_split(y, seed=0)

    def test_multilabel_with_groups_refused(self):
        """groups with multi-hot y is refused with a message."""
        y = np.array([[1, 1], [0, 1], [1, 0], [1, 1]] * 5)
        with pytest.raises(ValueError, match="not supported with multi-hot"):
            cb.stratified_split(y, groups=np.arange(20), seed=0)


class TestValidation:
    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"val_size": 0.0}, r"`val_size` as a fraction must be in \(0, 1\)"),
            ({"val_size": 1.5}, "Received: val_size=1.5"),
            ({"val_size": True}, "Received: val_size=True"),
            ({"val_size": 100}, r"count must be in \[1, 19\]"),
            ({"val_size": "0.2"}, "fraction in"),
            ({"val_size": 0.6, "test_size": 0.5}, "leaving none for training"),
            ({"groups": np.arange(3)}, "one entry per sample"),
        ],
    )
    def test_bad_arguments(self, kwargs, match):
        """Bad sizes and groups are refused with a message naming the argument."""
        y = np.repeat([0, 1], 10)
        with pytest.raises(ValueError, match=match):
            cb.stratified_split(y, **kwargs)

    def test_bad_seed(self):
        """A float seed is refused."""
        with pytest.raises(TypeError, match="`seed` must be"):
            cb.stratified_split([0, 1, 0, 1], seed=1.5)

    def test_lazy_public_name(self):
        """stratified_split is public and lazily imported."""
        from classbalance.split import stratified_split

        assert cb.stratified_split is stratified_split
        assert "stratified_split" in cb.__all__
