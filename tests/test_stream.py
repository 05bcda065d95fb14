"""BalancedStream (classbalance.stream) and the repeat-factor strategy of the engine."""

from __future__ import annotations

import itertools
import pickle
import warnings
from collections.abc import Sequence

import numpy as np
import pytest

import classbalance as cb
from classbalance.sampling import alpha_shares, repeat_factor
from classbalance.stream import BalancedStream, count_labels

K = 10
RATIO = 100


def long_tail(n_head=2000, k=K, ratio=RATIO, seed=0):
    """(index, class) pairs, class c with n_head * ratio**(-c/(k-1)) samples, shuffled."""
    counts = np.round(n_head * ratio ** (-np.arange(k) / (k - 1))).astype(int)
    y = np.repeat(np.arange(k), counts)
    np.random.default_rng(seed).shuffle(y)
    return list(enumerate(y.tolist())), counts


class Reiterable:
    """An iterable without random access (each pass calls iter)."""

    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)


class CountingSequence(Sequence):
    """A random-access input that records which positions were read."""

    def __init__(self, items, reads):
        self.items, self.reads = items, reads

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        self.reads.append(i)
        return self.items[i]


def served_classes(items):
    return np.bincount([c for _, c in items], minlength=K)


class TestShares:
    @pytest.mark.parametrize(
        ("kwargs", "target"),
        [
            ({"strategy": "balanced"}, np.full(K, 1 / K)),
            ({"alpha": 0.5}, None),
            ({"strategy": {0: 0.5, 9: 0.2}}, None),
        ],
    )
    def test_served_shares_follow_the_engine_targets(self, kwargs, target):
        data, counts = long_tail()
        stream = BalancedStream(
            data, label=1, class_counts=counts, buffer_size=2000, seed=0, **kwargs
        )
        if target is None:
            engine = cb.BalancedSampler(cb.EncodedLabels.from_counts(counts), seed=0, **kwargs)
            target = engine.target_counts() / engine.target_counts().sum()
        if "alpha" in kwargs:
            np.testing.assert_allclose(target, alpha_shares(counts, 0.5), atol=1e-3)
        got = served_classes(list(stream))
        np.testing.assert_allclose(got / got.sum(), target, atol=0.02)
        stats = stream.stats()
        assert stats["read"] == len(data)
        assert stats["buffer_held"] == 0  # flushed at the end of the pass
        np.testing.assert_allclose(list(stats["served_shares"].values()), got / got.sum())

    def test_each_sample_read_once_and_head_thinned_tail_repeated(self):
        data, counts = long_tail()
        reads = []
        stream = BalancedStream(
            data,
            label=lambda s: reads.append(s[0]) or s[1],
            strategy="balanced",
            class_counts=counts,
            seed=1,
        )
        out = list(stream)
        assert sorted(reads) == list(range(len(data)))  # every input sample read once
        stats = stream.stats()
        assert 0.9 < stats["read_per_served"] < 1.1
        ids = np.array([i for i, _ in out])
        copies = np.bincount(ids, minlength=len(data))
        y = np.array([c for _, c in data])
        mean = np.array([copies[y == c].mean() for c in range(K)])
        np.testing.assert_allclose(mean, (len(data) / K) / counts, rtol=0.15)
        assert stats["max_repeats"] == copies.max() == np.ceil(len(data) / K / counts[-1])

    def test_repeats_are_spread_by_the_buffer(self):
        data, counts = long_tail()

        def median_distance(buffer_size):
            stream = BalancedStream(
                data,
                label=1,
                strategy="balanced",
                class_counts=counts,
                buffer_size=buffer_size,
                seed=2,
            )
            list(stream)
            return stream.stats()["median_repeat_distance"]

        # Without a buffer the copies of a sample are adjacent; the buffer spreads them
        # over about buffer_size / copies (25 copies of a tail sample here).
        assert median_distance(1) == 1
        assert median_distance(1000) >= 1000 / 25

    def test_small_buffer_warns(self):
        data, counts = long_tail()
        with pytest.warns(UserWarning, match="buffer_size=50 is under 4x the largest mean repeat"):
            BalancedStream(data, label=1, strategy="balanced", class_counts=counts, buffer_size=50)


class TestOnline:
    def test_online_counts_after_warmup_reach_the_target(self):
        data, _counts = long_tail(n_head=4000)
        stream = BalancedStream(
            data, label=1, strategy="balanced", classes=range(K), warmup=3000, seed=0
        )
        got = served_classes(list(stream))
        np.testing.assert_allclose(got / got.sum(), 1 / K, atol=0.02)

    def test_class_unseen_in_warmup_is_named(self):
        data = [(i, 0) for i in range(50)] + [(i, 1) for i in range(50, 60)]
        stream = BalancedStream(data, label=1, classes=[0, 1, 2], warmup=20, seed=0)
        with pytest.warns(UserWarning, match=r"no sample in the first 20 \(warm-up\).*\[2\]"):
            list(stream)

    def test_count_labels_gives_the_class_counts(self):
        data, counts = long_tail()
        lc = count_labels(c for _, c in data)
        assert lc.counts.tolist() == counts.tolist()
        assert lc.n_samples == len(data)


class TestMultiLabel:
    def test_a_sample_repeats_by_its_rarest_label(self):
        # label 0 on every row, label 1 on 10 rows: the 10 rows repeat as label 1 asks.
        Y = np.zeros((1000, 2), dtype=int)
        Y[:, 0] = 1
        Y[:10, 1] = 1
        data = [(i, row) for i, row in enumerate(Y.tolist())]
        lc = count_labels((row for _, row in data), multilabel=True)
        stream = BalancedStream(
            data,
            label=1,
            multilabel=True,
            class_counts=lc,
            seed=0,
            buffer_size=4000,
            strategy=repeat_factor(0.1),
        )
        copies = np.bincount([i for i, _ in stream], minlength=1000)
        # r_1 = sqrt(0.1 / 0.01) = 3.16 for the rows with label 1; 1 for the others.
        assert copies[10:].tolist() == [1] * 990
        assert copies[:10].min() >= 3
        assert copies[:10].max() <= 4
        assert abs(copies[:10].mean() - np.sqrt(10)) < 0.5

    def test_balanced_multilabel_shares(self):
        rng = np.random.default_rng(0)
        Y = (rng.random((6000, 4)) < [0.6, 0.2, 0.05, 0.02]).astype(int)
        data = list(enumerate(Y.tolist()))
        lc = count_labels((r for _, r in data), multilabel=True)
        stream = BalancedStream(data, label=1, multilabel=True, class_counts=lc, seed=0)
        list(stream)
        shares = np.array(list(stream.stats()["served_shares"].values()))
        natural = lc.counts / lc.counts.sum()
        assert shares[3] > 3 * natural[3]
        assert shares[0] < natural[0]


class TestEpochsAndResume:
    def test_same_seed_same_pass_and_epochs_differ(self):
        data, counts = long_tail(n_head=500)
        a = BalancedStream(data, label=1, class_counts=counts, strategy="balanced", seed=3)
        b = BalancedStream(data, label=1, class_counts=counts, strategy="balanced", seed=3)
        first = list(a)
        assert first == list(b)
        assert a.epoch == 1
        assert list(a) != first
        b.set_epoch(0)
        assert list(b) == first

    def test_epoch_moves_at_first_item_not_at_iter(self):
        data, counts = long_tail(n_head=500)
        s = BalancedStream(data, label=1, class_counts=counts, seed=3)
        iter(s)
        assert s.epoch == 0
        next(iter(s))
        assert s.epoch == 1

    @pytest.mark.parametrize("stop", [1, 777, 2999])
    def test_resume_in_a_fresh_object_continues_exactly(self, stop):
        data, counts = long_tail(n_head=1000)

        def make():
            return BalancedStream(
                data,
                label=1,
                class_counts=counts,
                strategy="balanced",
                buffer_size=300,
                seed=5,
                length=3000,
            )

        ref = make()
        full = list(ref) + list(ref)  # epochs 0 and 1
        run = make()
        head = list(itertools.islice(iter(run), stop))
        resumed = make()
        resumed.load_state_dict(run.state_dict())
        assert head + list(resumed) + list(resumed) == full

    @pytest.mark.parametrize("kind", ["sequence", "iterable", "one-shot"])
    @pytest.mark.parametrize("stop", [1, 500, 1271])
    def test_resume_from_each_state_form(self, kind, stop):
        """Sequence: buffer as input positions; other iterables: buffer stored as samples."""
        data, counts = long_tail(n_head=600)

        def source():
            return {"sequence": data, "iterable": Reiterable(data), "one-shot": iter(data)}[kind]

        def make():
            return BalancedStream(
                source(),
                label=1,
                strategy="balanced",
                class_counts=counts,
                buffer_size=200,
                seed=4,
                chunk_size=97,
            )

        full = list(make())
        run = make()
        head = list(itertools.islice(iter(run), stop))
        state = pickle.loads(pickle.dumps(run.state_dict()))
        stored = state["pass"]["buffer"]
        assert ("samples" in stored) == (kind != "sequence")
        resumed = make()
        resumed.load_state_dict(state)
        assert head + list(resumed) == full
        assert resumed.stats()["served"] == len(full)

    def test_restore_reads_no_sample_before_the_position(self):
        """The cost of a restore does not grow with the position: nothing is replayed."""
        data, counts = long_tail(n_head=1000)
        reads = []

        def make(source):
            return BalancedStream(
                source,
                label=1,
                strategy="balanced",
                class_counts=counts,
                buffer_size=100,
                seed=0,
                chunk_size=64,
            )

        full = list(make(data))
        for stop in (100, len(full) - 200):
            run = make(data)
            head = list(itertools.islice(iter(run), stop))
            reads.clear()
            resumed = make(CountingSequence(data, reads))
            resumed.load_state_dict(run.state_dict())
            assert head + list(resumed) == full
            position = run.state_dict()["pass"]["position"]
            new_reads = [i for i in reads if i < position]  # read back by index: buffer, owed
            assert len(new_reads) <= 100 + 64 * 4
            assert min(i for i in reads if i >= position) == position

    def test_state_of_another_worker_part_is_refused(self):
        data, counts = long_tail(n_head=300)
        s = BalancedStream(data, label=1, class_counts=counts, seed=0, buffer_size=50)
        it = s.serve(0, 2)
        next(it)
        state = s.state_dict()
        other = BalancedStream(data, label=1, class_counts=counts, seed=0, buffer_size=50)
        other.load_state_dict(state)
        with pytest.raises(ValueError, match=r"part 0 of 2 .* loaded by part 1 of 2"):
            next(other.serve(1, 2))

    def test_state_from_another_seed_is_refused(self):
        data, counts = long_tail(n_head=300)
        a = BalancedStream(data, label=1, class_counts=counts, seed=1)
        b = BalancedStream(data, label=1, class_counts=counts, seed=2)
        with pytest.raises(ValueError, match="seed: saved 1, here 2"):
            b.load_state_dict(a.state_dict())


class TestBadInput:
    def test_unknown_label_is_named(self):
        with pytest.raises(ValueError, match="label 7, which is not one of the classes"):
            list(BalancedStream([(0, 0), (1, 7)], label=1, class_counts=[1, 1]))

    def test_wrong_multilabel_row(self):
        s = BalancedStream([(0, [1, 0, 1])], label=1, multilabel=True, class_counts=[1, 1])
        with pytest.raises(ValueError, match="0/1 vector of 2 labels"):
            list(s)

    def test_target_for_unknown_class(self):
        with pytest.raises(ValueError, match="names class 5"):
            BalancedStream([], label=1, class_counts=[3, 1], strategy={5: 0.5})

    def test_missing_label_is_named(self):
        with pytest.raises(ValueError, match="label None, which is not one of the classes"):
            list(BalancedStream([{"y": 0}, {"y": None}], label="y", class_counts=[1, 1]))

    def test_buffer_smaller_than_the_batch_names_both(self):
        with pytest.warns(UserWarning, match="buffer_size=32 is smaller than batch_size=64"):
            BalancedStream([], label=1, class_counts=[3, 1], buffer_size=32, batch_size=64)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            BalancedStream([], label=1, class_counts=[3, 1], buffer_size=64, batch_size=64)

    def test_multi_hot_row_without_multilabel(self):
        with pytest.raises(ValueError, match="multi-hot rows need multilabel=True"):
            list(BalancedStream([(0, [1, 0]), (1, [0, 1])], label=1, class_counts=[1, 1]))

    @pytest.mark.parametrize(
        ("change", "named"),
        [
            ({"strategy": "oversample"}, "strategy: saved"),
            ({"class_counts": [500, 60]}, "class_counts: saved"),
            ({"buffer_size": 77}, "buffer_size: saved 50, here 77"),
        ],
    )
    def test_state_of_other_plans_is_refused_with_the_difference(self, change, named):
        kw = {"label": 1, "class_counts": [400, 40], "buffer_size": 50, "seed": 0}
        kw["strategy"] = "balanced"
        data = [(i, int(i % 11 == 0)) for i in range(440)]
        run = BalancedStream(data, **kw)
        next(iter(run))
        other = BalancedStream(data, **{**kw, **change})
        with pytest.raises(ValueError, match=named):
            other.load_state_dict(run.state_dict())

    def test_one_shot_iterator_cannot_be_read_twice_for_length(self):
        s = BalancedStream(iter([(0, 0), (1, 1)]), label=1, class_counts=[1, 1], length=50)
        with pytest.raises(ValueError, match="one-shot iterator"):
            list(s)

    def test_stage_without_samples_is_not_iterable(self):
        with pytest.raises(TypeError, match="pipeline stage"):
            list(BalancedStream(None, label=1, class_counts=[1, 1]))

    def test_online_without_classes(self):
        with pytest.raises(ValueError, match="needs the classes declared"):
            BalancedStream([], label=1)


class TestEngineRepeatFactor:
    def test_single_label_targets_and_fixed_length(self):
        y = np.array([0] * 990 + [1] * 10)
        s = cb.BalancedSampler(y, "repeat_factor", seed=0)  # t = 0.001: nothing repeats
        assert len(s) == 1000
        s = cb.BalancedSampler(y, repeat_factor(0.1), seed=0)
        lengths = {len(s.plan(e)) for e in range(5)}
        assert lengths == {len(s)} == {990 + round(10 * np.sqrt(10))}
        counts = np.mean([s.target_counts(e) for e in range(50)], axis=0)
        np.testing.assert_allclose(counts, [990, 10 * np.sqrt(10)], rtol=0.05)

    def test_multilabel_rows_repeat_by_their_rarest_label(self):
        Y = np.zeros((1000, 2), dtype=int)
        Y[:, 0] = 1
        Y[:10, 1] = 1
        s = cb.BalancedSampler(Y, repeat_factor(0.1), multilabel=True, seed=0)
        copies = np.mean([np.bincount(s.plan(e), minlength=1000) for e in range(40)], axis=0)
        assert copies[10:].max() == 1
        assert abs(copies[:10].mean() - np.sqrt(10)) < 0.1

    def test_distributed_ranks_stay_in_step(self):
        torch_dist = pytest.importorskip("classbalance.torch.distributed")
        y = np.array([0] * 950 + [1] * 50)
        ranks = [
            torch_dist.DistributedBalancedBatchSampler(
                y, 16, num_replicas=2, rank=r, strategy=repeat_factor(0.2), seed=0
            )
            for r in (0, 1)
        ]
        for epoch in range(3):
            batches = []
            for s in ranks:
                s.set_epoch(epoch)
                batches.append(list(s))
            assert len(batches[0]) == len(batches[1]) == len(ranks[0])

    def test_refuses_alpha_and_exact(self):
        y = np.array([0] * 90 + [1] * 10)
        with pytest.raises(ValueError, match="drop `alpha` and `epoch_size`"):
            cb.BalancedSampler(y, "repeat_factor", epoch_size=50)
        with pytest.raises(ValueError, match="exact=True"):
            cb.BalancedSampler(y, "repeat_factor").plan(batch_size=4, exact=True)


class TestEngineResume:
    @pytest.mark.parametrize("strategy", ["oversample", "repeat_factor"])
    def test_core_sampler_resumes_at_the_next_index(self, strategy):
        y = np.array([0] * 700 + [1] * 30)
        ref = cb.BalancedSampler(y, strategy, seed=4)
        full = list(ref) + list(ref)
        run = cb.BalancedSampler(y, strategy, seed=4)
        head = list(itertools.islice(iter(run), 333))
        fresh = cb.BalancedSampler(y, strategy, seed=4)
        fresh.load_state_dict(run.state_dict())
        assert head + list(fresh) + list(fresh) == full

    def test_refuses_other_data(self):
        a = cb.BalancedSampler(np.array([0] * 9 + [1]), seed=0)
        b = cb.BalancedSampler(np.array([0] * 8 + [1] * 2), seed=0)
        with pytest.raises(ValueError, match="class_counts: saved"):
            b.load_state_dict(a.state_dict())


def test_no_warning_for_a_good_buffer():
    data, counts = long_tail(n_head=300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(BalancedStream(data, label=1, class_counts=counts, buffer_size=10_000, seed=0))
