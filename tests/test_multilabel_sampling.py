"""Multi-label plans: class-aware sampling on the engine, and every adapter serving them."""

from __future__ import annotations

import hashlib
import json
import pickle
import subprocess
import sys

import numpy as np
import pytest

import classbalance as cb
from classbalance import sampling
from classbalance.multilabel import encode_multilabel


def long_tailed(n=600, k=6, seed=0):
    """Multi-hot labels with label l present at rate 0.5 / 2**l; some rows unlabeled."""
    rng = np.random.default_rng(seed)
    rates = 0.5 / 2.0 ** np.arange(k)
    Y = (rng.random((n, k)) < rates).astype(np.uint8)
    Y[:20, -1] = 1  # the rarest label has at least 20 positives
    return Y


def positives(Y, label):
    return set(np.flatnonzero(Y[:, label]).tolist())


class TestPlans:
    def test_positives_grouped_by_label_in_row_order(self, monkeypatch):
        """The counting sort over blocks of rows equals a per-label nonzero, for many blocks
        and for more than 256 labels."""
        rng = np.random.default_rng(1)
        for n, k, block in [(1000, 5, 64), (257, 300, 50), (70, 3, 1 << 16)]:
            monkeypatch.setattr(sampling, "_PAIR_ROWS", block)
            Y = (rng.random((n, k)) < 0.1).astype(np.uint8)
            Y[0, :] = 1
            counts = Y.sum(0, dtype=np.int64)
            order, unlabeled = sampling._group_positives(Y, counts, np.int32)
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


class TestBadInput:
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


class TestAdapters:
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


def test_same_plans_in_a_fresh_process(tmp_path):
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
