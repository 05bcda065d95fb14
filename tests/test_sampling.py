"""BalancedSampler: the shared invariant suite over every strategy; multi-label plans and the
adapters serving them."""

from __future__ import annotations

import hashlib
import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import classbalance as cb
from classbalance import _plan_parts
from classbalance._plan_parts import group_positives
from classbalance.labels import encode_multilabel
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


# ------------------------------------------------------------------ multi-label plans
def long_tailed(n=600, k=6, seed=0):
    """Multi-hot labels with label l present at rate 0.5 / 2**l; some rows unlabeled."""
    rng = np.random.default_rng(seed)
    rates = 0.5 / 2.0 ** np.arange(k)
    Y = (rng.random((n, k)) < rates).astype(np.uint8)
    Y[:20, -1] = 1  # the rarest label has at least 20 positives
    return Y


def positives(Y, label):
    return set(np.flatnonzero(Y[:, label]).tolist())


class TestMultiLabelPlans:
    def test_positives_grouped_by_label_in_row_order(self, monkeypatch):
        """The counting sort over blocks of rows equals a per-label nonzero, for many blocks
        and for more than 256 labels."""
        rng = np.random.default_rng(1)
        for n, k, block in [(1000, 5, 64), (257, 300, 50), (70, 3, 1 << 16)]:
            monkeypatch.setattr(_plan_parts, "_PAIR_ROWS", block)
            Y = (rng.random((n, k)) < 0.1).astype(np.uint8)
            Y[0, :] = 1
            counts = Y.sum(0, dtype=np.int64)
            order, unlabeled = group_positives(Y, counts, np.int32)
            expected = np.concatenate([np.flatnonzero(Y[:, j]) for j in range(k)])
            np.testing.assert_array_equal(order, expected)
            assert unlabeled == int((Y.sum(1) == 0).sum())

    def test_default_is_class_aware(self):
        """Equal draws per label at n_samples draws; each label's draws are its positives."""
        Y = long_tailed()
        s = cb.BalancedSampler(Y, multilabel=True, seed=0)
        targets = s.target_counts()
        assert s.strategy == "balanced"
        assert targets.sum() == len(s) == len(Y)
        assert targets.max() - targets.min() <= 1
        for label, piece in enumerate(s.class_plans()):
            assert len(piece) == targets[label]
            assert set(piece.tolist()) <= positives(Y, label)
        plan = s.plan()
        parts = np.concatenate(s.class_plans())
        np.testing.assert_array_equal(np.sort(plan), np.sort(parts))

    def test_streams_cycle_fresh_permutations_within_each_label(self):
        """Over epochs, every n_l consecutive draws of label l are all its positives."""
        Y = long_tailed()
        s = cb.BalancedSampler(Y, multilabel=True, seed=3)
        draws = [np.concatenate([s.class_plans(e)[lab] for e in range(6)]) for lab in range(6)]
        for label, stream in enumerate(draws):
            n_l = len(positives(Y, label))
            full = len(stream) // n_l
            assert full >= 1 or label < 2
            for c in range(full):
                assert set(stream[c * n_l : (c + 1) * n_l].tolist()) == positives(Y, label)
            perms = [tuple(stream[c * n_l : (c + 1) * n_l]) for c in range(full)]
            assert full < 2 or len(set(perms)) > 1  # fresh permutations, not one repeated

    def test_one_label_per_row_equals_single_label_plans(self):
        """With exactly one label per row, multi-label plans are the single-label ones,
        exact batches included: the same engine, the same random streams."""
        codes = np.repeat(np.arange(4), [40, 12, 5, 3])
        np.random.default_rng(0).shuffle(codes)
        Y = np.eye(4, dtype=np.uint8)[codes]
        for kw in [{}, {"alpha": 0.5}, {"epoch_size": 33}]:
            ml = cb.BalancedSampler(Y, multilabel=True, seed=5, **kw)
            sl = cb.BalancedSampler(
                codes, "balanced" if not kw.get("alpha") else None, seed=5, **kw
            )
            for e in range(3):
                np.testing.assert_array_equal(ml.plan(e), sl.plan(e))
                np.testing.assert_array_equal(
                    ml.plan(e, batch_size=8, exact=True), sl.plan(e, batch_size=8, exact=True)
                )

    def test_alpha_strategies_and_label_names(self):
        Y = long_tailed()
        counts = Y.sum(0)
        natural = cb.BalancedSampler(Y, multilabel=True, alpha=1.0, seed=0).target_counts()
        np.testing.assert_allclose(natural / natural.sum(), counts / counts.sum(), atol=0.01)
        over = cb.BalancedSampler(Y, "oversample", multilabel=True, seed=0)
        assert over.target_counts().tolist() == [counts.max()] * 6
        names = list("abcdef")
        named = cb.BalancedSampler(Y, {"f": 50}, multilabel=True, classes=names, seed=0)
        assert named.target_counts().tolist() == [*counts[:5].tolist(), 50]
        sets = [{names[j] for j in np.flatnonzero(row)} for row in Y]
        from_sets = cb.BalancedSampler(sets, multilabel=True, classes=names, seed=0)
        np.testing.assert_array_equal(
            from_sets.plan(), cb.BalancedSampler(Y, multilabel=True, seed=0).plan()
        )

    def test_encoded_labels_need_no_flag_and_pickle(self):
        Y = long_tailed()
        s = cb.BalancedSampler(encode_multilabel(Y), seed=2)
        assert s.multilabel
        clone = pickle.loads(pickle.dumps(s))
        np.testing.assert_array_equal(clone.plan(4), s.plan(4))

    def test_iteration_serves_epochs(self):
        Y = long_tailed()
        s = cb.BalancedSampler(Y, multilabel=True, seed=0)
        first, second = list(s), list(s)
        assert first == s.plan(0).tolist()
        assert second == s.plan(1).tolist()
        assert first != second


class TestMultiLabelBadInput:
    def test_label_without_positives_is_reported_never_drawn(self):
        Y = long_tailed()
        Y[:, 2] = 0
        with pytest.warns(UserWarning, match=r"1 label\(s\) have no positive sample.*\[2\]"):
            s = cb.BalancedSampler(Y, multilabel=True, seed=0)
        assert s.empty_labels == [2]
        assert s.target_counts()[2] == 0
        assert len(s.class_plans()[2]) == 0

    def test_unlabeled_rows_are_never_drawn(self):
        Y = long_tailed()
        unlabeled = np.flatnonzero(Y.sum(1) == 0)
        assert len(unlabeled) > 0
        s = cb.BalancedSampler(Y, multilabel=True, seed=0)
        assert s.n_unlabeled == len(unlabeled)
        drawn = np.concatenate([s.plan(e) for e in range(5)])
        assert not np.isin(drawn, unlabeled).any()

    def test_no_positive_at_all(self):
        with pytest.raises(ValueError, match="no positive label in any of its 5 rows"):
            cb.BalancedSampler(np.zeros((5, 3)), multilabel=True)

    def test_non_binary_values(self):
        Y = long_tailed().astype(float)
        Y[3, 1] = 0.7
        with pytest.raises(ValueError, match=r"0\.7"):
            cb.BalancedSampler(Y, multilabel=True)

    def test_single_label_entry_points_name_the_flag(self):
        Y = long_tailed()
        with pytest.raises(ValueError, match="multilabel=True"):
            cb.BalancedSampler(Y)
        with pytest.raises(ValueError, match="multilabel=True"):
            cb.BalancedBatches(np.arange(len(Y)), Y, 8)

    def test_flag_must_be_bool(self):
        with pytest.raises(TypeError, match="multilabel"):
            cb.BalancedSampler(long_tailed(), multilabel="yes")

    def test_single_label_options_are_refused(self):
        Y = long_tailed()
        x = np.arange(len(Y))
        with pytest.raises(ValueError, match="class_weight"):
            cb.BalancedBatches(x, Y, 8, multilabel=True, class_weight="balanced")
        with pytest.raises(ValueError, match="y_format"):
            cb.BalancedBatches(x, Y, 8, multilabel=True, y_format="sparse")


# ------------------------------------------------------------------ adapters
def _plan(Y, seed, epoch, **kw):
    return cb.BalancedSampler(Y, multilabel=True, seed=seed).plan(epoch, **kw)


class TestMultiLabelAdapters:
    """Every adapter serves exactly the engine's multi-label plans, epoch after epoch."""

    def test_balanced_batches(self):
        Y = long_tailed()
        x = np.arange(len(Y))
        b = cb.BalancedBatches(x, Y, 16, multilabel=True, seed=4)
        for e in range(2):
            served = list(b)
            np.testing.assert_array_equal(np.concatenate([xb for xb, _ in served]), _plan(Y, 4, e))
            np.testing.assert_array_equal(
                np.concatenate([yb for _, yb in served]), Y[_plan(Y, 4, e)]
            )
        exact = cb.BalancedBatches(x, Y, 12, multilabel=True, exact=True, seed=4)
        np.testing.assert_array_equal(exact.plan(0), _plan(Y, 4, 0, batch_size=12, exact=True))

    def test_keras_pydataset_fit(self):
        keras = pytest.importorskip("keras")
        from classbalance.keras import BalancedPyDataset

        Y = long_tailed()
        x = np.random.default_rng(0).random((len(Y), 4)).astype("float32")
        data = BalancedPyDataset(x, Y.astype("float32"), 32, multilabel=True, seed=1)
        assert len(data) == -(-len(Y) // 32)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(Y.shape[1])])
        model.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
        history = model.fit(data, epochs=2, verbose=0)
        assert np.isfinite(history.history["loss"]).all()

    def test_torch_samplers(self):
        torch = pytest.importorskip("torch")
        from classbalance.torch import (
            ArrayDataset,
            BalancedBatchSampler,
            BalancedSampler,
            DistributedBalancedBatchSampler,
        )

        Y = long_tailed()
        s = BalancedSampler(torch.from_numpy(Y), multilabel=True, seed=6)
        assert list(s) == _plan(Y, 6, 0).tolist()
        tensors = torch.utils.data.TensorDataset(torch.zeros(len(Y), 1), torch.from_numpy(Y))
        from_dataset = BalancedSampler(tensors, multilabel=True, seed=6)  # labels_of reads Y
        assert list(from_dataset) == _plan(Y, 6, 0).tolist()
        ds = ArrayDataset(np.arange(len(Y)), Y)
        bs = BalancedBatchSampler(Y, 10, multilabel=True, seed=6, indices="tensor")
        loader = torch.utils.data.DataLoader(
            ds, batch_sampler=bs, collate_fn=torch.utils.data.default_convert
        )
        for e in range(2):
            got = torch.cat([xb for xb, _ in loader]).numpy()
            np.testing.assert_array_equal(got, _plan(Y, 6, e))
        ranks = [
            list(
                DistributedBalancedBatchSampler(
                    Y, 10, num_replicas=2, rank=r, multilabel=True, seed=6, exact=True
                )
            )
            for r in range(2)
        ]
        # Global batch b is served by rank b % 2: interleaving the ranks rebuilds the plan.
        interleaved = np.concatenate([np.asarray(b) for pair in zip(*ranks) for b in pair])
        plan = _plan(Y, 6, 0, batch_size=10, exact=True)
        np.testing.assert_array_equal(interleaved, plan[: len(interleaved)])
        assert len(interleaved) == len(plan) // 20 * 20

    def test_tf_balanced_dataset(self):
        pytest.importorskip("tensorflow")
        from classbalance.tf import balanced_dataset

        Y = long_tailed()
        ds = balanced_dataset(np.arange(len(Y)), Y, 32, multilabel=True, seed=8)
        for e in range(2):
            got = np.concatenate([xb.numpy() for xb, _ in ds])
            np.testing.assert_array_equal(got, _plan(Y, 8, e))


def test_same_multilabel_plans_in_a_fresh_process(tmp_path):
    """The plan depends only on (seed, epoch): a new interpreter builds the same one."""
    np.save(tmp_path / "Y.npy", long_tailed())
    code = (
        "import hashlib, json, sys, numpy as np, classbalance as cb;"
        "s = cb.BalancedSampler(np.load(sys.argv[1]), multilabel=True, seed=11);"
        "print(json.dumps([hashlib.sha256(s.plan(e).tobytes()).hexdigest() for e in range(3)]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "Y.npy")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    s = cb.BalancedSampler(long_tailed(), multilabel=True, seed=11)
    here = [hashlib.sha256(s.plan(e).tobytes()).hexdigest() for e in range(3)]
    assert json.loads(out) == here
